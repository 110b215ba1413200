"""Accounts: create and update, keeping domains and derived fields true (D1, D5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import ErrorCode, RecordType
from domain.errors import Refused, refuse_if
from domain.records import Account, AccountDomain
from domain.rules.matching import domain_refusals, normalize_company_name, web_domain
from domain.rules.permissions import (
    Actor,
    Operation,
    may_create,
    may_update_record,
)
from domain.rules.segmentation import RegionTable, region_for, sales_segment_for
from domain.rules.validation import Check, max_length, money, non_negative, required
from domain.services.custom_fields import with_custom_fields
from domain.services.lead_profile import refresh_linked_leads
from domain.services.loading import (
    apply,
    check_values,
    check_version,
    load,
    require_user,
)
from domain.services.ownership import owner_of, record_owner_change
from domain.services.rule_tables import rule_tables
from domain.sqltypes import utcnow

ACCOUNT_RULES: dict[str, list[Check]] = {
    "name": [required, max_length(255)],
    "number_of_employees": [non_negative],
    "annual_revenue": [money],
    # Columns that cannot be null: an explicit null is refused, not stored.
    "type": [required],
    "is_public_sector": [required],
    "is_named": [required],
}


def refresh_account_derived(account: Account, regions: RegionTable) -> None:
    """Recompute segment, region (by the region table) and the normalized name
    from their inputs (D5)."""
    account.sales_segment = sales_segment_for(
        account.number_of_employees, is_named=account.is_named
    )
    account.region = region_for(
        account.billing_country,
        account.billing_state,
        is_public_sector=account.is_public_sector,
        table=regions,
    )
    account.normalized_name = normalize_company_name(account.name)


async def _set_domains(
    session: AsyncSession, account: Account, domains: Sequence[str]
) -> None:
    given = {
        index: web_domain(d.lstrip("@"))
        for index, d in enumerate(domains)
        if d and d.strip()
    }
    cleaned = sorted({d for d in given.values() if d})
    taken = {
        row.domain: row.account_id
        for row in (
            await session.execute(
                select(AccountDomain).where(
                    AccountDomain.domain.in_(cleaned),  # type: ignore[attr-defined]
                    col(AccountDomain.account_id) != account.id,
                )
            )
        ).scalars()
    }
    refuse_if(domain_refusals(domains, given, taken))
    await session.execute(
        delete(AccountDomain).where(AccountDomain.account_id == account.id)  # type: ignore[arg-type]
    )
    session.add_all(AccountDomain(account_id=account.id, domain=d) for d in cleaned)  # type: ignore[arg-type]


async def _check_references(
    session: AsyncSession, values: Mapping[str, Any], account_id: int | None
) -> None:
    await require_user(session, values.get("owner_id"), "ownerId")
    parent_id = values.get("parent_account_id")
    if parent_id is not None:
        if parent_id == account_id:
            raise Refused.one(
                ErrorCode.INVALID_INPUT,
                "An account cannot be its own parent.",
                "parentAccountId",
            )
        parent = await load(session, Account, parent_id, field="parentAccountId")
        # Walk up: the new parent must not descend from this account (no cycles).
        seen = {parent.id}
        while parent.parent_account_id is not None and account_id is not None:
            if parent.parent_account_id == account_id:
                raise Refused.one(
                    ErrorCode.INVALID_INPUT,
                    "The parent account is below this account in the hierarchy.",
                    "parentAccountId",
                )
            if parent.parent_account_id in seen:
                break
            parent = await load(session, Account, parent.parent_account_id)
            seen.add(parent.id)


async def create_account(
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    domains: Sequence[str] = (),
) -> Account:
    """Create an account with its domains; segment and region are derived."""
    check_values(values, ACCOUNT_RULES, required_fields=("name",))
    regions = (await rule_tables(session, lock=True)).regions
    await _check_references(session, values, None)
    refuse_if(may_create(actor, Operation.CREATE_ACCOUNT, values.get("owner_id")))
    values = await with_custom_fields(session, RecordType.ACCOUNT, values)
    account = Account(**values, normalized_name="")
    refresh_account_derived(account, regions)
    session.add(account)
    await session.flush()
    await _set_domains(session, account, domains)
    await session.flush()
    return account


async def update_account(
    account_id: int,
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    domains: Sequence[str] | None = None,
    expected_version: int | None = None,
) -> Account:
    """Change an account; derived fields follow their inputs."""
    # The tables first, then the account's row (see rule_tables on lock order).
    regions = (await rule_tables(session, lock=True)).regions
    account = await load(session, Account, account_id, lock=True)
    check_version(account, expected_version)
    previous = await owner_of(session, account.owner_id)
    changes_owner = "owner_id" in values and values["owner_id"] != account.owner_id
    refuse_if(
        may_update_record(
            actor,
            previous,
            values.get("owner_id"),
            "account",
            changes_owner=changes_owner,
        )
    )
    check_values(values, ACCOUNT_RULES)
    await _check_references(session, values, account.id)
    values = await with_custom_fields(
        session, RecordType.ACCOUNT, values, current=account.custom_fields
    )
    derived = (account.sales_segment, account.region)
    apply(account, values)
    refresh_account_derived(account, regions)
    if (account.sales_segment, account.region) != derived:
        # Linked leads take the account's segment and region (D5).
        await refresh_linked_leads(session, account, regions)
    if domains is not None:
        await _set_domains(session, account, domains)
        account.updated_at = utcnow()  # domains count as a change (new version)
    await session.flush()
    if changes_owner:
        await record_owner_change(
            session,
            record_type=RecordType.ACCOUNT,
            record_id=account.id,  # type: ignore[arg-type]
            actor=actor,
            previous=previous,
            new_owner_id=account.owner_id,
        )
    return account


async def account_domains(
    session: AsyncSession, account_ids: Sequence[int]
) -> dict[int, list[str]]:
    """The domains of each account, sorted."""
    rows = (
        await session.execute(
            select(col(AccountDomain.account_id), col(AccountDomain.domain))
            .where(AccountDomain.account_id.in_(account_ids))  # type: ignore[attr-defined]
            .order_by(AccountDomain.domain)
        )
    ).all()
    found: dict[int, list[str]] = {i: [] for i in account_ids}
    for account_id, domain in rows:
        found[account_id].append(domain)
    return found
