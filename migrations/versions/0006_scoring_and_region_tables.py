"""scoring and region tables

The D6 scoring table (points of every rule, the free-mail list, the MQL and
routing thresholds) and the D5 region table become data: versioned tables
seeded here with the values the spec decides, edited by sales ops through the
API (every edit is a new version; ``rule_table_heads`` names the current one).
Leads get the facts their score rests on apart from the points
(``score_*`` columns), so that an edited table rescores every lead in SQL.

Existing leads' facts are computed here from their title, email and careers
visits, in batches of 5,000 leads, by the D6 fact rules as they were at this
revision (copied here, frozen: a later change of ``domain.rules.scoring``
does not change what this migration did).

Revision ID: 0006_rule_tables
Revises: 0005_ownership
Create Date: 2026-11-23 08:06:19.265116
"""

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

import domain.sqltypes

revision: str = "0006_rule_tables"
down_revision: str | None = "0005_ownership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The D6 table as the spec decides it: (rule, points, description).
SEEDED_POINTS = [
    (
        "TITLE_SENIORITY",
        50,
        "Title contains VP, Vice President, Manager, Director, Senior or Head",
    ),
    (
        "TITLE_BLANK_OR_TECHNICAL",
        -10,
        "Title blank, numeric only, or contains Developer or Engineer",
    ),
    ("COMPANY_EMAIL", 5, "Valid company email"),
    ("FREE_MAIL", -5, "Email at a free-mail domain"),
    ("TRIAL_REQUEST", 100, "Completed a self-managed or SaaS trial request form"),
    ("CONTACT_US_REQUEST", 100, "Completed a Contact Us form"),
    (
        "PROFESSIONAL_SERVICES_REQUEST",
        100,
        "Completed a Professional Services request form",
    ),
    (
        "HIGH_INTENT_LIVE_ATTENDED",
        90,
        "Attended a high-intent live webcast, livestream or demo",
    ),
    (
        "ENTERPRISE_TRIAL_PAGE_VISIT",
        50,
        "Visited the Enterprise trial page without completing the form",
    ),
    (
        "HIGH_INTENT_ON_DEMAND_WATCHED",
        45,
        "Watched a high-intent on-demand webcast, livestream or demo",
    ),
    ("TRADESHOW_BOOTH_VISIT", 30, "Visited a booth at a trade show"),
    ("LIVE_EVENT_ATTENDED", 30, "Attended an in-person live event"),
    ("GATED_ASSET_DOWNLOAD", 30, "Downloaded a gated asset"),
    ("WEBCAST_REGISTRATION", 15, "Registered for a livestream, webcast or demo"),
    ("LOW_INTENT_LIVE_ATTENDED", 15, "Attended a low-intent live webcast"),
    ("LOW_INTENT_ON_DEMAND_WATCHED", 15, "Watched a low-intent on-demand webcast"),
    ("NEWSLETTER_OPT_IN", 10, "Opted into the newsletter"),
    ("SECURITY_NEWSLETTER_OPT_IN", 10, "Opted into the security newsletter"),
    ("WEBCAST_EMAIL_OPT_IN", 10, "Opted into webcast emails"),
    ("LIVE_EVENT_EMAIL_OPT_IN", 10, "Opted into live event emails"),
    ("PRICING_PAGE_VISIT", 10, "Visited the pricing page"),
    ("FEATURES_PAGE_VISIT", 10, "Visited the features page"),
    ("INSTALLATION_PAGE_VISIT", 2, "Visited the installation page"),
    ("EMAIL_UNSUBSCRIBE", -25, "Unsubscribed from email"),
    ("CAREERS_PAGE_VISIT", 0, "Visited the careers page"),
    ("WEB_CHAT", 0, "Started a web chat"),
    ("CAREERS_PAGE_VISITS", -25, "Multiple careers-page visits within 7 days"),
]
SEEDED_MQL_THRESHOLD = 90
SEEDED_ROUTING_THRESHOLD = 50
# D6: "gmail, hotmail, yahoo, aol, outlook, …: a data list".
SEEDED_FREE_MAIL_DOMAINS = [
    "126.com",
    "163.com",
    "aol.com",
    "email.com",
    "fastmail.com",
    "gmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "googlemail.com",
    "hey.com",
    "hotmail.co.uk",
    "hotmail.com",
    "hotmail.de",
    "hotmail.fr",
    "icloud.com",
    "live.com",
    "mac.com",
    "mail.com",
    "mail.ru",
    "me.com",
    "msn.com",
    "naver.com",
    "outlook.com",
    "pm.me",
    "proton.me",
    "protonmail.com",
    "qq.com",
    "rocketmail.com",
    "sina.com",
    "tutanota.com",
    "web.de",
    "yahoo.co.in",
    "yahoo.co.jp",
    "yahoo.co.uk",
    "yahoo.com",
    "yahoo.de",
    "yahoo.fr",
    "yandex.com",
    "yandex.ru",
    "ymail.com",
    "zoho.com",
]

# D5: countries by region; every country without a row of its own is EMEA
# (the * row); the US and Canada are split by state/province, an unknown or
# missing state going to US_EAST.
_APAC = [
    "AU",
    "BD",
    "BN",
    "BT",
    "CN",
    "FJ",
    "HK",
    "ID",
    "IN",
    "JP",
    "KH",
    "KR",
    "LA",
    "LK",
    "MM",
    "MN",
    "MO",
    "MV",
    "MY",
    "NP",
    "NZ",
    "PG",
    "PH",
    "PK",
    "SB",
    "SG",
    "TH",
    "TL",
    "TO",
    "TW",
    "VN",
    "VU",
    "WS",
]
_LATAM = [
    "AR",
    "BO",
    "BR",
    "BZ",
    "CL",
    "CO",
    "CR",
    "CU",
    "DO",
    "EC",
    "GT",
    "GY",
    "HN",
    "HT",
    "JM",
    "MX",
    "NI",
    "PA",
    "PE",
    "PY",
    "SR",
    "SV",
    "TT",
    "UY",
    "VE",
    "BS",
    "BB",
    "AG",
    "DM",
    "GD",
    "KN",
    "LC",
    "VC",
]
_US_WEST = [
    "AK",
    "AZ",
    "CA",
    "CO",
    "HI",
    "ID",
    "KS",
    "MT",
    "ND",
    "NE",
    "NM",
    "NV",
    "OK",
    "OR",
    "SD",
    "TX",
    "UT",
    "WA",
    "WY",
]
_US_EAST = [
    "AL",
    "AR",
    "CT",
    "DC",
    "DE",
    "FL",
    "GA",
    "IA",
    "IL",
    "IN",
    "KY",
    "LA",
    "MA",
    "MD",
    "ME",
    "MI",
    "MN",
    "MO",
    "MS",
    "NC",
    "NH",
    "NJ",
    "NY",
    "OH",
    "PA",
    "RI",
    "SC",
    "TN",
    "VA",
    "VT",
    "WI",
    "WV",
    "PR",
    "VI",
    "GU",
    "AS",
    "MP",
]
_CA_WEST = ["AB", "BC", "NT", "NU", "SK", "YT"]
_CA_EAST = ["MB", "NB", "NL", "NS", "ON", "PE", "QC"]
# (country, state, region); state "" is the whole country, country * any other.
SEEDED_REGIONS = [
    ("*", "", "EMEA"),
    *((c, "", "APAC") for c in _APAC),
    *((c, "", "LATAM") for c in _LATAM),
    ("US", "", "US_EAST"),
    *(("US", s, "US_WEST") for s in _US_WEST),
    *(("US", s, "US_EAST") for s in _US_EAST),
    ("CA", "", "US_EAST"),
    *(("CA", p, "US_WEST") for p in _CA_WEST),
    *(("CA", p, "US_EAST") for p in _CA_EAST),
]

BATCH = 5_000


def upgrade() -> None:
    """Apply this revision."""
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "rule_table_heads",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "changed_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rule_table_heads")),
    )
    op.create_table(
        "region_table_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "changed_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("leads_rederived", sa.Integer(), nullable=False),
        sa.Column("accounts_rederived", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_region_table_versions_changed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_region_table_versions")),
    )
    op.create_table(
        "scoring_table_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mql_threshold", sa.Integer(), nullable=False),
        sa.Column("routing_threshold", sa.Integer(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "changed_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("leads_rescored", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_scoring_table_versions_changed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_scoring_table_versions")),
    )
    op.create_table(
        "region_table_rows",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False
        ),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "APAC",
                "EMEA",
                "LATAM",
                "US_EAST",
                "US_WEST",
                "PUBLIC_SECTOR",
                name="region",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["region_table_versions.version"],
            name=op.f("fk_region_table_rows_version_region_table_versions"),
        ),
        sa.PrimaryKeyConstraint(
            "version", "country", "state", name=op.f("pk_region_table_rows")
        ),
    )
    op.create_table(
        "scoring_free_mail_domains",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "domain", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["scoring_table_versions.version"],
            name=op.f("fk_scoring_free_mail_domains_version_scoring_table_versions"),
        ),
        sa.PrimaryKeyConstraint(
            "version", "domain", name=op.f("pk_scoring_free_mail_domains")
        ),
    )
    op.create_table(
        "scoring_table_points",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column(
            "description", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["scoring_table_versions.version"],
            name=op.f("fk_scoring_table_points_version_scoring_table_versions"),
        ),
        sa.PrimaryKeyConstraint(
            "version", "rule", name=op.f("pk_scoring_table_points")
        ),
    )
    # Plain ADD COLUMN (constant defaults): SQLite adds them without rebuilding
    # the leads table, which the rows that reference leads would forbid.
    op.add_column(
        "leads",
        sa.Column(
            "score_title_seniority",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
        ),
    )
    op.add_column(
        "leads",
        sa.Column(
            "score_title_blank_or_technical",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
        ),
    )
    op.add_column(
        "leads",
        sa.Column(
            "score_email_domain",
            sqlmodel.sql.sqltypes.AutoString(length=255),
            nullable=True,
        ),
    )
    op.add_column(
        "leads",
        sa.Column(
            "score_careers_penalties",
            sa.Integer(),
            server_default="0",
            nullable=False,
        ),
    )

    # ### end Alembic commands ###
    _seed()
    _backfill_score_facts()


def _seed() -> None:
    """Version 1 of both tables, as the spec decides them."""
    now = domain.sqltypes.utcnow()
    at = domain.sqltypes.UTCDateTime()
    op.bulk_insert(
        sa.table(
            "rule_table_heads",
            sa.column("name", sa.String),
            sa.column("version", sa.Integer),
            sa.column("changed_at", at),
        ),
        [
            {"name": "REGIONS", "version": 1, "changed_at": now},
            {"name": "SCORING", "version": 1, "changed_at": now},
        ],
    )
    op.bulk_insert(
        sa.table(
            "scoring_table_versions",
            sa.column("version", sa.Integer),
            sa.column("mql_threshold", sa.Integer),
            sa.column("routing_threshold", sa.Integer),
            sa.column("changed_at", at),
            sa.column("note", sa.Text),
            sa.column("leads_rescored", sa.Integer),
        ),
        [
            {
                "version": 1,
                "mql_threshold": SEEDED_MQL_THRESHOLD,
                "routing_threshold": SEEDED_ROUTING_THRESHOLD,
                "changed_at": now,
                "note": "D6 as decided in the spec",
                "leads_rescored": 0,
            }
        ],
    )
    op.bulk_insert(
        sa.table(
            "scoring_table_points",
            sa.column("version", sa.Integer),
            sa.column("rule", sa.String),
            sa.column("points", sa.Integer),
            sa.column("description", sa.String),
        ),
        [
            {"version": 1, "rule": rule, "points": points, "description": text}
            for rule, points, text in SEEDED_POINTS
        ],
    )
    op.bulk_insert(
        sa.table(
            "scoring_free_mail_domains",
            sa.column("version", sa.Integer),
            sa.column("domain", sa.String),
        ),
        [{"version": 1, "domain": d} for d in SEEDED_FREE_MAIL_DOMAINS],
    )
    op.bulk_insert(
        sa.table(
            "region_table_versions",
            sa.column("version", sa.Integer),
            sa.column("changed_at", at),
            sa.column("note", sa.Text),
            sa.column("leads_rederived", sa.Integer),
            sa.column("accounts_rederived", sa.Integer),
        ),
        [
            {
                "version": 1,
                "changed_at": now,
                "note": "D5 as decided in the spec",
                "leads_rederived": 0,
                "accounts_rederived": 0,
            }
        ],
    )
    op.bulk_insert(
        sa.table(
            "region_table_rows",
            sa.column("version", sa.Integer),
            sa.column("country", sa.String),
            sa.column("state", sa.String),
            sa.column("region", sa.String),
        ),
        [
            {"version": 1, "country": c, "state": s, "region": r}
            for c, s, r in SEEDED_REGIONS
        ],
    )


# --- the D6 score facts as of this revision (frozen copy) -----------------------
# Whole words or phrases of a title, compared casefolded.
_SENIORITY_WORDS = ("vp", "vice president", "manager", "director", "senior", "head")
_TECHNICAL_WORDS = ("developer", "engineer")
_CAREERS = "CAREERS_PAGE_VISIT"
_CAREERS_WINDOW = timedelta(days=7)
_WORD = re.compile(r"[^\W_]+")
_EMAIL = re.compile(
    r"(?P<local>[a-z0-9!#$%&'*+/=?^_`{|}~.-]+)"
    r"@(?P<domain>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59}))",
    re.IGNORECASE,
)
_MAX_EMAIL_LENGTH = 254


def _has_phrase(title: str | None, phrases: Iterable[str]) -> bool:
    """Whether one phrase's words appear consecutively among the title's words."""
    words = tuple(_WORD.findall((title or "").casefold()))
    for phrase in phrases:
        wanted = tuple(phrase.casefold().split())
        size = len(wanted)
        if size and any(
            words[i : i + size] == wanted for i in range(len(words) - size + 1)
        ):
            return True
    return False


def _email_domain(email: str | None) -> str | None:
    """The lowercased domain of a valid email; None when invalid or blank."""
    if email is None:
        return None
    candidate = email.strip()
    if len(candidate) > _MAX_EMAIL_LENGTH:
        return None
    found = _EMAIL.fullmatch(candidate)
    if found is None:
        return None
    local = found["local"]
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    return found["domain"].lower()


def _careers_penalties(visits: Iterable[tuple[int, datetime]]) -> int:
    """Careers visits (id, when): one counts per UTC day; a counted visit less
    than 7 days after the pending one is a penalty and clears it."""
    penalties = 0
    seen_days = set()
    pending: datetime | None = None
    for _id, at in sorted(visits, key=lambda v: (v[1].astimezone(UTC), v[0])):
        at = at.astimezone(UTC)
        if at.date() in seen_days:
            continue
        seen_days.add(at.date())
        if pending is not None and at - pending < _CAREERS_WINDOW:
            pending = None
            penalties += 1
        else:
            pending = at
    return penalties


def _score_facts(
    title: str | None, email: str | None, visits: Iterable[tuple[int, datetime]]
) -> dict[str, object]:
    """The facts a lead's score rests on, as the update's parameters."""
    blank = not any(c.isalpha() for c in title or "")
    return {
        "senior": _has_phrase(title, _SENIORITY_WORDS),
        "technical": blank or _has_phrase(title, _TECHNICAL_WORDS),
        "domain": _email_domain(email),
        "careers": _careers_penalties(visits),
    }


def _backfill_score_facts() -> None:
    """The score facts of the leads already there, in batches of ``BATCH``."""
    conn = op.get_bind()
    leads = sa.table(
        "leads",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("email", sa.String),
        sa.column("score_title_seniority", sa.Boolean),
        sa.column("score_title_blank_or_technical", sa.Boolean),
        sa.column("score_email_domain", sa.String),
        sa.column("score_careers_penalties", sa.Integer),
    )
    engagements = sa.table(
        "engagements",
        sa.column("id", sa.Integer),
        sa.column("lead_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("occurred_at", domain.sqltypes.UTCDateTime()),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(leads.c.id, leads.c.title, leads.c.email)
            .where(leads.c.id > last)
            .order_by(leads.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        visits: dict[int, list[tuple[int, datetime]]] = {}
        for lead_id, engagement_id, at in conn.execute(
            sa.select(
                engagements.c.lead_id, engagements.c.id, engagements.c.occurred_at
            ).where(
                engagements.c.lead_id.between(rows[0].id, last),
                engagements.c.kind == _CAREERS,
            )
        ):
            visits.setdefault(lead_id, []).append((engagement_id, at))
        values = [
            {"lead": lead_id, **_score_facts(title, email, visits.get(lead_id, ()))}
            for lead_id, title, email in rows
        ]
        conn.execute(
            leads.update()
            .where(leads.c.id == sa.bindparam("lead"))
            .values(
                score_title_seniority=sa.bindparam("senior"),
                score_title_blank_or_technical=sa.bindparam("technical"),
                score_email_domain=sa.bindparam("domain"),
                score_careers_penalties=sa.bindparam("careers"),
            ),
            values,
        )


def downgrade() -> None:
    """Revert this revision."""
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("score_careers_penalties")
        batch_op.drop_column("score_email_domain")
        batch_op.drop_column("score_title_blank_or_technical")
        batch_op.drop_column("score_title_seniority")

    op.drop_table("scoring_table_points")
    op.drop_table("scoring_free_mail_domains")
    op.drop_table("region_table_rows")
    op.drop_table("scoring_table_versions")
    op.drop_table("region_table_versions")
    op.drop_table("rule_table_heads")
    # ### end Alembic commands ###
