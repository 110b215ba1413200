"""Account matching (D7, D8): which account a person belongs to, by the email's
domain first, then the company name.

The rule is pure (``domain.rules.matching.match_account``); this module reads
the candidates it chooses among, for one person or many in three statements.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
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
    """``account_matching`` for many (email, company) pairs at once: three
    statements whatever their number."""
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
    if all_suffixes:
        for account_id, d in await session.execute(
            select(col(AccountDomain.account_id), col(AccountDomain.domain)).where(
                AccountDomain.domain.in_(all_suffixes)  # type: ignore[attr-defined]
            )
        ):
            by_domain.setdefault(d, []).append(account_id)
    by_name: dict[str, list[int]] = {}
    if all_names:
        for found_id, normalized in await session.execute(
            select(col(Account.id), col(Account.normalized_name)).where(
                Account.normalized_name.in_(all_names)  # type: ignore[attr-defined]
            )
        ):
            by_name.setdefault(normalized, []).append(found_id)  # type: ignore[arg-type]
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
    ids = sorted({i for i in matched if i is not None})
    accounts = (
        {
            a.id: a
            for a in (
                await session.execute(select(Account).where(Account.id.in_(ids)))  # type: ignore[union-attr]
            ).scalars()
        }
        if ids
        else {}
    )
    return [accounts[i] if i is not None else None for i in matched]
