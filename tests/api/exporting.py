"""A small world of every exportable kind, for the export tests."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from domain.enums import Role
from domain.records import User
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.contacts import create_contact
from domain.services.opportunities import create_opportunity


@dataclass
class World:
    """Who and what the export tests read."""

    ops: User
    marketing: User
    sdr: User
    leads: list[Any]
    accounts: list[Any]
    contacts: list[Any]
    opportunities: list[Any]


async def build_world(make: Any) -> World:
    """Two accounts, three contacts, three deals, four leads (one hostile)."""
    ops = await make.user(Role.SALES_OPS)
    marketing = await make.user(Role.MARKETING_OPS)
    sdr = await make.user(Role.SDR)
    actor = Actor(ops.id, ops.role)
    leads = [
        await make.lead(by=marketing, title="VP Engineering", number_of_employees=5000),
        await make.lead(by=marketing, owner_id=sdr.id, phone="+49 30 1234567"),
        await make.lead(
            by=marketing,
            first_name='=HYPERLINK("http://evil.example","x")',
            company="@SUM(1+1)",
            title="-2+3+cmd|' /C calc'!A0",
            country="Deutschland",
        ),
        await make.lead(by=marketing, company="Globex", initial_source="Trade Show"),
    ]
    accounts = [
        await make.run(
            lambda s: create_account(
                {
                    "name": "Acme",
                    "number_of_employees": 2500,
                    "annual_revenue": Decimal("1250000.50"),
                    "billing_country": "United States",
                    "billing_state": "CA",
                    "owner_id": ops.id,
                },
                session=s,
                actor=actor,
                domains=["acme.io", "acme.com"],
            )
        ),
        await make.run(
            lambda s: create_account(
                {"name": "Initech", "is_named": True}, session=s, actor=actor
            )
        ),
    ]
    contacts = []
    for n, account in enumerate([accounts[0], accounts[0], accounts[1]]):
        values = {
            "last_name": f"Doe{n}",
            "first_name": "Jane",
            "email": f"jane{n}@contact.example",
            "account_id": account.id,
            "initial_source": "Web Direct",
        }
        contacts.append(
            await make.run(
                lambda s, v=values: create_contact(v, session=s, actor=actor)
            )
        )
    opportunities = []
    for n, (account, amount) in enumerate(
        [(accounts[0], "12000.00"), (accounts[0], "5.25"), (accounts[1], "900")]
    ):
        values = {
            "name": f"Deal {n}",
            "account_id": account.id,
            "incremental_acv": Decimal(amount),
            "owner_id": ops.id,
        }
        opportunities.append(
            await make.run(
                lambda s, v=values: create_opportunity(v, session=s, actor=actor)
            )
        )
    return World(ops, marketing, sdr, leads, accounts, contacts, opportunities)


def read_csv(path: Path | bytes) -> list[dict[str, str]]:
    """The rows of an export, by header."""
    data = path if isinstance(path, bytes) else path.read_bytes()
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
