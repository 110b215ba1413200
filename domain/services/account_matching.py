"""Account matching (D7, D8): which account a person belongs to, by the email's
domain first, then the company name.

The rule is pure (``domain.rules.matching.match_account``); this module reads
the candidates it chooses among, for one person or many in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import String, bindparam, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.records import Account, AccountDomain, Lead
from domain.rules.matching import (
    AccountCandidate,
    email_domain,
    is_free_mail,
    match_account,
    normalize_company_name,
)
from domain.services.rule_tables import rule_tables


async def matched_account(session: AsyncSession, lead: Lead) -> Account | None:
    """The account a lead belongs to: email domain first, then company name."""
    return await account_matching(session, lead.email, lead.company)


async def account_matching(
    session: AsyncSession, email: str | None, company: str | None = None
) -> Account | None:
    """The account of an email's domain (never a free-mail one: the scoring
    table's list), then of a company name (``domain.rules.matching.match_account``)."""
    return (await accounts_matching(session, [(email, company)]))[0]


async def accounts_matching(
    session: AsyncSession, people: Sequence[tuple[str | None, str | None]]
) -> list[Account | None]:
    """``account_matching`` for many (email, company) pairs at once: one
    statement whatever their number (none when no pair has a company domain
    or a name)."""
    free_mail = (await rule_tables(session)).scoring.free_mail_domains
    wanted: list[tuple[list[str], str]] = []
    for email, company in people:
        domain = email_domain(email)
        suffixes = []
        if domain and not is_free_mail(domain, free_mail):
            parts = domain.split(".")
            suffixes = [".".join(parts[i:]) for i in range(len(parts) - 1)]
        wanted.append((suffixes, normalize_company_name(company) if company else ""))
    all_suffixes = sorted({d for suffixes, _ in wanted for d in suffixes})
    all_names = sorted({name for _, name in wanted if name})
    by_domain: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    accounts: dict[int, Account] = {}
    statement = _candidates_statement(bool(all_suffixes), bool(all_names))
    if statement is not None:
        given = {"domains": all_suffixes, "names": all_names}
        rows = await session.execute(statement, {k: v for k, v in given.items() if v})
        for account, domain, name in rows:
            accounts[account.id] = account
            if domain is not None:
                by_domain.setdefault(domain, []).append(account.id)
            else:
                by_name.setdefault(name, []).append(account.id)
    matched: list[int | None] = []
    for (email, company), (suffixes, name) in zip(people, wanted, strict=True):
        candidates: dict[int, AccountCandidate] = {}
        for d in suffixes:
            for account_id in by_domain.get(d, ()):
                prior = candidates.get(account_id)
                candidates[account_id] = AccountCandidate(
                    id=account_id,
                    domains=(*(prior.domains if prior else ()), d),
                    normalized_name=prior.normalized_name if prior else "",
                )
        for account_id in by_name.get(name, ()) if name else ():
            prior = candidates.get(account_id)
            candidates[account_id] = AccountCandidate(
                id=account_id,
                domains=prior.domains if prior else (),
                normalized_name=name,
            )
        match = match_account(
            email, company, list(candidates.values()), free_mail_domains=free_mail
        )
        matched.append(match.account_id if match else None)
    return [accounts[i] if i is not None else None for i in matched]


@lru_cache(maxsize=4)
def _candidates_statement(domains: bool, names: bool) -> Any:
    """The candidate accounts, whole, each with what it was found by: a domain
    (``:domains``, the emails' domains and their parent domains) or a
    normalized name (``:names``); an account found both ways comes twice. One
    round trip instead of three (domains, names, then the chosen accounts);
    built once per shape."""
    parts: list[Any] = []
    if domains:
        parts.append(
            select(
                col(AccountDomain.account_id).label("account_id"),
                col(AccountDomain.domain).label("domain"),
                null().cast(String).label("name"),
            ).where(col(AccountDomain.domain).in_(bindparam("domains", expanding=True)))
        )
    if names:
        parts.append(
            select(
                col(Account.id).label("account_id"),
                null().cast(String).label("domain"),
                col(Account.normalized_name).label("name"),
            ).where(
                col(Account.normalized_name).in_(bindparam("names", expanding=True))
            )
        )
    if not parts:
        return None
    either: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    found = either.subquery("found")
    return select(Account, found.c.domain, found.c.name).join(
        found, found.c.account_id == Account.id
    )
