"""The demo data set: a deterministic, realistic sales pipeline to explore the API.

``generate(engine)`` fills an empty, migrated database with users (and the
members of every routing pool, D8), campaigns, accounts (with domains,
hierarchy and team members), contacts, opportunities (with contact roles),
leads with their engagements and activities, the TransitionRecord history that
led every lead and opportunity to where it is, and the funnel entry (D11) of
every lead and of every opportunity created without a lead, stamped from that
history. The same ``seed`` (and ``now``) always gives the same data, on SQLite
and on PostgreSQL.

Volumes at ``scale=1``: 31 users (20 routing pool members), 22 campaigns, 200
accounts, ~400 contacts, 500 opportunities, 2,000 leads (with ~2,900
engagements, ~1,500 activities, ~5,300 transition records and 2,400 funnel
entries). Everything but users and campaigns grows linearly with ``scale``
(users by ``5 * log2(scale)``); ``scale=500`` gives 1,000,000 leads and 250,000
opportunities (8 million rows).

The package, by what each part does:

- ``catalog``: the names drawn from (people, companies, places, sources,
  campaigns) and the spelling of unique emails;
- ``plan``: which status or stage each record ends in, and the path (with
  time per step) that led it there;
- ``directory``: users, campaigns, accounts, lead-only companies, contacts;
- ``pools``: who takes turns in each routing pool (from the routing table);
- ``leads`` and ``opportunities``: the records, their history, activities
  and funnel entries, coherent with the rules (see each module);
- ``load``: the bulk load (one transaction, chunks, COPY on PostgreSQL);
- ``run``: what the phases of one run share (random streams, ids).

Decisions:

- Campaign attribution (D11): a lead's first-touch campaign is that of its
  first engagement naming one; a lead without engagements came from a
  campaign's list half the time. A converted lead's opportunity takes its
  campaign; an opportunity created without a lead has a campaign of its
  contact's initial source 70% of the time.
- Each lead is drawn from its own random stream (``seed`` and its index), so
  the converted leads can be drawn ahead of the contacts and opportunities
  they became, and drawn again, identically, when the leads are written.
- Converted leads' engagements and activities also point at the contact they
  became (D7: they stay reachable from it).
- Routing pools: members are the users whose role and region fit the pool,
  read from the routing table (see ``pools``); three users exist so that every
  pool has someone at work. A routed demo lead went to whom the routing rule
  (``route_lead`` on all its engagements, as ``routeLead`` decides) names, or
  to a working member (active) of the pool it names, at random.
- Lead times: a known lead raises its first hand hours to weeks after it was
  created (a form creates it at that moment 35 % of the time); 70 % of MQL
  paths raise a hand once before the request that crosses the threshold;
  other steps are drawn log-uniformly (``plan.LEAD_STEP``), so a 0 s step
  between lead milestones is a real jump at one instant.
- No outbox events are written: they describe changes made through the
  service, and the demo history is not one.
- Emails are lower-case and unique among leads and contacts, except that a
  converted lead and its contact share one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from sqlalchemy import Engine

from tools.demo.catalog import DEMO_ADMIN_EMAIL, SALES_ADMIN_NAME
from tools.demo.directory import Directory
from tools.demo.leads import Leads
from tools.demo.load import Progress, Sink, write
from tools.demo.opportunities import Opportunities
from tools.demo.plan import opportunity_plans
from tools.demo.run import Run

__all__ = ["DEMO_ADMIN_EMAIL", "SALES_ADMIN_NAME", "DemoSummary", "generate"]

MAX_SCALE = 1_000


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """How many rows of each table the demo data set wrote, and how long it took."""

    users: int = 0
    routing_pool_members: int = 0
    campaigns: int = 0
    accounts: int = 0
    account_domains: int = 0
    account_team_members: int = 0
    contacts: int = 0
    opportunities: int = 0
    opportunity_contact_roles: int = 0
    leads: int = 0
    engagements: int = 0
    activities: int = 0
    transition_records: int = 0
    funnel_entries: int = 0
    seconds: float = field(default=0.0, compare=False)

    @property
    def rows(self) -> int:
        """All rows written."""
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "seconds")

    def __str__(self) -> str:
        counts = ", ".join(
            f"{getattr(self, f.name):,} {f.name.replace('_', ' ')}"
            for f in fields(self)
            if f.name != "seconds"
        )
        return f"{counts} ({self.rows:,} rows in {self.seconds:.1f} s)"


def generate(
    engine: Engine,
    *,
    scale: float = 1.0,
    seed: int = 7,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill an empty, migrated database with the demo data set; return the counts.

    Raises ValueError when the database is not migrated, already holds data,
    or ``scale`` is not in (0, 1000].
    """
    if not (0 < scale <= MAX_SCALE):
        raise ValueError(f"scale must be above 0 and at most {MAX_SCALE}, got {scale}")
    started = time.perf_counter()
    if now is None:
        now = datetime.now(UTC).replace(microsecond=0)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)

    counts = write(
        engine, lambda sink: _build(sink, scale, seed, now, progress), progress
    )
    return DemoSummary(
        **{f.name: counts[f.name] for f in fields(DemoSummary) if f.name in counts},
        seconds=time.perf_counter() - started,
    )


def _build(
    sink: Sink, scale: float, seed: int, now: datetime, progress: Progress | None
) -> None:
    """Draw the data set and write it, phase by phase (parents first)."""
    run = Run(sink, seed, now, progress)
    directory = Directory(run, scale)
    leads = Leads(run, directory, scale)
    opportunities = Opportunities(run, directory)
    directory.make_users()
    directory.make_routing_pools()
    directory.make_campaigns()
    directory.make_accounts()
    directory.make_companies()
    converted = leads.plan_leads()
    directory.make_contacts(converted, leads.converted_rows)
    opportunities.make_opportunities(
        opportunity_plans(
            run.rng("opportunity-plan"),
            max(20, round(500 * scale)),
            converted,
            directory.acc_created,
            run.now_ts,
        )
    )
    leads.make_leads()
