"""Who the leads and deals belong to: users, campaigns, accounts (with domains,
hierarchy and team members), their contacts, and the companies leads work for
that are not accounts (yet)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from domain.enums import (
    AccountType,
    Region,
    Role,
    SalesSegment,
)
from domain.lifecycle.opportunity import LARGE_SEGMENTS
from domain.rules.matching import normalize_company_name
from domain.rules.segmentation import region_for, sales_segment_for
from tools.demo.catalog import (
    ACCOUNT_SOURCES,
    BASE_USERS,
    CAMPAIGN_DEFS,
    CONTACT_SOURCES,
    CONTACT_TITLES,
    DEMO_ADMIN_EMAIL,
    EMAIL_DOMAIN,
    EXTRA_REGIONS,
    EXTRA_ROLES,
    FIRST_NAMES,
    LAST_NAMES,
    LEGAL_SUFFIXES,
    LOCATIONS,
    MAVEN_ACCOUNTS,
    NAME_PREFIXES,
    NAME_SPACE,
    NAME_SUFFIXES,
    NAME_WORDS,
    PUBLIC_PLACES,
    PUBLIC_UNITS,
    SOURCE_CAMPAIGN_ALIASES,
    SOURCE_DEFS,
    SPARE_REP_NAMES,
    STREETS,
    email_local,
    slug,
)
from tools.demo.draw import DAY, Picker, log_uniform, money, utc_of
from tools.demo.load import (
    ACCOUNT_DOMAINS,
    ACCOUNTS,
    CAMPAIGNS,
    CHUNK,
    CONTACTS,
    POOL_MEMBERS,
    TEAM_MEMBERS,
    USERS,
)
from tools.demo.plan import Converted
from tools.demo.pools import member_rows, pool_members
from tools.demo.run import Run

ACCOUNT_HISTORY_DAYS = 6 * 365


@dataclass(slots=True)
class _Loc:
    """A place of the catalog with the regions it falls in (D5)."""

    country: str
    state: str | None
    city: str
    postal: str
    phone: str
    tld: str
    region: Region | None
    public_region: Region | None
    is_us: bool


@dataclass(slots=True)
class Company:
    """An account or a lead-only company, as leads see it."""

    name: str
    domain: str
    employees: int | None
    loc: int
    public: bool
    named: bool = False
    account_id: int | None = None
    owner_id: int | None = None


@dataclass(slots=True)
class _UserRow:
    """A user as the other phases see it."""

    id: int
    name: str
    role: Role
    region: Region | None
    active: bool


class Directory:
    """Draws and writes the users, campaigns, accounts, companies and contacts."""

    def __init__(self, run: Run, scale: float) -> None:
        self.rng = run.rng
        self.now_ts = run.now_ts
        self.progress = run.progress
        self.sink = run.sink
        self.unique_email = run.emails.unique
        self.scale = scale
        self.n_accounts = max(10, round(200 * scale))
        self.n_companies = min(
            max(50, round(300 * scale)), NAME_SPACE - self.n_accounts - 1
        )
        if self.n_accounts + 1_000 > NAME_SPACE:
            raise ValueError(f"scale {scale} is too large for the company names")
        self.locs = [
            _Loc(
                country=country,
                state=state,
                city=city,
                postal=postal,
                phone=phone,
                tld=tld,
                region=region_for(country, state),
                public_region=region_for(country, state, is_public_sector=True),
                is_us=country == "United States",
            )
            for country, state, city, postal, phone, tld, _w in LOCATIONS
        ]
        self.pick_loc = Picker([(i, row[-1]) for i, row in enumerate(LOCATIONS)])
        self.us_locs = [i for i, loc in enumerate(self.locs) if loc.is_us]
        self.loc_by_country: dict[str, int] = {}
        for i, loc in enumerate(self.locs):
            self.loc_by_country.setdefault(loc.country, i)
        self.domain_id = 0
        self.team_id = 0

    # -- users ------------------------------------------------------------------

    def make_users(self) -> None:
        """The base users, and more reps as the scale grows."""
        rng = self.rng("users")
        specs: list[tuple[str, Role, Region | None, bool, int]] = list(BASE_USERS)
        extra = round(5 * math.log2(self.scale)) if self.scale > 1 else 0
        taken = {name for name, *_ in specs}
        spare = [n for n in SPARE_REP_NAMES if n not in taken]
        for k in range(extra):
            if k < len(spare):
                name = spare[k]
            else:
                while True:
                    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                    if name not in taken:
                        break
            taken.add(name)
            role = EXTRA_ROLES[k % len(EXTRA_ROLES)]
            region: Region | None = EXTRA_REGIONS[k % len(EXTRA_REGIONS)]
            specs.append((name, role, region, rng.random() > 0.05, 0))
        rows = []
        self.users: list[_UserRow] = []
        emails: set[str] = set()
        for i, (name, role, region, active, ooo_days) in enumerate(specs, start=1):
            if role is Role.ADMIN:
                email = DEMO_ADMIN_EMAIL
            else:
                first, last = name.split(" ", 1)
                email = f"{email_local(first, last, 0)}@{EMAIL_DOMAIN}"
            assert email not in emails, email
            emails.add(email)
            created = self.now_ts - int((400 + rng.random() * 700) * DAY)
            ooo = self.now_ts + ooo_days * DAY if ooo_days else None
            rows.append(
                {
                    "id": i,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "name": name,
                    "email": email,
                    "role": role,
                    "region": region,
                    "active": active,
                    "out_of_office_until": ooo if ooo else None,
                }
            )
            self.users.append(_UserRow(i, name, role, region, active))
        self.user_by_id = {u.id: u for u in self.users}
        self.sales_admin_id = next(
            u.id for u in self.users if u.role is Role.SALES_ADMIN
        )
        self.marketing_ops_id = next(
            u.id for u in self.users if u.role is Role.MARKETING_OPS
        )
        self.sales_ops_id = next(u.id for u in self.users if u.role is Role.SALES_OPS)
        self.progress("users", 0, len(rows))
        self.sink.insert(USERS, rows)
        self.progress("users", len(rows), len(rows))
        self.field_sales_active = {
            u.id
            for u in self.users
            if u.active and u.role in (Role.AE, Role.SAL, Role.AM, Role.RD)
        }
        self.user_role = {u.id: u.role for u in self.users}

    def make_routing_pools(self) -> None:
        """Every routing pool (D8) filled with the users who fit it (see ``pools``)."""
        self.pool_members = pool_members((u.id, u.role, u.region) for u in self.users)
        rows = member_rows(self.pool_members)
        self.progress("routing pools", 0, len(rows))
        self.sink.insert(POOL_MEMBERS, rows)
        self.progress("routing pools", len(rows), len(rows))

    def pool(self, roles: Sequence[Role], region: Region | None) -> list[int]:
        """Active users of these roles in the region, else anywhere, else anyone."""
        for want_region in (True, False):
            for active_only in (True, False):
                ids = [
                    u.id
                    for u in self.users
                    if u.role in roles
                    and (u.active or not active_only)
                    and (not want_region or u.region == region)
                ]
                if ids:
                    return ids
        return [self.sales_ops_id]

    # -- campaigns --------------------------------------------------------------

    def make_campaigns(self) -> None:
        """The campaigns of the catalog, dated back from now."""
        rng = self.rng("campaigns")
        rows = []
        self.webcasts: list[tuple[int, int]] = []  # (start ts, id)
        self.events: list[tuple[int, int]] = []
        self.source_campaigns: dict[str, list[int]] = {}
        for i, (key, title, channel, low, high, ago, days) in enumerate(
            CAMPAIGN_DEFS, start=1
        ):
            start = self.now_ts - ago * DAY
            start_day = utc_of(start).date()
            if key == "webcast":
                name = f"{start_day:%Y%m%d}_{title}"
                self.webcasts.append((start, i))
            elif key == "event":
                name = f"{title} {start_day.year}"
                self.events.append((start, i))
            else:
                name = title
                self.source_campaigns.setdefault(key, []).append(i)
            end_day = start_day + timedelta(days=days - 1) if days else None
            spend = money(rng.randrange(low * 100, high * 100))
            rows.append(
                {
                    "id": i,
                    "version": 1,
                    "created_at": start - 30 * DAY,
                    "updated_at": start - 30 * DAY,
                    "name": name,
                    "channel": channel,
                    "spend": spend,
                    "start_date": start_day,
                    "end_date": end_day,
                }
            )
        self.webcasts.sort()
        self.events.sort()
        self.progress("campaigns", 0, len(rows))
        self.sink.insert(CAMPAIGNS, rows)
        self.progress("campaigns", len(rows), len(rows))
        self.campaign_for_source: dict[str, list[int]] = {}
        for name, *_ in SOURCE_DEFS:
            key = SOURCE_CAMPAIGN_ALIASES.get(name, name)
            self.campaign_for_source[name] = self.source_campaigns.get(key, [])
        self.newsletter_campaigns = self.source_campaigns.get("Newsletter", [])

    # -- accounts ---------------------------------------------------------------

    def company_name(self, index: int) -> tuple[str, str, str]:
        """(brand and word, domain stem, industry) of generated company ``index``."""
        k = self.name_order[index]
        word, industry = NAME_WORDS[k % len(NAME_WORDS)]
        k //= len(NAME_WORDS)
        brand = (
            NAME_PREFIXES[k // len(NAME_SUFFIXES)]
            + NAME_SUFFIXES[k % len(NAME_SUFFIXES)]
        )
        return f"{brand} {word}", slug(brand + word), industry

    def make_accounts(self) -> None:
        """Accounts with their domains, hierarchy, owners and team members."""
        rng = self.rng("accounts")
        self.name_order = self.rng("names").sample(
            range(NAME_SPACE), self.n_accounts + self.n_companies
        )
        rand = rng.random
        n = self.n_accounts
        now_ts = self.now_ts
        first_ts = now_ts - ACCOUNT_HISTORY_DAYS * DAY
        span = ACCOUNT_HISTORY_DAYS * DAY - 7 * DAY
        self.acc_created: list[int] = []
        self.accounts: list[Company] = []
        self.acc_segment: list[SalesSegment] = []
        self.acc_type: list[AccountType] = []
        self.acc_region: list[Region | None] = []
        self.large_accounts: list[int] = []
        rows: list[dict[str, Any]] = []
        domain_rows: list[dict[str, Any]] = []
        team_rows: list[dict[str, Any]] = []
        domains: set[str] = set()
        maven = {name: i for i, (name, *_r) in enumerate(MAVEN_ACCOUNTS[:n])}
        public_count = 0
        pick_type = Picker(
            [
                (AccountType.PROSPECT, 50),
                (AccountType.CUSTOMER, 28),
                (AccountType.FORMER_CUSTOMER, 6),
                (AccountType.PARTNER, 3),
                (AccountType.RESELLER, 2),
                (AccountType.INTEGRATOR, 1),
                (AccountType.PROSPECT_CE_USER, 10),
            ]
        )
        self.progress("accounts", 0, n)
        for a in range(n):
            account_id = a + 1
            created = first_ts + int(span * ((a + rand()) / n) ** 0.9)
            self.acc_created.append(created)
            parent_id = None
            public = False
            if a < len(MAVEN_ACCOUNTS):
                name, industry, revenue, employees_, country, parent = MAVEN_ACCOUNTS[a]
                employees: int | None = employees_
                loc = (
                    self.us_locs[int(rand() * len(self.us_locs))]
                    if country == "United States"
                    else self.loc_by_country[country]
                )
                stem = slug(name)
                tld = ".com"
                if parent is not None and parent in maven:
                    parent_id = maven[parent] + 1
                annual: Decimal | None = money(round(revenue * 100_000_000))
                account_type = (
                    AccountType.CUSTOMER if rand() < 0.5 else pick_type(rand())
                )
                if account_type is AccountType.PROSPECT_CE_USER:
                    account_type = AccountType.PROSPECT
            else:
                loc = self.pick_loc(rand())
                public = self.locs[loc].is_us and rand() < 0.07
                if public:
                    place = PUBLIC_PLACES[public_count % len(PUBLIC_PLACES)]
                    unit_i = public_count // len(PUBLIC_PLACES)
                    unit = PUBLIC_UNITS[unit_i % len(PUBLIC_UNITS)]
                    series = unit_i // len(PUBLIC_UNITS)
                    name = f"{place}{unit}" + (
                        f" District {series + 1}" if series else ""
                    )
                    stem = slug(
                        name.replace("US Department of", "").replace("City of", "")
                    )
                    tld = ".gov"
                    industry = "Government"
                    public_count += 1
                else:
                    base, stem, industry = self.company_name(a)
                    name = base + LEGAL_SUFFIXES[int(rand() * len(LEGAL_SUFFIXES))]
                    tld = self.locs[loc].tld if rand() < 0.5 else ".com"
                u = rand()
                if u < 0.12:
                    employees = None
                elif u < 0.47:
                    employees = int(log_uniform(rand(), 1, 100))
                elif u < 0.80:
                    employees = int(log_uniform(rand(), 100, 2_000))
                else:
                    employees = int(log_uniform(rand(), 2_000, 120_000))
                annual = (
                    money(employees * int(80_000 + rand() * 320_000) * 100)
                    if employees is not None
                    else None
                )
                account_type = pick_type(rand())
                if public and account_type is AccountType.PROSPECT_CE_USER:
                    account_type = AccountType.PROSPECT
                if self.large_accounts and rand() < 0.07:
                    parent_id = (
                        self.large_accounts[int(rand() * len(self.large_accounts))] + 1
                    )
            named = (
                employees is not None and employees >= 2_000 and rand() < 0.25
            ) and account_type is not AccountType.PROSPECT_CE_USER
            segment = sales_segment_for(employees, is_named=named)
            location = self.locs[loc]
            region = location.public_region if public else location.region
            if segment in LARGE_SEGMENTS:
                self.large_accounts.append(a)
            # owner: the Sales Admin placeholder for CE users and some orphans
            ce = account_type is AccountType.PROSPECT_CE_USER
            source = "CE Download" if ce else ACCOUNT_SOURCES[int(rand() * 7)]
            u = rand()
            if ce or u < 0.04:
                owner: int | None = self.sales_admin_id
            elif u < 0.06:
                owner = None
            else:
                if segment is SalesSegment.STRATEGIC or (
                    segment is SalesSegment.LARGE and rand() < 0.5
                ):
                    roles: tuple[Role, ...] = (Role.SAL,)
                elif account_type is AccountType.CUSTOMER and rand() < 0.4:
                    roles = (Role.AM,)
                elif rand() < 0.03:
                    roles = (Role.RD,)
                else:
                    roles = (Role.AE,)
                pool = self.pool(roles, region)
                owner = pool[int(rand() * len(pool))]
            domain = stem + tld
            if domain in domains:
                domain = f"{stem}-{account_id}{tld}"
            domains.add(domain)
            account_domains = [domain]
            if rand() < 0.25:
                second = stem + (".io" if tld == ".com" else ".com")
                if second not in domains:
                    domains.add(second)
                    account_domains.append(second)
            self.accounts.append(
                Company(
                    name=name,
                    domain=domain,
                    employees=employees,
                    loc=loc,
                    public=public,
                    named=named,
                    account_id=account_id,
                    owner_id=owner,
                )
            )
            self.acc_segment.append(segment)
            self.acc_type.append(account_type)
            self.acc_region.append(region)
            street = f"{100 + int(rand() * 9_800)} {STREETS[int(rand() * 20)]}"
            rows.append(
                {
                    "id": account_id,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "name": name,
                    "normalized_name": normalize_company_name(name),
                    "type": account_type,
                    "customer_since": None,
                    "number_of_employees": employees,
                    "sales_segment": segment,
                    "billing_street": street,
                    "billing_city": location.city,
                    "billing_state": location.state,
                    "billing_postal_code": location.postal,
                    "billing_country": location.country,
                    "is_public_sector": public,
                    "region": region,
                    "industry": industry,
                    "annual_revenue": annual,
                    "owner_id": owner,
                    "parent_account_id": parent_id,
                    "account_source": source,
                    "is_named": named,
                }
            )
            for d in account_domains:
                self.domain_id += 1
                domain_rows.append(
                    {"id": self.domain_id, "account_id": account_id, "domain": d}
                )
            team: list[tuple[int, Role]] = []
            if named:
                team.append((self.pool((Role.SAL,), region)[0], Role.SAL))
            if named or rand() < 0.1:
                pool = self.pool((Role.SDR, Role.BDR), region)
                team.append((pool[int(rand() * len(pool))], Role.SDR))
            if account_type is AccountType.CUSTOMER and rand() < 0.3:
                team.append(
                    (
                        self.pool((Role.CUSTOMER_SUCCESS,), region)[0],
                        Role.CUSTOMER_SUCCESS,
                    )
                )
            for user_id, role in team:
                if user_id == owner:
                    continue
                self.team_id += 1
                team_rows.append(
                    {
                        "id": self.team_id,
                        "account_id": account_id,
                        "user_id": user_id,
                        "role": role,
                    }
                )
            if len(rows) >= CHUNK:
                self._flush_accounts(rows, domain_rows, team_rows, a + 1, n)
        self._flush_accounts(rows, domain_rows, team_rows, n, n)
        self.account_domains = domains

    def _flush_accounts(
        self,
        rows: list[dict[str, Any]],
        domain_rows: list[dict[str, Any]],
        team_rows: list[dict[str, Any]],
        done: int,
        total: int,
    ) -> None:
        self.sink.insert(ACCOUNTS, rows)
        self.sink.insert(ACCOUNT_DOMAINS, domain_rows)
        self.sink.insert(TEAM_MEMBERS, team_rows)
        rows.clear()
        domain_rows.clear()
        team_rows.clear()
        self.progress("accounts", done, total)

    def make_companies(self) -> None:
        """Companies that leads work for but that are not accounts (yet)."""
        rng = self.rng("companies")
        rand = rng.random
        self.companies: list[Company] = []
        for c in range(self.n_companies):
            base, stem, _industry = self.company_name(self.n_accounts + c)
            loc = self.pick_loc(rand())
            u = rand()
            if u < 0.3:
                employees = None
            elif u < 0.75:
                employees = int(log_uniform(rand(), 1, 100))
            elif u < 0.95:
                employees = int(log_uniform(rand(), 100, 2_000))
            else:
                employees = int(log_uniform(rand(), 2_000, 50_000))
            tld = (
                self.locs[loc].tld
                if rand() < 0.4
                else (".io" if rand() < 0.3 else ".com")
            )
            domain = stem + tld
            if domain in self.account_domains:
                domain = f"{stem}-{c}{tld}"
            self.companies.append(
                Company(
                    name=base + LEGAL_SUFFIXES[int(rand() * len(LEGAL_SUFFIXES))],
                    domain=domain,
                    employees=employees,
                    loc=loc,
                    public=False,
                )
            )

    # -- contacts -----------------------------------------------------------------

    def make_contacts(
        self,
        converted: Mapping[int, Converted],
        converted_rows: dict[int, dict[str, Any]],
    ) -> None:
        """Contacts of every account, then the contact each converted lead became."""
        rng = self.rng("contacts")
        rand = rng.random
        pick_source = Picker(list(CONTACT_SOURCES.items()))
        counts = [1 + (rand() < 0.5) for _ in range(self.n_accounts)]
        n_base = sum(counts)
        total = n_base + len(converted)
        self.contact_start: list[int] = []
        self.contact_count = counts
        self.contact_source: list[str] = [""]  # by contact id (1-based)
        rows: list[dict[str, Any]] = []
        self.progress("contacts", 0, total)
        contact_id = 0
        done = 0
        for a, count in enumerate(counts):
            comp = self.accounts[a]
            loc = self.locs[comp.loc]
            owner = comp.owner_id if comp.owner_id in self.field_sales_active else None
            self.contact_start.append(contact_id + 1)
            for _k in range(count):
                contact_id += 1
                first = FIRST_NAMES[int(rand() * len(FIRST_NAMES))]
                last = LAST_NAMES[int(rand() * len(LAST_NAMES))]
                email = self.unique_email(email_local(first, last, rand()), comp.domain)
                source = pick_source(rand())
                self.contact_source.append(source)
                created = self.acc_created[a] + int(
                    rand() * 0.3 * (self.now_ts - self.acc_created[a])
                )
                rows.append(
                    {
                        "id": contact_id,
                        "version": 1,
                        "created_at": created,
                        "updated_at": created,
                        "first_name": first,
                        "last_name": last,
                        "email": email,
                        "title": CONTACT_TITLES[int(rand() * len(CONTACT_TITLES))],
                        "phone": f"{loc.phone} {100 + int(rand() * 900)} "
                        f"{1000 + int(rand() * 9000)}",
                        "mailing_street": f"{1 + int(rand() * 9_900)} "
                        f"{STREETS[int(rand() * 20)]}",
                        "mailing_city": loc.city,
                        "mailing_state": loc.state,
                        "mailing_postal_code": loc.postal,
                        "mailing_country": loc.country,
                        "account_id": a + 1,
                        "owner_id": owner,
                        "initial_source": source,
                        "lead_source": source,
                    }
                )
            if len(rows) >= CHUNK:
                done += len(rows)
                self.sink.insert(CONTACTS, rows)
                rows.clear()
                self.progress("contacts", done, total)
        for i, conv in converted.items():
            lead = converted_rows[i]
            comp = self.accounts[conv.account]
            contact_id += 1
            conv.contact_id = contact_id
            self.contact_source.append(lead["initial_source"])
            owner = (
                comp.owner_id
                if comp.owner_id in self.field_sales_active
                else conv.owner_id
            )
            rows.append(
                {
                    "id": contact_id,
                    "version": 1,
                    "created_at": conv.converted_at,
                    "updated_at": conv.converted_at,
                    "first_name": lead["first_name"],
                    "last_name": lead["last_name"],
                    "email": lead["email"],
                    "title": lead["title"],
                    "phone": lead["phone"],
                    "mailing_street": lead["street"],
                    "mailing_city": lead["city"],
                    "mailing_state": lead["state"],
                    "mailing_postal_code": lead["postal_code"],
                    "mailing_country": lead["country"],
                    "account_id": conv.account + 1,
                    "owner_id": owner,
                    "initial_source": lead["initial_source"],
                    "lead_source": lead["lead_source"],
                }
            )
            if len(rows) >= CHUNK:
                done += len(rows)
                self.sink.insert(CONTACTS, rows)
                rows.clear()
                self.progress("contacts", done, total)
        self.sink.insert(CONTACTS, rows)
        self.progress("contacts", total, total)
        converted_rows.clear()
