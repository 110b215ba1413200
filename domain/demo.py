"""The demo data set: a deterministic, realistic sales pipeline to explore the API.

``generate(engine)`` fills an empty, migrated database with users, campaigns,
accounts (with domains, hierarchy and team members), contacts, opportunities
(with contact roles), leads with their engagements and activities, the
TransitionRecord history that led every lead and opportunity to where it is,
and the funnel entry (D11) of every lead and of every opportunity created
without a lead, stamped from that history.
The same ``seed`` (and ``now``) always gives the same data, on SQLite and on
PostgreSQL.

Volumes at ``scale=1``: 28 users, 22 campaigns, 200 accounts, ~400 contacts,
500 opportunities, 2,000 leads (with ~2,600 engagements, ~1,500 activities,
~5,300 transition records and 2,400 funnel entries). Everything but users and
campaigns grows linearly with ``scale`` (users by ``5 * log2(scale)``);
``scale=500`` gives 1,000,000 leads and 250,000 opportunities (7.9 million
rows).

Decisions:

- Rows are written in chunks of 5,000 with ids assigned here (parents
  before children, so foreign keys hold row by row), all in one
  transaction: a failure leaves the database empty. Every value goes
  through its column type's bind processor (``_Sink``). On PostgreSQL a
  writer thread copies each chunk (binary COPY) while the next is drawn;
  the secondary indexes, unique and foreign-key constraints are dropped for
  the load and built again (checked) at its end, the id sequences are moved
  past the inserted ids, and the funnel entries are vacuumed and analyzed
  (their index walks want the visibility map). SQLite inserts each chunk
  itself (a writer thread measured slower: the two threads queue on the GIL
  at every row), keeps its indexes but the funnel entries' ones, and skips
  the foreign-key checks during the load.
- Campaign attribution (D11): a lead's first-touch campaign is that of its
  first engagement naming one; a lead without engagements came from a
  campaign's list half the time. A converted lead's opportunity takes its
  campaign; an opportunity created without a lead has a campaign of its
  contact's initial source 70% of the time.
- Each lead is drawn from its own random stream (``seed`` and its index), so
  the converted leads can be drawn ahead of the contacts and opportunities
  they became, and drawn again, identically, when the leads are written.
- Coherence follows the rules: a lead's ``person_score`` is exactly its D6
  demographic points plus the points of its engagements (no same-day repeat
  visits, no careers visits), below 90 unless its path went through MQL; a
  lead with a score of 50 or more, or one that was accepted, has an owner
  (the account owner for a lead on an account owned by field sales);
  accepted leads have a first-touch activity, qualifying ones a completed
  two-way activity before the change. Every stage an opportunity entered or
  passed over has its D3 fields filled; entering a closed stage set
  ``closed_at``.
- A WEB_DIRECT opportunity created directly in CLOSED_WON (D3 rule 1) has no
  transition; it counts as sales accepted and qualified at creation (D11: a
  skipped milestone counts as reached), so ``sales_accepted_date``,
  ``sales_qualified_date`` and ``initial_iacv`` are set.
- Converted leads' engagements and activities also point at the contact they
  became (D7: they stay reachable from it).
- No outbox events are written: they describe changes made through the
  service, and the demo history is not one.
- Names: sales reps and the first accounts come from the public Maven
  Analytics CRM sample (copied here as data); other companies are generated.
  Emails are lower-case and unique among leads and contacts, except that a
  converted lead and its contact share one.
"""

from __future__ import annotations

import gc
import math
import queue
import random
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import pairwise
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Connection,
    Engine,
    ForeignKeyConstraint,
    Table,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from domain.db import _IMMEDIATE
from domain.enums import (
    AccountType,
    ActivityChannel,
    ActivityDirection,
    ActivityKind,
    CampaignChannel,
    ClosedLostReason,
    EngagementKind,
    LeadStatus,
    OpportunityStage,
    OpportunityType,
    RecordType,
    ReferenceableCustomer,
    Region,
    RestrictedPartyScreening,
    Role,
    SalesQualificationSource,
    SalesSegment,
)
from domain.records import (
    Account,
    AccountDomain,
    AccountTeamMember,
    Activity,
    Campaign,
    Contact,
    Engagement,
    FunnelEntry,
    Lead,
    Opportunity,
    OpportunityContactRole,
    TransitionRecord,
    User,
)
from domain.rules.business_days import sla_due_at
from domain.rules.funnel import (
    lead_stamps,
    milestone_of_stage,
    milestone_of_status,
    opportunity_stamps,
    reach,
)
from domain.rules.matching import email_domain, normalize_company_name
from domain.rules.scoring import DEFAULT_POINTS, ENGAGEMENT_DESCRIPTIONS
from domain.rules.scoring import score as score_profile
from domain.rules.segmentation import region_for, sales_segment_for
from domain.services.milestones import SECONDS_COLUMNS, STAMP_COLUMNS
from domain.sqltypes import UTCDateTime

Progress = Callable[[str, int, int], None]

CHUNK = 5_000
MAX_SCALE = 1_000
DEMO_ADMIN_EMAIL = "admin@salesops.demo"
SALES_ADMIN_NAME = "Sales Admin"
EMAIL_DOMAIN = "salesops.demo"

DAY = 86_400
HOUR = 3_600
LEAD_HISTORY_DAYS = 540  # leads are created over the last ~18 months
ACCOUNT_HISTORY_DAYS = 6 * 365
MQL = 90  # D6 threshold
ROUTING = 50  # D6/D8 routing threshold

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


USERS = _table(User)
CAMPAIGNS = _table(Campaign)
ACCOUNTS = _table(Account)
ACCOUNT_DOMAINS = _table(AccountDomain)
TEAM_MEMBERS = _table(AccountTeamMember)
CONTACTS = _table(Contact)
OPPORTUNITIES = _table(Opportunity)
CONTACT_ROLES = _table(OpportunityContactRole)
LEADS = _table(Lead)
ENGAGEMENTS = _table(Engagement)
ACTIVITIES = _table(Activity)
TRANSITIONS = _table(TransitionRecord)
FUNNEL_ENTRIES = _table(FunnelEntry)

# insertion order (parents first); also the order of the emptiness check
TABLES: tuple[Table, ...] = (
    USERS,
    CAMPAIGNS,
    ACCOUNTS,
    ACCOUNT_DOMAINS,
    TEAM_MEMBERS,
    CONTACTS,
    OPPORTUNITIES,
    CONTACT_ROLES,
    LEADS,
    ENGAGEMENTS,
    ACTIVITIES,
    TRANSITIONS,
    FUNNEL_ENTRIES,
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """How many rows of each table the demo data set wrote, and how long it took."""

    users: int = 0
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


# --- data -------------------------------------------------------------------


def _words(text_: str) -> tuple[str, ...]:
    """The distinct words of a text, in order."""
    return tuple(dict.fromkeys(text_.split()))


L = LeadStatus
S = OpportunityStage
K = EngagementKind

# Sales reps, managers and accounts of the Maven Analytics "CRM Sales
# Opportunities" sample (public data), copied as data.
# (name, role, region, active, out of office for days)
_BASE_USERS: tuple[tuple[str, Role, Region | None, bool, int], ...] = (
    ("Demo Admin", Role.ADMIN, None, True, 0),
    (SALES_ADMIN_NAME, Role.SALES_ADMIN, None, True, 0),
    ("Dustin Brinkmann", Role.SALES_OPS, Region.US_EAST, True, 0),
    ("Celia Rouche", Role.MARKETING_OPS, Region.US_WEST, True, 0),
    ("Melvin Marxen", Role.RD, Region.US_EAST, True, 0),
    ("Darcel Schlecht", Role.AE, Region.US_WEST, True, 0),
    ("Vicki Laflamme", Role.AE, Region.US_WEST, True, 9),
    ("Moses Frase", Role.AE, Region.US_EAST, True, 0),
    ("Violet Mclelland", Role.AE, Region.EMEA, True, 0),
    ("Kary Hendrixson", Role.AE, Region.APAC, True, 0),
    ("Jonathan Berthelot", Role.AE, Region.LATAM, True, 0),
    ("Cassey Cress", Role.SAL, Region.US_EAST, True, 0),
    ("Corliss Cosme", Role.SAL, Region.EMEA, True, 0),
    ("Reed Clapper", Role.SAL, Region.PUBLIC_SECTOR, True, 0),
    ("Garret Kinder", Role.AM, Region.US_EAST, True, 0),
    ("Rosalina Dieter", Role.AM, Region.EMEA, True, 0),
    ("Anna Snelling", Role.BDR, Region.US_EAST, True, 0),
    ("Hayden Neloms", Role.BDR, Region.US_WEST, True, 0),
    ("Wilburn Farren", Role.BDR, Region.US_WEST, False, 0),
    ("Markita Hansen", Role.BDR, Region.EMEA, True, 0),
    ("Carl Lin", Role.BDR, Region.APAC, True, 3),
    ("Boris Faz", Role.BDR, Region.LATAM, True, 0),
    ("Natalya Ivanova", Role.SDR, Region.PUBLIC_SECTOR, True, 0),
    ("Elease Gluck", Role.SDR, Region.US_EAST, True, 0),
    ("Cecily Lampkin", Role.CUSTOMER_ADVOCATE, Region.US_EAST, True, 0),
    ("Rosie Papadopoulos", Role.CUSTOMER_ADVOCATE, Region.EMEA, True, 0),
    ("Mei-Mei Johns", Role.CUSTOMER_ADVOCATE, Region.APAC, True, 0),
    ("Zane Levy", Role.CUSTOMER_SUCCESS, Region.US_WEST, True, 0),
)
_SPARE_REP_NAMES = (
    "Versie Hillebrand",
    "Lajuana Vencill",
    "Marty Freudenburg",
    "Gladys Colclough",
    "Niesha Huffines",
    "Elizabeth Anderson",
    "Donn Cantrell",
    "Kami Bicknell",
    "Maureen Marcano",
    "Carol Thompson",
    "James Ascencio",
    "Cara Losch",
    "Rocco Neubert",
    "Summer Sewald",
)
_EXTRA_ROLES = (
    Role.BDR,
    Role.AE,
    Role.SDR,
    Role.BDR,
    Role.AE,
    Role.SAL,
    Role.CUSTOMER_ADVOCATE,
    Role.AM,
)
_EXTRA_REGIONS = (
    Region.US_EAST,
    Region.EMEA,
    Region.US_WEST,
    Region.APAC,
    Region.LATAM,
    Region.PUBLIC_SECTOR,
)

# (name, industry, revenue in millions USD, employees, country, parent)
_MAVEN_ACCOUNTS: tuple[tuple[str, str, float, int, str, str | None], ...] = (
    ("Acme Corporation", "Technology", 1100.04, 2822, "United States", None),
    ("Betasoloin", "Healthcare", 251.41, 495, "United States", None),
    ("Betatech", "Healthcare", 647.18, 1185, "Kenya", None),
    ("Bioholding", "Healthcare", 587.34, 1356, "Philippines", None),
    ("Bioplex", "Healthcare", 326.82, 1016, "United States", None),
    ("Blackzim", "Retail", 497.11, 1588, "United States", None),
    ("Bubba Gump", "Software", 987.39, 2253, "United States", None),
    ("Cancity", "Retail", 718.62, 2448, "United States", None),
    ("Massive Dynamic", "Entertainment", 665.06, 1095, "United States", None),
    ("Condax", "Healthcare", 4.54, 9, "United States", None),
    ("Conecom", "Technology", 1520.66, 1806, "United States", None),
    ("Inity", "Marketing", 2403.58, 8801, "United States", None),
    ("Domzoom", "Entertainment", 217.87, 551, "United States", None),
    ("Doncon", "Technology", 587.72, 1501, "United States", None),
    ("Dontechi", "Software", 4618.0, 10083, "United States", None),
    ("Donware", "Marketing", 1197.44, 2570, "United States", None),
    ("Fasehatice", "Retail", 4968.91, 7523, "United States", None),
    ("Sonron", "Telecommunications", 1699.85, 5108, "United States", None),
    ("Finhigh", "Financial Services", 1102.43, 1759, "United States", None),
    ("Finjob", "Staffing", 2059.9, 3644, "United States", None),
    ("Golddex", "Financial Services", 52.5, 165, "United States", None),
    ("Ganjaflex", "Retail", 5158.71, 17479, "Japan", None),
    ("Gekko & Co", "Retail", 2520.83, 3502, "United States", None),
    ("Genco Pura Olive Oil Company", "Retail", 894.33, 1635, "Italy", None),
    ("Globex Corporation", "Technology", 1223.72, 2497, "Norway", None),
    ("Warephase", "Services", 2041.73, 5276, "United States", None),
    ("Goodsilron", "Marketing", 2952.73, 5107, "United States", None),
    ("Green-Plus", "Services", 692.19, 1922, "United States", None),
    ("Groovestreet", "Retail", 223.8, 299, "United States", None),
    ("Hatfan", "Services", 792.46, 1299, "United States", None),
    ("Hottechi", "Technology", 8170.38, 16499, "South Korea", None),
    ("Initech", "Telecommunications", 6395.05, 20275, "United States", None),
    ("Isdom", "Healthcare", 3178.24, 4540, "United States", None),
    ("J-Texon", "Retail", 1388.67, 3583, "United States", None),
    ("Kan-code", "Software", 11698.03, 34288, "United States", None),
    ("Kinnamplus", "Retail", 702.72, 1831, "United States", None),
    ("Konex", "Technology", 7708.38, 13756, "United States", None),
    ("Konmatfix", "Marketing", 375.43, 1190, "United States", None),
    ("Labdrill", "Healthcare", 2741.37, 9226, "United States", None),
    ("Lexiqvolax", "Healthcare", 1618.89, 3889, "United States", None),
    ("Mathtouch", "Marketing", 3027.46, 9516, "Jordan", None),
    ("Newex", "Services", 1012.72, 3492, "Germany", None),
    ("Ontomedia", "Staffing", 882.12, 2769, "United States", None),
    ("Opentech", "Financial Services", 355.23, 853, "United States", None),
    ("Plexzap", "Retail", 2437.85, 4874, "United States", None),
    ("Plusstrip", "Entertainment", 349.81, 315, "United States", None),
    ("Plussunin", "Retail", 1419.98, 4018, "United States", None),
    ("Rangreen", "Technology", 2938.67, 8775, "Panama", None),
    ("Rantouch", "Telecommunications", 1188.42, 3015, "United States", None),
    ("Ron-tech", "Healthcare", 3922.42, 6837, "United States", None),
    ("Rundofase", "Technology", 1008.06, 1238, "United States", None),
    ("Silis", "Healthcare", 2818.38, 6290, "United States", None),
    ("Singletechno", "Retail", 2214.94, 5374, "United States", None),
    ("Stanredtax", "Financial Services", 1698.2, 3798, "United States", None),
    ("Statholdings", "Staffing", 291.27, 586, "United States", None),
    ("Streethex", "Retail", 1376.8, 1165, "Belgium", None),
    ("Sumace", "Retail", 167.89, 493, "Romania", None),
    ("Sunnamplex", "Marketing", 894.37, 1593, "Poland", None),
    ("The New York Inquirer", "Healthcare", 439.21, 792, "United States", None),
    ("Toughzap", "Retail", 332.43, 799, "United States", None),
    (
        "Umbrella Corporation",
        "Financial Services",
        2022.14,
        5113,
        "United States",
        None,
    ),
    ("Xx-holding", "Financial Services", 7537.24, 20293, "United States", None),
    ("Xx-zobam", "Entertainment", 3838.39, 8274, "United States", None),
    ("Y-corporation", "Staffing", 2871.35, 9561, "United States", None),
    ("Yearin", "Retail", 2261.05, 3851, "United States", None),
    ("Zathunicon", "Retail", 71.12, 144, "United States", None),
    ("Zencorporation", "Technology", 40.79, 142, "China", None),
    ("Zoomit", "Entertainment", 324.19, 978, "United States", None),
    ("Zotware", "Software", 4478.47, 13809, "United States", None),
    ("Zumgoity", "Healthcare", 441.08, 1210, "United States", None),
    # subsidiaries, after their parents
    ("Bluth Company", "Technology", 1242.32, 3027, "United States", "Acme Corporation"),
    ("Cheers", "Entertainment", 4269.9, 6472, "United States", "Massive Dynamic"),
    ("Codehow", "Software", 2714.9, 2641, "United States", "Acme Corporation"),
    ("Dalttechnology", "Software", 98.79, 96, "United States", "Bubba Gump"),
    ("dambase", "Marketing", 2173.98, 2928, "United States", "Inity"),
    ("Donquadtech", "Technology", 1712.68, 3194, "United States", "Acme Corporation"),
    ("Faxquote", "Telecommunications", 1825.82, 5595, "United States", "Sonron"),
    ("Funholding", "Financial Services", 2819.5, 7227, "United States", "Golddex"),
    ("Gogozoom", "Telecommunications", 86.68, 187, "United States", "Sonron"),
    ("Iselectrics", "Technology", 527.11, 1428, "United States", "Acme Corporation"),
    ("Nam-zim", "Services", 405.59, 1179, "Brazil", "Warephase"),
    ("Scotfind", "Software", 6354.87, 16780, "United States", "Bubba Gump"),
    ("Scottech", "Marketing", 45.39, 100, "United States", "Inity"),
    ("Treequote", "Telecommunications", 5266.09, 8595, "United States", "Sonron"),
    (
        "Vehement Capital Partners",
        "Financial Services",
        646.1,
        883,
        "United States",
        "Golddex",
    ),
)

# (country, state/province, city, postal code, phone prefix, ccTLD, weight)
_LOCATIONS: tuple[tuple[str, str | None, str, str, str, str, float], ...] = (
    ("United States", "CA", "San Francisco", "94105", "+1 415", ".com", 6),
    ("United States", "CA", "San Jose", "95113", "+1 408", ".com", 3),
    ("United States", "WA", "Seattle", "98101", "+1 206", ".com", 3),
    ("United States", "TX", "Austin", "78701", "+1 512", ".com", 3),
    ("United States", "TX", "Dallas", "75201", "+1 214", ".com", 2),
    ("United States", "CO", "Denver", "80202", "+1 303", ".com", 2),
    ("United States", "OR", "Portland", "97204", "+1 503", ".com", 1),
    ("United States", "AZ", "Phoenix", "85004", "+1 602", ".com", 1),
    ("United States", "UT", "Salt Lake City", "84101", "+1 801", ".com", 1),
    ("United States", "NY", "New York", "10001", "+1 212", ".com", 6),
    ("United States", "MA", "Boston", "02110", "+1 617", ".com", 3),
    ("United States", "IL", "Chicago", "60601", "+1 312", ".com", 3),
    ("United States", "GA", "Atlanta", "30303", "+1 404", ".com", 2),
    ("United States", "FL", "Miami", "33131", "+1 305", ".com", 2),
    ("United States", "NC", "Raleigh", "27601", "+1 919", ".com", 1),
    ("United States", "VA", "Arlington", "22201", "+1 703", ".com", 2),
    ("United States", "DC", "Washington", "20001", "+1 202", ".com", 1),
    ("United States", "PA", "Philadelphia", "19103", "+1 215", ".com", 1),
    ("United States", "OH", "Columbus", "43215", "+1 614", ".com", 1),
    ("United States", "MN", "Minneapolis", "55401", "+1 612", ".com", 1),
    ("Canada", "ON", "Toronto", "M5H 2N2", "+1 416", ".ca", 2.5),
    ("Canada", "QC", "Montreal", "H3B 4W8", "+1 514", ".ca", 1),
    ("Canada", "BC", "Vancouver", "V6B 1A1", "+1 604", ".ca", 1.5),
    ("Canada", "AB", "Calgary", "T2P 2M5", "+1 403", ".ca", 0.5),
    ("United Kingdom", None, "London", "EC2A 4NE", "+44 20", ".co.uk", 5),
    ("United Kingdom", None, "Manchester", "M1 1AE", "+44 161", ".co.uk", 1),
    ("Germany", None, "Berlin", "10115", "+49 30", ".de", 2.5),
    ("Germany", None, "Munich", "80331", "+49 89", ".de", 2),
    ("France", None, "Paris", "75002", "+33 1", ".fr", 3),
    ("Netherlands", None, "Amsterdam", "1012 AB", "+31 20", ".nl", 2),
    ("Ireland", None, "Dublin", "D02 X285", "+353 1", ".ie", 1),
    ("Sweden", None, "Stockholm", "111 22", "+46 8", ".se", 1),
    ("Spain", None, "Madrid", "28013", "+34 91", ".es", 1),
    ("Italy", None, "Milan", "20121", "+39 02", ".it", 1),
    ("Switzerland", None, "Zurich", "8001", "+41 44", ".ch", 1),
    ("Poland", None, "Warsaw", "00-001", "+48 22", ".pl", 1),
    ("Israel", None, "Tel Aviv", "6100000", "+972 3", ".co.il", 1),
    ("United Arab Emirates", None, "Dubai", "00000", "+971 4", ".ae", 1),
    ("South Africa", None, "Johannesburg", "2001", "+27 11", ".co.za", 0.7),
    ("Kenya", None, "Nairobi", "00100", "+254 20", ".co.ke", 0.4),
    ("Nigeria", None, "Lagos", "100001", "+234 1", ".ng", 0.4),
    ("Belgium", None, "Brussels", "1000", "+32 2", ".be", 0.5),
    ("Norway", None, "Oslo", "0150", "+47 22", ".no", 0.5),
    ("Denmark", None, "Copenhagen", "1050", "+45 33", ".dk", 0.5),
    ("Romania", None, "Bucharest", "010011", "+40 21", ".ro", 0.3),
    ("Jordan", None, "Amman", "11118", "+962 6", ".jo", 0.2),
    ("India", None, "Bangalore", "560001", "+91 80", ".in", 3),
    ("India", None, "Mumbai", "400001", "+91 22", ".in", 1.5),
    ("Australia", None, "Sydney", "2000", "+61 2", ".com.au", 2),
    ("Australia", None, "Melbourne", "3000", "+61 3", ".com.au", 1),
    ("Japan", None, "Tokyo", "100-0005", "+81 3", ".co.jp", 2),
    ("Singapore", None, "Singapore", "018956", "+65", ".sg", 1.5),
    ("South Korea", None, "Seoul", "04524", "+82 2", ".co.kr", 1),
    ("China", None, "Shanghai", "200000", "+86 21", ".cn", 0.7),
    ("New Zealand", None, "Auckland", "1010", "+64 9", ".co.nz", 0.5),
    ("Philippines", None, "Manila", "1000", "+63 2", ".ph", 0.5),
    ("Hong Kong", None, "Hong Kong", "999077", "+852", ".hk", 0.5),
    ("Indonesia", None, "Jakarta", "10110", "+62 21", ".co.id", 0.4),
    ("Vietnam", None, "Ho Chi Minh City", "700000", "+84 28", ".vn", 0.3),
    ("Malaysia", None, "Kuala Lumpur", "50088", "+60 3", ".my", 0.3),
    ("Brazil", None, "Sao Paulo", "01310-100", "+55 11", ".com.br", 2.5),
    ("Mexico", None, "Mexico City", "06500", "+52 55", ".com.mx", 1.5),
    ("Argentina", None, "Buenos Aires", "C1002", "+54 11", ".com.ar", 1),
    ("Chile", None, "Santiago", "8320000", "+56 2", ".cl", 0.5),
    ("Colombia", None, "Bogota", "110111", "+57 1", ".com.co", 0.7),
    ("Peru", None, "Lima", "15001", "+51 1", ".pe", 0.3),
    ("Panama", None, "Panama City", "0801", "+507", ".com.pa", 0.2),
)

_STREETS = (
    "Market Street",
    "Main Street",
    "Mission Street",
    "Broadway",
    "King Street",
    "High Street",
    "Park Avenue",
    "Oak Avenue",
    "Harbour Road",
    "Station Road",
    "Innovation Drive",
    "Technology Parkway",
    "Commerce Way",
    "Riverside Drive",
    "Lake Shore Drive",
    "Church Street",
    "Queen Street",
    "Elm Street",
    "Sunset Boulevard",
    "Industrial Avenue",
)

_FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth "
    "William Barbara Richard Susan Joseph Jessica Thomas Sarah Carlos Karen "
    "Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Paul Ashley Steven "
    "Emily Andrew Donna Joshua Michelle Kevin Carol Brian Amanda George "
    "Melissa Timothy Deborah Ronald Stephanie Jason Rebecca Ryan Laura "
    "Jacob Sharon Gary Cynthia Nicholas Kathleen Eric Amy Jonathan Angela "
    "Priya Rahul Ananya Arjun Wei Li Hiroshi Yuki Min-jun Seo-yeon Lukas "
    "Hannah Felix Lena Mateo Sofia Lucas Valentina Olivia Noah Emma Liam "
    "Chloe Ethan Aisha Omar Fatima Youssef Chinedu Ngozi Kwame Amara Lars "
    "Ingrid Sven Astrid Pierre Camille Giulia Marco Pablo Lucia Joao Ana "
    "Diego Isabella Raj Deepa Tomasz Agnieszka Ivan Olga Noa Yael Kenji "
    "Sakura Thanh Linh Rizal Siti"
)
_LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez "
    "Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore "
    "Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
    "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Patel Sharma Gupta Singh Kumar Chen Wang Zhang Liu Tanaka "
    "Suzuki Sato Kim Park Choi Muller Schmidt Schneider Fischer Weber "
    "Becker Dubois Laurent Moreau Rossi Russo Ferrari Silva Santos Oliveira "
    "Costa Fernandes Okafor Adeyemi Mensah Haddad Khalil Cohen Levi Jansen "
    "Visser Bakker Andersson Johansson Nielsen Hansen Kowalski Nowak Ivanov "
    "Petrov Murphy Kelly O'Brien Walsh MacDonald Fraser Novak Horvat "
    "Popescu Yilmaz Demir Santoso Tran Pham Reyes Cruz Morales Ortiz Gomez "
    "Diaz Vargas Castillo"
)

# (title, weight); blank titles are None
_LEAD_TITLES: tuple[tuple[str | None, float], ...] = (
    ("VP of Engineering", 3),
    ("VP, Information Technology", 1.5),
    ("Vice President of Technology", 1),
    ("Director of Engineering", 4),
    ("Director of IT", 3),
    ("Senior Director, Infrastructure", 1),
    ("Engineering Manager", 6),
    ("IT Manager", 4),
    ("Release Manager", 1.5),
    ("Product Manager", 2),
    ("Head of DevOps", 2),
    ("Head of Platform", 1.5),
    ("Senior Software Engineer", 5),
    ("Senior Developer", 3),
    ("Software Engineer", 8),
    ("Developer", 6),
    ("DevOps Engineer", 6),
    ("Site Reliability Engineer", 3),
    ("Security Engineer", 2),
    ("QA Engineer", 1.5),
    ("Platform Engineer", 2),
    ("Solutions Architect", 3),
    ("Software Architect", 2),
    ("CTO", 2),
    ("CIO", 1),
    ("Team Lead", 3),
    ("Consultant", 2),
    ("IT Administrator", 2),
    ("Student", 2),
    ("Owner", 1.5),
    ("Analyst", 2),
    (None, 9),
)
_CONTACT_TITLES = (
    "CTO",
    "CIO",
    "VP of Engineering",
    "Director of Engineering",
    "Director of IT",
    "Engineering Manager",
    "Head of DevOps",
    "Procurement Manager",
    "Senior Software Engineer",
    "Solutions Architect",
    "IT Manager",
    "Head of Security",
    "Finance Director",
    "DevOps Engineer",
)

_FREE_MAIL = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "protonmail.com",
    "gmx.de",
    "yahoo.co.in",
)

# Company names: a brand (prefix + suffix) and a business word; companies take
# the combinations PRE x SUF x WORDS in a shuffled order, so names never repeat.
_PRE = _words(
    "Ab Acc Ad Aer Al Alt Am Ap Ar Ast Av Ax Bel Bl Br Cal Cam Car Cel Cl "
    "Cor Cr Cyb Dal Dat Del Dyn El Em En Ev Ex Fal Fin Fl Fr Gal Gen Gl Gr "
    "Hal Hel Hor Hyd Il In Ir Jav Kal Kel Kin Lum Lyr Mag Mar Med Mer Mon "
    "Nav Neb Nex Nor Nov Oct Omn Or Pal Pan Pel Pr Qu Rad Ren Riv Sal Sen "
    "Sol St Syn Tal Tel Ter Tr Ult Ven Ver Vir Wav Xen Zen"
)
_SUF = _words(
    "ara aris ava era ex exa ia ica ido ify ika ion ios ira is ium ix o ola "
    "on ona ora ori os ova um us yn ax eon etra ilo ine ino ista ity ium "
    "oda olt ome onic opia ora orum ovo ura ynx yra abyte acore aflow agrid "
    "alink apoint aspan astack awave azone ebase edge ehub eloop enet "
    "escape esoft ewise iflex igen ilab ipath ishift iverse"
)
# (business word, industry)
_WORDS: tuple[tuple[str, str], ...] = (
    ("Systems", "Technology"),
    ("Labs", "Technology"),
    ("Software", "Software"),
    ("Technologies", "Technology"),
    ("Networks", "Telecommunications"),
    ("Telecom", "Telecommunications"),
    ("Analytics", "Software"),
    ("Cloud", "Software"),
    ("Data", "Software"),
    ("Security", "Software"),
    ("Robotics", "Manufacturing"),
    ("Industries", "Manufacturing"),
    ("Motors", "Automotive"),
    ("Semiconductor", "Manufacturing"),
    ("Health", "Healthcare"),
    ("Medical", "Healthcare"),
    ("Pharma", "Healthcare"),
    ("Biotech", "Healthcare"),
    ("Bank", "Financial Services"),
    ("Capital", "Financial Services"),
    ("Insurance", "Financial Services"),
    ("Payments", "Financial Services"),
    ("Energy", "Energy"),
    ("Power", "Energy"),
    ("Mining", "Energy"),
    ("Logistics", "Transportation"),
    ("Airlines", "Transportation"),
    ("Freight", "Transportation"),
    ("Retail", "Retail"),
    ("Foods", "Retail"),
    ("Apparel", "Retail"),
    ("Media", "Entertainment"),
    ("Games", "Entertainment"),
    ("Studios", "Entertainment"),
    ("Education", "Education"),
    ("Consulting", "Services"),
    ("Partners", "Services"),
    ("Group", "Services"),
    ("Hotels", "Hospitality"),
    ("Holdings", "Financial Services"),
)
_LEGAL = ("", "", "", " Inc.", " LLC", " Ltd", " GmbH", " Corp.", " S.A.", " AG")
_NAME_SPACE = len(_PRE) * len(_SUF) * len(_WORDS)

_PUBLIC_PLACES = (
    "City of Austin",
    "City of Boston",
    "City of Denver",
    "City of Seattle",
    "City of Chicago",
    "City of Atlanta",
    "City of Phoenix",
    "City of Raleigh",
    "State of Ohio",
    "State of Texas",
    "State of Virginia",
    "State of Colorado",
    "State of Oregon",
    "State of Georgia",
    "State of Minnesota",
    "State of Utah",
    "Fairfax County",
    "Maricopa County",
    "King County",
    "Cook County",
    "Travis County",
    "Wake County",
    "Hennepin County",
    "Miami-Dade County",
    "US Department of Energy",
    "US Department of Veterans Affairs",
    "US Department of Transportation",
    "US Department of Agriculture",
    "US Air Force",
    "US Navy",
    "US Army",
    "National Weather Service",
)
_PUBLIC_UNITS = (
    "",
    " IT Services",
    " Digital Services",
    " Cybersecurity Office",
    " Public Health",
    " Transit Authority",
    " Research Lab",
    " Water Utility",
)

# Lead sources: name, form (the lead is created by its inbound touch),
# low (touches that do not make an MQL alone), high (the path to MQL).
_SOURCE_DEFS: tuple[tuple[str, bool, tuple[K, ...], tuple[K, ...]], ...] = (
    (
        "Web Direct",
        True,
        (K.PRICING_PAGE_VISIT, K.FEATURES_PAGE_VISIT, K.INSTALLATION_PAGE_VISIT),
        (K.PRICING_PAGE_VISIT, K.ENTERPRISE_TRIAL_PAGE_VISIT, K.TRIAL_REQUEST),
    ),
    (
        "Trial - Enterprise",
        True,
        (K.ENTERPRISE_TRIAL_PAGE_VISIT, K.FEATURES_PAGE_VISIT),
        (K.TRIAL_REQUEST,),
    ),
    (
        "GitLab.com",
        True,
        (K.INSTALLATION_PAGE_VISIT, K.FEATURES_PAGE_VISIT, K.PRICING_PAGE_VISIT),
        (K.TRIAL_REQUEST,),
    ),
    (
        "Contact Us",
        True,
        (K.WEB_CHAT, K.PRICING_PAGE_VISIT),
        (K.CONTACT_US_REQUEST,),
    ),
    (
        "Webcast",
        True,
        (
            K.WEBCAST_REGISTRATION,
            K.LOW_INTENT_LIVE_ATTENDED,
            K.LOW_INTENT_ON_DEMAND_WATCHED,
            K.WEBCAST_EMAIL_OPT_IN,
        ),
        (K.WEBCAST_REGISTRATION, K.HIGH_INTENT_LIVE_ATTENDED),
    ),
    (
        "Trade Show",
        False,
        (K.TRADESHOW_BOOTH_VISIT, K.LIVE_EVENT_EMAIL_OPT_IN),
        (K.TRADESHOW_BOOTH_VISIT, K.LIVE_EVENT_ATTENDED, K.ENTERPRISE_TRIAL_PAGE_VISIT),
    ),
    (
        "Organic Search",
        True,
        (K.FEATURES_PAGE_VISIT, K.GATED_ASSET_DOWNLOAD, K.NEWSLETTER_OPT_IN),
        (K.GATED_ASSET_DOWNLOAD, K.CONTACT_US_REQUEST),
    ),
    (
        "Paid Search",
        True,
        (K.GATED_ASSET_DOWNLOAD, K.PRICING_PAGE_VISIT),
        (K.GATED_ASSET_DOWNLOAD, K.TRIAL_REQUEST),
    ),
    (
        "Referral",
        False,
        (K.WEB_CHAT, K.FEATURES_PAGE_VISIT),
        (K.CONTACT_US_REQUEST,),
    ),
    (
        "Outbound",
        False,
        (K.NEWSLETTER_OPT_IN, K.WEB_CHAT),
        (K.HIGH_INTENT_ON_DEMAND_WATCHED, K.ENTERPRISE_TRIAL_PAGE_VISIT),
    ),
    (
        "CE Download",
        False,
        (K.INSTALLATION_PAGE_VISIT, K.SECURITY_NEWSLETTER_OPT_IN),
        (K.INSTALLATION_PAGE_VISIT, K.TRIAL_REQUEST),
    ),
    (
        "Support",
        False,
        (K.WEB_CHAT,),
        (K.CONTACT_US_REQUEST,),
    ),
    (
        "Gated Content",
        True,
        (K.GATED_ASSET_DOWNLOAD,),
        (K.GATED_ASSET_DOWNLOAD, K.HIGH_INTENT_ON_DEMAND_WATCHED, K.PRICING_PAGE_VISIT),
    ),
    (
        "Newsletter",
        True,
        (K.NEWSLETTER_OPT_IN, K.SECURITY_NEWSLETTER_OPT_IN),
        (K.NEWSLETTER_OPT_IN, K.HIGH_INTENT_LIVE_ATTENDED),
    ),
    (
        "Professional Services",
        True,
        (K.FEATURES_PAGE_VISIT,),
        (K.PROFESSIONAL_SERVICES_REQUEST,),
    ),
    (
        "Partner",
        False,
        (K.WEB_CHAT,),
        (K.CONTACT_US_REQUEST,),
    ),
    (
        "Social Media",
        True,
        (K.GATED_ASSET_DOWNLOAD, K.WEBCAST_REGISTRATION),
        (K.GATED_ASSET_DOWNLOAD, K.ENTERPRISE_TRIAL_PAGE_VISIT, K.PRICING_PAGE_VISIT),
    ),
)
_SOURCE_INDEX = {name: i for i, (name, *_rest) in enumerate(_SOURCE_DEFS)}
# weights of the sources by the kind of path a lead took
_SOURCES_NO_TOUCH = {  # RAW; imported lists and prospecting
    "Trade Show": 25,
    "Outbound": 25,
    "Webcast": 10,
    "CE Download": 15,
    "Referral": 5,
    "Support": 5,
    "Partner": 5,
    "GitLab.com": 10,
}
_SOURCES_INQUIRY = {  # inbound, never an MQL
    "Web Direct": 12,
    "Organic Search": 15,
    "Paid Search": 12,
    "Webcast": 15,
    "Trade Show": 10,
    "GitLab.com": 10,
    "CE Download": 6,
    "Gated Content": 8,
    "Newsletter": 5,
    "Trial - Enterprise": 4,
    "Social Media": 3,
}
_SOURCES_MQL = {
    "Trial - Enterprise": 20,
    "Contact Us": 15,
    "Webcast": 12,
    "GitLab.com": 12,
    "Web Direct": 8,
    "Paid Search": 8,
    "Organic Search": 8,
    "Trade Show": 6,
    "Referral": 4,
    "Professional Services": 2,
    "Partner": 3,
    "Gated Content": 2,
}
_SOURCES_SALES_TOUCH = {  # accepted without ever being an MQL
    "Referral": 40,
    "Outbound": 30,
    "Support": 15,
    "Partner": 15,
}
_CONTACT_SOURCES = {
    "Outbound": 20,
    "Referral": 10,
    "Trade Show": 12,
    "Web Direct": 10,
    "Contact Us": 10,
    "Trial - Enterprise": 8,
    "Webcast": 8,
    "Partner": 8,
    "Organic Search": 6,
    "Support": 4,
    "CE Download": 4,
}
_ACCOUNT_SOURCES = (
    "Outbound",
    "Web Direct",
    "Trade Show",
    "Referral",
    "Partner",
    "Inbound",
    "Data Enrichment",
)

# Boosters added (in this order, first unused) until an MQL path reaches 90.
_BOOSTERS = (
    K.ENTERPRISE_TRIAL_PAGE_VISIT,
    K.HIGH_INTENT_ON_DEMAND_WATCHED,
    K.HIGH_INTENT_LIVE_ATTENDED,
    K.TRIAL_REQUEST,
)
_HAND_RAISING = {K.TRIAL_REQUEST, K.HIGH_INTENT_LIVE_ATTENDED, K.WEB_CHAT}
_SLA_KINDS = {K.CONTACT_US_REQUEST, K.PROFESSIONAL_SERVICES_REQUEST}
_POINTS = {kind: DEFAULT_POINTS[kind] for kind in K}
_MOMENTS = {kind: ENGAGEMENT_DESCRIPTIONS[kind] for kind in K}

# Lead status mix and the paths (after RAW) that lead to each status.
_LEAD_STATUS_WEIGHTS = {
    L.RAW: 22,
    L.INQUIRY: 25,
    L.NURTURE: 18,
    L.MQL: 8,
    L.ACCEPTED: 5,
    L.QUALIFYING: 4,
    L.QUALIFIED: 5,
    L.UNQUALIFIED: 7,
    L.BAD_DATA: 3,
    L.WEB_PORTAL_PURCHASE: 3,
}
_LEAD_PATHS: dict[L, tuple[tuple[tuple[L, ...], float], ...]] = {
    L.RAW: (((), 0.95), ((L.BAD_DATA, L.RAW), 0.05)),
    L.INQUIRY: (((L.INQUIRY,), 0.9), ((L.INQUIRY, L.NURTURE, L.INQUIRY), 0.1)),
    L.MQL: (((L.INQUIRY, L.MQL), 1.0),),
    L.ACCEPTED: (
        ((L.INQUIRY, L.MQL, L.ACCEPTED), 0.9),
        ((L.INQUIRY, L.ACCEPTED), 0.1),
    ),
    L.QUALIFYING: (
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.QUALIFYING), 0.92),
        ((L.INQUIRY, L.ACCEPTED, L.QUALIFYING), 0.08),
    ),
    L.QUALIFIED: (
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.QUALIFYING, L.QUALIFIED), 0.95),
        ((L.INQUIRY, L.ACCEPTED, L.QUALIFYING, L.QUALIFIED), 0.05),
    ),
    L.NURTURE: (
        ((L.INQUIRY, L.NURTURE), 0.6),
        ((L.INQUIRY, L.MQL, L.NURTURE), 0.2),
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.NURTURE), 0.15),
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.QUALIFYING, L.NURTURE), 0.05),
    ),
    L.UNQUALIFIED: (
        ((L.UNQUALIFIED,), 0.2),
        ((L.INQUIRY, L.UNQUALIFIED), 0.3),
        ((L.INQUIRY, L.MQL, L.UNQUALIFIED), 0.2),
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.UNQUALIFIED), 0.2),
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.QUALIFYING, L.UNQUALIFIED), 0.1),
    ),
    L.BAD_DATA: (((L.BAD_DATA,), 0.6), ((L.INQUIRY, L.BAD_DATA), 0.4)),
    L.WEB_PORTAL_PURCHASE: (
        ((L.WEB_PORTAL_PURCHASE,), 0.3),
        ((L.INQUIRY, L.WEB_PORTAL_PURCHASE), 0.5),
        ((L.INQUIRY, L.MQL, L.WEB_PORTAL_PURCHASE), 0.2),
    ),
}
# seconds (low, high) spent before entering a status
_LEAD_STEP = {
    L.ACCEPTED: (2 * HOUR, 3 * DAY),
    L.QUALIFYING: (1 * DAY, 14 * DAY),
    L.QUALIFIED: (2 * DAY, 30 * DAY),
    L.UNQUALIFIED: (1 * DAY, 45 * DAY),
    L.NURTURE: (3 * DAY, 60 * DAY),
    L.BAD_DATA: (1 * HOUR, 10 * DAY),
    L.WEB_PORTAL_PURCHASE: (1 * DAY, 40 * DAY),
    L.RAW: (1 * DAY, 20 * DAY),
    L.INQUIRY: (5 * DAY, 90 * DAY),  # NURTURE -> INQUIRY on a new touch
}
_LEAD_REASONS = {
    L.UNQUALIFIED: (
        "No budget and no project",
        "Student or personal use",
        "Spam form submission",
        "Works for a competitor",
        "Not a decision maker; no interest from the team",
        "Already a customer through a reseller",
    ),
    L.NURTURE: (
        "Not ready to buy now; revisit next quarter",
        "Evaluating in 6 to 12 months",
        "Budget only in the next fiscal year",
        "Went silent after first contact",
        "Happy with the current tool for now",
    ),
    L.BAD_DATA: (
        "Email bounced",
        "Fake name and company",
        "Phone number invalid",
        "Company cannot be identified",
    ),
}

_OPP_STAGE_WEIGHTS = {
    S.PRE_OPPORTUNITY: 3,
    S.PENDING_ACCEPTANCE: 10,
    S.DISCOVERY: 10,
    S.SCOPING: 7,
    S.TECHNICAL_EVALUATION: 7,
    S.PROPOSAL: 6,
    S.NEGOTIATING: 5,
    S.AWAITING_SIGNATURE: 3,
    S.CLOSED_WON: 22,
    S.CLOSED_LOST: 18,
    S.UNQUALIFIED: 6,
    S.DUPLICATE: 3,
}
_PIPELINE = (
    S.PENDING_ACCEPTANCE,
    S.DISCOVERY,
    S.SCOPING,
    S.TECHNICAL_EVALUATION,
    S.PROPOSAL,
    S.NEGOTIATING,
    S.AWAITING_SIGNATURE,
)
_PIPE_POS = {stage: i for i, stage in enumerate(_PIPELINE)}
# days (low, high) spent before entering a stage
_OPP_STEP = {
    S.PENDING_ACCEPTANCE: (1, 10),
    S.DISCOVERY: (1, 14),
    S.SCOPING: (5, 30),
    S.TECHNICAL_EVALUATION: (7, 40),
    S.PROPOSAL: (7, 45),
    S.NEGOTIATING: (5, 30),
    S.AWAITING_SIGNATURE: (3, 21),
    S.CLOSED_WON: (1, 14),
    S.CLOSED_LOST: (5, 60),
    S.UNQUALIFIED: (1, 20),
    S.DUPLICATE: (0.1, 3),
}
_LOST_FROM_WEIGHTS = {
    S.DISCOVERY: 30,
    S.SCOPING: 25,
    S.TECHNICAL_EVALUATION: 20,
    S.PROPOSAL: 12,
    S.NEGOTIATING: 8,
    S.AWAITING_SIGNATURE: 5,
}
_LOST_REASONS = {
    ClosedLostReason.LOST_TO_COMPETITOR: 25,
    ClosedLostReason.PRICING: 15,
    ClosedLostReason.NO_BUDGET: 15,
    ClosedLostReason.NO_DECISION_OR_PROJECT_CANCELLED: 20,
    ClosedLostReason.PRODUCT_FIT: 10,
    ClosedLostReason.TIMING: 10,
    ClosedLostReason.CONSOLIDATING_ORDER: 2,
    ClosedLostReason.OTHER: 3,
}
_LOST_DETAILS = {
    ClosedLostReason.LOST_TO_COMPETITOR: "Chose a competitor bundled with their cloud.",
    ClosedLostReason.PRICING: "Per-seat price above their budget line.",
    ClosedLostReason.NO_BUDGET: "Budget frozen for the rest of the year.",
    ClosedLostReason.NO_DECISION_OR_PROJECT_CANCELLED: (
        "Project cancelled after a reorganisation."
    ),
    ClosedLostReason.PRODUCT_FIT: "Needed an on-premises feature we do not offer.",
    ClosedLostReason.TIMING: "Revisit after their migration next year.",
    ClosedLostReason.CONSOLIDATING_ORDER: "Folded into the customer's larger order.",
    ClosedLostReason.MERGED_INTO_ANOTHER_OPPORTUNITY: (
        "Duplicate effort; merged into the main opportunity."
    ),
    ClosedLostReason.OTHER: "Champion left the company.",
}
_BUSINESS_PROBLEMS = (
    "Release cycle takes weeks; wants CI/CD in one platform.",
    "Toolchain sprawl: five tools to maintain, no single audit trail.",
    "Security scans run too late; needs shift-left DevSecOps.",
    "Migrating off a self-hosted legacy SCM before end of support.",
    "Compliance audit requires traceability from issue to deploy.",
    "Developers wait on shared runners; builds too slow.",
    "Needs value-stream metrics for the engineering leadership.",
    "Consolidating source control after an acquisition.",
    "Kubernetes rollout needs GitOps and environment promotion.",
    "Wants to cut CI spend by moving to autoscaling runners.",
)
_PURCHASING_PLANS = (
    "Legal review week 1, procurement sign-off week 2, PO by month end.",
    "Security questionnaire, then VP approval and card payment.",
    "Vendor onboarding, budget holder sign-off, signature by quarter end.",
    "Reseller quote, customer PO to reseller, order placed by reseller.",
)
_POC_NOTES = (
    "Two-week POC with three teams; pipelines migrated successfully.",
    "POC on the self-managed instance; SSO and runners validated.",
    "Security scanning POC on two repositories; findings reviewed with AppSec.",
)
_POC_CRITERIA = (
    "Build time halved; SAML SSO works; audit events exported.",
    "Pipelines for 3 services green; merge request approvals enforced.",
    "SAST and dependency scanning on every merge request.",
)
_WON_DETAILS = (
    "Won on platform consolidation; replaced three tools.",
    "Executive sponsor drove the decision; security features decisive.",
    "Won against the incumbent on CI performance and price.",
    "Expansion after a successful team rollout.",
)
_BACK_REASONS = (
    "Technical questions reopened by the security team",
    "New stakeholders asked for another evaluation",
    "Scope changed after the budget review",
)
_OPP_UNQUALIFIED_REASONS = (
    "No real project behind the request",
    "Existing customer request; routed to support",
    "Company too small for a sales-assisted deal",
)
_CONTACT_ROLES = (
    "Decision Maker",
    "Economic Buyer",
    "Champion",
    "Technical Buyer",
    "Evaluator",
    "Influencer",
)
_EDITIONS = ("Starter", "Premium", "Ultimate")
_TYPE_LABELS = {
    OpportunityType.NEW_BUSINESS: "New Business",
    OpportunityType.ADD_ON: "Add-On",
    OpportunityType.RENEWAL: "Renewal",
}
_IACV_RANGE = {  # USD
    SalesSegment.SMB: (1_000, 15_000),
    SalesSegment.MID_MARKET: (4_000, 60_000),
    SalesSegment.LARGE: (12_000, 150_000),
    SalesSegment.STRATEGIC: (30_000, 150_000),
    SalesSegment.UNKNOWN: (1_000, 30_000),
}

# Campaigns: key (webcast, event, or the lead source it is attributed to),
# name, channel, spend range in USD, start (days before now), days running.
_CAMPAIGN_TABLE = """
webcast            | CI_CD_Deep_Dive                        | EMAIL        |  3000 |  12000 | 500 | 1
webcast            | DevSecOps_in_Practice                  | EMAIL        |  3000 |  12000 | 390 | 1
webcast            | GitOps_for_Kubernetes                  | EMAIL        |  3000 |  12000 | 260 | 1
webcast            | Platform_Engineering_101               | EMAIL        |  3000 |  12000 | 150 | 1
webcast            | AI_Assisted_Code_Review                | EMAIL        |  3000 |  12000 |  45 | 1
event              | AWS re:Invent                          | SPONSORSHIP  | 90000 | 250000 | 470 | 4
event              | KubeCon Europe                         | SPONSORSHIP  | 60000 | 180000 | 330 | 3
event              | DevOps Enterprise Summit               | SPONSORSHIP  | 40000 | 120000 | 200 | 3
event              | Open Source Summit                     | SPONSORSHIP  | 30000 |  90000 |  80 | 3
Paid Search        | Google Ads - Brand Search              | CPC          | 80000 | 220000 | 540 |
Paid Search        | Google Ads - Competitor Terms          | CPC          | 60000 | 160000 | 400 |
Paid Search        | Bing Ads - Generic Search              | CPC          | 10000 |  40000 | 300 |
Social Media       | LinkedIn Ads - DevOps Leaders          | PAID_SOCIAL  | 40000 | 120000 | 360 |
Social Media       | Organic Social - Release Posts         | SOCIAL       |  2000 |   8000 | 540 |
Web Direct         | Display Retargeting - Pricing Visitors | DISPLAY      | 20000 |  70000 | 420 |
Organic Search     | SEO - DevOps Platform Guide            | ORGANIC      |  5000 |  20000 | 540 |
Partner            | Channel Partner Referral Program       | PARTNERS     | 15000 |  60000 | 540 |
Trial - Enterprise | Website - Free Trial                   | WEB_DIRECT   |  5000 |  15000 | 540 |
Contact Us         | Website - Contact Sales                | WEB_DIRECT   |  2000 |   8000 | 540 |
Referral           | Review Sites - Referral Listings       | WEB_REFERRAL |  8000 |  30000 | 540 |
Newsletter         | Monthly Newsletter                     | EMAIL        |  3000 |   9000 | 540 |
Gated Content      | Content Syndication - Gated eBooks     | OTHER        | 20000 |  60000 | 480 |
"""  # noqa: E501
_CAMPAIGN_DEFS = [
    (
        key,
        name,
        CampaignChannel[channel],
        int(low),
        int(high),
        int(ago),
        int(days) if days else None,
    )
    for key, name, channel, low, high, ago, days in (
        [cell.strip() for cell in line.split("|")]
        for line in _CAMPAIGN_TABLE.strip().splitlines()
    )
]
_SOURCE_CAMPAIGN_ALIASES = {
    "GitLab.com": "Trial - Enterprise",
    "Professional Services": "Contact Us",
    "CE Download": "Newsletter",
}
_WEBCAST_KINDS = {
    K.WEBCAST_REGISTRATION,
    K.HIGH_INTENT_LIVE_ATTENDED,
    K.LOW_INTENT_LIVE_ATTENDED,
    K.HIGH_INTENT_ON_DEMAND_WATCHED,
    K.LOW_INTENT_ON_DEMAND_WATCHED,
    K.WEBCAST_EMAIL_OPT_IN,
}
_EVENT_KINDS = {
    K.TRADESHOW_BOOTH_VISIT,
    K.LIVE_EVENT_ATTENDED,
    K.LIVE_EVENT_EMAIL_OPT_IN,
}
_NEWSLETTER_KINDS = {K.NEWSLETTER_OPT_IN, K.SECURITY_NEWSLETTER_OPT_IN}


# --- helpers ----------------------------------------------------------------


def _dt(ts: int) -> datetime:
    """The UTC datetime of a timestamp (whole seconds since 1970)."""
    return datetime.fromtimestamp(ts, UTC)


def _ts(moment: datetime) -> int:
    """Whole seconds since 1970 of an aware datetime."""
    return int((moment - _EPOCH).total_seconds())


class _Picker:
    """A weighted choice by one uniform draw (bisect over cumulative weights)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, weighted: Sequence[tuple[Any, float]]) -> None:
        self.items = [item for item, _ in weighted]
        total = 0.0
        self.cum: list[float] = []
        for _, weight in weighted:
            total += weight
            self.cum.append(total)
        self.total = total

    def __call__(self, u: float) -> Any:
        """The item for a uniform draw ``u`` in [0, 1)."""
        return self.items[bisect_right(self.cum, u * self.total)]


def _quota(weights: Mapping[Any, float], n: int, rng: random.Random) -> list[Any]:
    """``n`` items in the proportions of ``weights`` (each at least once), shuffled."""
    total = sum(weights.values())
    exact = {item: w * n / total for item, w in weights.items()}
    counts = {item: int(x) for item, x in exact.items()}
    if n >= len(weights):
        for item in counts:
            counts[item] = max(counts[item], 1)
    short = n - sum(counts.values())
    by_remainder = sorted(weights, key=lambda i: exact[i] - int(exact[i]), reverse=True)
    while short > 0:
        for item in by_remainder:
            if short == 0:
                break
            counts[item] += 1
            short -= 1
    while short < 0:  # the minimums pushed us over: take from the largest
        largest = max(counts, key=lambda i: counts[i])
        counts[largest] -= 1
        short += 1
    items = [item for item, c in counts.items() for _ in range(c)]
    rng.shuffle(items)
    return items


def _slug(text_: str) -> str:
    return "".join(ch for ch in text_.lower() if ch.isalnum())


_SLUGS: dict[str, str] = {}


def _email_local(first: str, last: str, style: float) -> str:
    first_ = _SLUGS.get(first) or _SLUGS.setdefault(first, _slug(first))
    last_ = _SLUGS.get(last) or _SLUGS.setdefault(last, _slug(last))
    if style < 0.7:
        return f"{first_}.{last_}"
    if style < 0.85:
        return f"{first_[0]}{last_}"
    if style < 0.95:
        return f"{first_}{last_[0]}"
    return f"{first_}_{last_}"


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _log_uniform(rng_u: float, low: float, high: float) -> float:
    return math.exp(math.log(low) + rng_u * (math.log(high) - math.log(low)))


@dataclass(slots=True)
class _Loc:
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
class _Company:
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
    id: int
    name: str
    role: Role
    region: Region | None
    active: bool


@dataclass(slots=True)
class _Converted:
    """What a converted lead became, drawn before the contacts and opportunities."""

    lead_index: int
    email: str
    account: int  # account index
    converted_at: int
    owner_id: int
    campaign_id: int | None = None
    contact_id: int = 0
    opportunity_id: int = 0
    # the milestones its opportunity reached: (milestone, ts) and its SQS
    opportunity_moves: list[tuple[Any, int]] = field(default_factory=list)
    sales_qualification_source: SalesQualificationSource | None = None


@dataclass(slots=True)
class _OppPlan:
    created: int
    stage: S
    account: int
    lead: _Converted | None = None
    duplicate_target: _OppPlan | None = None
    opp_id: int = 0


class _Sink:
    """Inserts rows table by table, counting them.

    Rows are dicts keyed by column name; UTCDateTime columns hold whole
    seconds since 1970 (or None). Each value goes through its column type's
    bind processor for the connection's dialect (Money to cents, UTCDateTime
    to UTC, enums to their values, JSON to text), exactly as a Core insert
    would convert it; the rows then go to the driver in chunks, without
    Core's per-row parameter bookkeeping: an ``executemany`` of a positional
    INSERT, or on PostgreSQL with psycopg a binary ``COPY ... FROM STDIN``
    run by a writer thread, so that the server stores the rows while the next
    are drawn (measured at 200,000 leads: 56 s when each COPY is awaited, 37 s
    so; at 40,000 leads row-by-row INSERTs took 14.5 s, awaited COPYs 11.0 s,
    the writer thread 7.6 s; binary COPY takes a sixth of the client CPU of
    text COPY).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.counts: dict[str, int] = {t.name: 0 for t in TABLES}
        self._plans: dict[str, _InsertPlan] = {}
        dialect = conn.dialect
        self.writer: _Writer | None = None
        copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        # Binary COPY needs each column's type (read before the writer owns
        # the connection); measured: 6x less client CPU than text COPY.
        self.column_types: dict[tuple[str, str], int] = {}
        if copy:
            found = conn.exec_driver_sql(
                "SELECT c.relname, a.attname, a.atttypid::int FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE c.relname = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped",
                ([t.name for t in TABLES],),
            )
            self.column_types = {(t, name): oid for t, name, oid in found}
        if copy:
            self.writer = _Writer(conn.connection.driver_connection)
            self.writer.start()

    def close(self, *, abort: bool = False) -> None:
        """Wait until every row is written (PostgreSQL); raise a writer's error.

        With ``abort`` the rows still queued are dropped (the transaction is
        about to roll back).
        """
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.finish(abort=abort)

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        plan = self._plans.get(table.name)
        if plan is None:
            plan = self._plans[table.name] = _InsertPlan(table, self.conn.dialect)
        for start in range(0, len(rows), CHUNK):
            part = rows[start : start + CHUNK]
            if self.writer is not None:
                types = [self.column_types[(table.name, c.name)] for c in table.c]
                self.writer.put(plan.copy_sql, plan.parameters(part), types)
            else:
                self.conn.exec_driver_sql(plan.sql, plan.parameters(part))
            self.counts[table.name] += len(part)


class _Writer(threading.Thread):
    """Runs the binary COPY of each queued chunk, in order, on the driver
    connection.

    The main thread does not touch the connection until ``finish`` returns.
    """

    def __init__(self, driver_connection: Any) -> None:
        super().__init__(name="salesops-demo-copy", daemon=True)
        self.driver_connection = driver_connection
        self.queue: queue.Queue[tuple[str, list[tuple[Any, ...]], list[int]] | None]
        self.queue = queue.Queue(maxsize=8)
        self.error: BaseException | None = None
        self.abort = False

    def run(self) -> None:
        try:
            with self.driver_connection.cursor() as cursor:
                while (item := self.queue.get()) is not None:
                    if self.abort:
                        continue
                    sql, rows, types = item
                    with cursor.copy(sql) as copy:
                        copy.set_types(types)
                        write_row = copy.write_row
                        for values in rows:
                            write_row(values)
        except BaseException as error:
            self.error = error
            while self.queue.get() is not None:  # let the producer finish
                pass

    def put(self, sql: str, rows: list[tuple[Any, ...]], types: list[int]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((sql, rows, types))

    def finish(self, *, abort: bool = False) -> None:
        self.abort = abort
        self.queue.put(None)
        self.join()
        if self.error is not None and not abort:
            raise self.error


_PROBE_TIMESTAMPS = (0, 951_868_799, 1_772_452_805, 4_102_444_799)


class _SQLiteTimestamps:
    """The text SQLite stores for whole-second UTC times, from cached parts.

    Used only when it gives, for probe values, exactly what the column
    type's own bind processor gives (see ``_InsertPlan``).
    """

    def __init__(self) -> None:
        self.days: dict[int, str] = {}
        self.times = [
            f"{h:02d}:{m:02d}:{sec:02d}.000000"
            for h in range(24)
            for m in range(60)
            for sec in range(60)
        ]

    def __call__(self, ts: int) -> str:
        day, second = divmod(ts, DAY)
        text_ = self.days.get(day)
        if text_ is None:
            text_ = self.day(day)
        return text_ + self.times[second]

    def day(self, day: int) -> str:
        """The date part of a day's times (cached)."""
        text_ = self.days[day] = _dt(day * DAY).strftime("%Y-%m-%d ")
        return text_


@cache
def _sqlite_timestamps() -> _SQLiteTimestamps:
    return _SQLiteTimestamps()


def _timestamp_converter(
    processor: Callable[[Any], Any] | None, dialect: Any
) -> Callable[[int], Any]:
    """Seconds since 1970 to the value the column type binds.

    A shortcut (SQLite's text, or the datetime itself) is taken only when it
    equals the type's own result on probe values; otherwise every value goes
    through the type's bind processor.
    """

    def through_type(ts: int) -> Any:
        moment = _dt(ts)
        return processor(moment) if processor is not None else moment

    shortcut: Callable[[int], Any]
    shortcut = _sqlite_timestamps() if dialect.name == "sqlite" else _dt
    if all(shortcut(ts) == through_type(ts) for ts in _PROBE_TIMESTAMPS):
        return shortcut
    return through_type


class _InsertPlan:
    """A table's positional INSERT and the bind processors of its columns.

    Enum and boolean columns take few values: each value's processed form is
    computed once by the type's processor and then looked up.
    """

    def __init__(self, table: Table, dialect: Any) -> None:
        names = [column.name for column in table.columns]
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        target = (
            f"{dialect.identifier_preparer.format_table(table)} "
            f"({', '.join(quote(name) for name in names)})"
        )
        self.sql = f"INSERT INTO {target} VALUES ({', '.join([mark] * len(names))})"
        self.copy_sql = f"COPY {target} FROM STDIN (FORMAT BINARY)"
        self.getter = itemgetter(*names)
        self.processors: list[tuple[int, Callable[[Any], Any]]] = []
        self.memos: list[tuple[int, dict[Any, Any], Callable[[Any], Any]]] = []
        self.timestamps: list[tuple[int, Callable[[int], Any]]] = []
        # SQLite's timestamp text is built inline (no call per value) when the
        # cached parts are what the type binds.
        self.sqlite_text: _SQLiteTimestamps | None = None
        self.text_columns: list[int] = []
        for i, column in enumerate(table.columns):
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if isinstance(column.type, UTCDateTime):
                convert = _timestamp_converter(processor, dialect)
                if isinstance(convert, _SQLiteTimestamps):
                    self.sqlite_text = convert
                    self.text_columns.append(i)
                else:
                    self.timestamps.append((i, convert))
            elif processor is not None and isinstance(column.type, SAEnum | Boolean):
                self.memos.append((i, {}, processor))
            elif processor is not None:
                self.processors.append((i, processor))

    def parameters(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        getter = self.getter
        processors = self.processors
        memos = self.memos
        timestamps = self.timestamps
        text_columns = self.text_columns
        texts = self.sqlite_text
        days = texts.days if texts is not None else {}
        times = texts.times if texts is not None else []
        out = []
        for row in rows:
            values = list(getter(row))
            for i, processor in processors:
                value = values[i]
                if value is not None:
                    values[i] = processor(value)
            for i, memo, processor in memos:
                value = values[i]
                if value is not None:
                    found = memo.get(value)
                    if found is None:
                        found = memo[value] = processor(value)
                    values[i] = found
            for i, convert in timestamps:
                ts = values[i]
                if ts is not None:
                    values[i] = convert(ts)
            for i in text_columns:
                ts = values[i]
                if ts is not None:
                    day, second = divmod(ts, DAY)
                    date_part = days.get(day)
                    if date_part is None:
                        date_part = texts.day(day)  # type: ignore[union-attr]
                    values[i] = date_part + times[second]
            out.append(tuple(values))
        return out


# --- the generator ------------------------------------------------------------


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
    sqlite = engine.dialect.name == "sqlite"
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived rows and no cycles: spare the collector
    try:
        counts = _load(engine, scale, seed, now, progress)
    finally:
        if collecting:
            gc.enable()
    if sqlite:  # move the load out of the write-ahead log, and shrink the log
        raw = engine.raw_connection()
        try:
            cast(Any, raw.driver_connection).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    else:  # the funnel's index walks want the visibility map and statistics now
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {FUNNEL_ENTRIES.name}")
    return DemoSummary(
        **{f.name: counts[f.name] for f in fields(DemoSummary) if f.name in counts},
        seconds=time.perf_counter() - started,
    )


def _load(
    engine: Engine,
    scale: float,
    seed: int,
    now: datetime,
    progress: Progress | None,
) -> dict[str, int]:
    """Write the data set in one transaction; the row counts by table.

    Indexes (on PostgreSQL all secondary indexes, unique and foreign-key
    constraints; on SQLite the funnel entries' indexes) are dropped first and
    built again once the rows are in, inside the same transaction: building
    an index from all its rows is a sort, where maintaining it row by row is
    a random insert per row and index. SQLite does not check foreign keys
    during the load (its pragma cannot be changed inside a transaction, and
    the generator writes keys that hold by construction); PostgreSQL checks
    each one again when it is added back.
    """
    sqlite = engine.dialect.name == "sqlite"
    report = progress or (lambda _phase, _done, _total: None)
    with engine.connect() as conn:
        driver = cast(Any, conn.connection.driver_connection)
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            conn = conn.execution_options(**{_IMMEDIATE: True})
            with conn.begin():
                _refuse_unless_empty(conn)
                if sqlite:  # a larger page cache for a big load and its indexes
                    cache_size = driver.execute("PRAGMA cache_size").fetchone()[0]
                    driver.execute("PRAGMA cache_size=-1048576")
                else:
                    conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
                try:
                    rebuild = _drop_for_load(conn)
                    builder = _Builder(conn, scale, seed, now, progress)
                    try:
                        builder.run()
                    except BaseException:
                        builder.sink.close(abort=True)
                        raise
                    builder.sink.close()
                    report("indexes", 0, len(rebuild))
                    for done, statement in enumerate(rebuild, start=1):
                        conn.execute(statement)
                        report("indexes", done, len(rebuild))
                finally:
                    if sqlite:
                        driver.execute(f"PRAGMA cache_size={int(cache_size)}")
                if not sqlite:
                    _reset_sequences(conn)
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")
    return builder.sink.counts


def _drop_for_load(conn: Connection) -> list[Any]:
    """Drop what slows the load (see ``_load``); the statements that build it
    again, indexes before constraints."""
    indexes: list[Any] = []
    uniques: list[Any] = []
    foreign_keys: list[Any] = []
    postgresql = conn.dialect.name == "postgresql"
    if not postgresql:
        # SQLite keeps its indexes (building one afterwards reads the whole
        # table again: measured slower) but those of the funnel entries, whose
        # per-milestone keys arrive in random order (measured at 200,000
        # leads: 26.3 s so, 30.7 s keeping them).
        for index in sorted(FUNNEL_ENTRIES.indexes, key=lambda i: str(i.name)):
            conn.execute(DropIndex(index))
            indexes.append(CreateIndex(index))
        return indexes
    for table in TABLES:
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            conn.execute(DropIndex(index))
            indexes.append(CreateIndex(index))
        for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
            if isinstance(constraint, ForeignKeyConstraint):
                conn.execute(DropConstraint(constraint))
                foreign_keys.append(AddConstraint(constraint))
    if postgresql:
        for table in TABLES:
            for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
                if isinstance(constraint, UniqueConstraint):
                    conn.execute(DropConstraint(constraint))
                    uniques.append(AddConstraint(constraint))
    return indexes + uniques + foreign_keys


def _refuse_unless_empty(conn: Connection) -> None:
    names = set(inspect(conn).get_table_names())
    missing = [t.name for t in TABLES if t.name not in names]
    if missing:
        raise ValueError(
            "The database is not migrated (missing tables: "
            f"{', '.join(missing)}); run the migrations first."
        )
    found = []
    for table in TABLES:
        count = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if count:
            found.append(f"{count:,} {table.name}")
    if found:
        raise ValueError(
            "The demo data set loads only into an empty database; this one already "
            f"has {', '.join(found)}."
        )


def _reset_sequences(conn: Connection) -> None:
    for table in TABLES:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                f"(SELECT MAX(id) IS NOT NULL FROM {table.name}))"
            )
        )


class _Builder:
    """Draws the data set and writes it, phase by phase."""

    def __init__(
        self,
        conn: Connection,
        scale: float,
        seed: int,
        now: datetime,
        progress: Progress | None,
    ) -> None:
        self.scale = scale
        self.seed = seed
        self.now = now
        self.now_ts = int((now - _EPOCH).total_seconds())
        self.progress = progress or (lambda _phase, _done, _total: None)
        self.n_accounts = max(10, round(200 * scale))
        self.n_leads = max(50, round(2_000 * scale))
        self.n_opps = max(20, round(500 * scale))
        self.n_companies = min(
            max(50, round(300 * scale)), _NAME_SPACE - self.n_accounts - 1
        )
        if self.n_accounts + 1_000 > _NAME_SPACE:
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
            for country, state, city, postal, phone, tld, _w in _LOCATIONS
        ]
        self.pick_loc = _Picker([(i, row[-1]) for i, row in enumerate(_LOCATIONS)])
        self.us_locs = [i for i, loc in enumerate(self.locs) if loc.is_us]
        self.loc_by_country: dict[str, int] = {}
        for i, loc in enumerate(self.locs):
            self.loc_by_country.setdefault(loc.country, i)
        self.seen_emails: set[str] = set()
        self.email_bumps: dict[str, int] = {}
        self.transition_id = 0
        self.activity_id = 0
        self.domain_id = 0
        self.team_id = 0
        self.engagement_id = 0
        self.entry_id = 0
        self.sink = _Sink(conn)  # last: on PostgreSQL it starts a writer thread

    def rng(self, phase: str) -> random.Random:
        return random.Random(f"salesops-demo/{self.seed}/{phase}")

    def run(self) -> None:
        self.make_users()
        self.make_campaigns()
        self.make_accounts()
        self.make_companies()
        self.plan_leads()
        self.make_contacts()
        self.make_opportunities()
        self.make_leads()

    # -- emails -----------------------------------------------------------------

    def unique_email(self, local: str, domain: str) -> str:
        email = f"{local}@{domain}"
        seen = self.seen_emails
        if email in seen:
            n = self.email_bumps.get(email, 1)
            while True:
                n += 1
                candidate = f"{local}{n}@{domain}"
                if candidate not in seen:
                    break
            self.email_bumps[email] = n
            email = candidate
        seen.add(email)
        return email

    # -- users ------------------------------------------------------------------

    def make_users(self) -> None:
        rng = self.rng("users")
        specs: list[tuple[str, Role, Region | None, bool, int]] = list(_BASE_USERS)
        extra = round(5 * math.log2(self.scale)) if self.scale > 1 else 0
        taken = {name for name, *_ in specs}
        spare = [n for n in _SPARE_REP_NAMES if n not in taken]
        for k in range(extra):
            if k < len(spare):
                name = spare[k]
            else:
                while True:
                    name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
                    if name not in taken:
                        break
            taken.add(name)
            role = _EXTRA_ROLES[k % len(_EXTRA_ROLES)]
            region: Region | None = _EXTRA_REGIONS[k % len(_EXTRA_REGIONS)]
            specs.append((name, role, region, rng.random() > 0.05, 0))
        rows = []
        self.users: list[_UserRow] = []
        emails: set[str] = set()
        for i, (name, role, region, active, ooo_days) in enumerate(specs, start=1):
            if role is Role.ADMIN:
                email = DEMO_ADMIN_EMAIL
            else:
                first, last = name.split(" ", 1)
                email = f"{_email_local(first, last, 0)}@{EMAIL_DOMAIN}"
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
        rng = self.rng("campaigns")
        rows = []
        self.webcasts: list[tuple[int, int]] = []  # (start ts, id)
        self.events: list[tuple[int, int]] = []
        self.source_campaigns: dict[str, list[int]] = {}
        for i, (key, title, channel, low, high, ago, days) in enumerate(
            _CAMPAIGN_DEFS, start=1
        ):
            start = self.now_ts - ago * DAY
            start_day = _dt(start).date()
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
            spend = _money(rng.randrange(low * 100, high * 100))
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
        for name, *_ in _SOURCE_DEFS:
            key = _SOURCE_CAMPAIGN_ALIASES.get(name, name)
            self.campaign_for_source[name] = self.source_campaigns.get(key, [])
        self.newsletter_campaigns = self.source_campaigns.get("Newsletter", [])

    # -- accounts ---------------------------------------------------------------

    def company_name(self, index: int) -> tuple[str, str, str]:
        """(brand and word, domain stem, industry) of generated company ``index``."""
        k = self.name_order[index]
        word, industry = _WORDS[k % len(_WORDS)]
        k //= len(_WORDS)
        brand = _PRE[k // len(_SUF)] + _SUF[k % len(_SUF)]
        return f"{brand} {word}", _slug(brand + word), industry

    def make_accounts(self) -> None:
        rng = self.rng("accounts")
        self.name_order = self.rng("names").sample(
            range(_NAME_SPACE), self.n_accounts + self.n_companies
        )
        rand = rng.random
        n = self.n_accounts
        now_ts = self.now_ts
        first_ts = now_ts - ACCOUNT_HISTORY_DAYS * DAY
        span = ACCOUNT_HISTORY_DAYS * DAY - 7 * DAY
        self.acc_created: list[int] = []
        self.accounts: list[_Company] = []
        self.acc_segment: list[SalesSegment] = []
        self.acc_type: list[AccountType] = []
        self.acc_region: list[Region | None] = []
        self.large_accounts: list[int] = []
        rows: list[dict[str, Any]] = []
        domain_rows: list[dict[str, Any]] = []
        team_rows: list[dict[str, Any]] = []
        domains: set[str] = set()
        maven = {name: i for i, (name, *_r) in enumerate(_MAVEN_ACCOUNTS[:n])}
        public_count = 0
        pick_type = _Picker(
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
            if a < len(_MAVEN_ACCOUNTS):
                name, industry, revenue, employees_, country, parent = _MAVEN_ACCOUNTS[
                    a
                ]
                employees: int | None = employees_
                loc = (
                    self.us_locs[int(rand() * len(self.us_locs))]
                    if country == "United States"
                    else self.loc_by_country[country]
                )
                stem = _slug(name)
                tld = ".com"
                if parent is not None and parent in maven:
                    parent_id = maven[parent] + 1
                annual: Decimal | None = _money(round(revenue * 100_000_000))
                account_type = (
                    AccountType.CUSTOMER if rand() < 0.5 else pick_type(rand())
                )
                if account_type is AccountType.PROSPECT_CE_USER:
                    account_type = AccountType.PROSPECT
            else:
                loc = self.pick_loc(rand())
                public = self.locs[loc].is_us and rand() < 0.07
                if public:
                    place = _PUBLIC_PLACES[public_count % len(_PUBLIC_PLACES)]
                    unit_i = public_count // len(_PUBLIC_PLACES)
                    unit = _PUBLIC_UNITS[unit_i % len(_PUBLIC_UNITS)]
                    series = unit_i // len(_PUBLIC_UNITS)
                    name = f"{place}{unit}" + (
                        f" District {series + 1}" if series else ""
                    )
                    stem = _slug(
                        name.replace("US Department of", "").replace("City of", "")
                    )
                    tld = ".gov"
                    industry = "Government"
                    public_count += 1
                else:
                    base, stem, industry = self.company_name(a)
                    name = base + _LEGAL[int(rand() * len(_LEGAL))]
                    tld = self.locs[loc].tld if rand() < 0.5 else ".com"
                u = rand()
                if u < 0.12:
                    employees = None
                elif u < 0.47:
                    employees = int(_log_uniform(rand(), 1, 100))
                elif u < 0.80:
                    employees = int(_log_uniform(rand(), 100, 2_000))
                else:
                    employees = int(_log_uniform(rand(), 2_000, 120_000))
                annual = (
                    _money(employees * int(80_000 + rand() * 320_000) * 100)
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
            if segment in (SalesSegment.LARGE, SalesSegment.STRATEGIC):
                self.large_accounts.append(a)
            # owner: the Sales Admin placeholder for CE users and some orphans
            ce = account_type is AccountType.PROSPECT_CE_USER
            source = "CE Download" if ce else _ACCOUNT_SOURCES[int(rand() * 7)]
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
                _Company(
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
            street = f"{100 + int(rand() * 9_800)} {_STREETS[int(rand() * 20)]}"
            rows.append(
                {
                    "id": account_id,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "name": name,
                    "normalized_name": normalize_company_name(name),
                    "type": account_type,
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
                    "customer_since": None,
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
        self.companies: list[_Company] = []
        for c in range(self.n_companies):
            base, stem, _industry = self.company_name(self.n_accounts + c)
            loc = self.pick_loc(rand())
            u = rand()
            if u < 0.3:
                employees = None
            elif u < 0.75:
                employees = int(_log_uniform(rand(), 1, 100))
            elif u < 0.95:
                employees = int(_log_uniform(rand(), 100, 2_000))
            else:
                employees = int(_log_uniform(rand(), 2_000, 50_000))
            tld = (
                self.locs[loc].tld
                if rand() < 0.4
                else (".io" if rand() < 0.3 else ".com")
            )
            domain = stem + tld
            if domain in self.account_domains:
                domain = f"{stem}-{c}{tld}"
            self.companies.append(
                _Company(
                    name=base + _LEGAL[int(rand() * len(_LEGAL))],
                    domain=domain,
                    employees=employees,
                    loc=loc,
                    public=False,
                )
            )

    # -- leads: statuses, creation times, the converted ones -----------------------

    def plan_leads(self) -> None:
        rng = self.rng("lead-plan")
        rand = rng.random
        n = self.n_leads
        now_ts = self.now_ts
        statuses = _quota(_LEAD_STATUS_WEIGHTS, n, rng)
        first_ts = now_ts - LEAD_HISTORY_DAYS * DAY
        span = LEAD_HISTORY_DAYS * DAY - HOUR
        created = [first_ts + int(span * ((i + rand()) / n) ** 0.8) for i in range(n)]
        # a converted lead needs weeks: recent ones trade status with older ones
        recent = bisect_right(created, now_ts - 30 * DAY)
        if recent:
            for i in range(recent, n):
                if statuses[i] is L.QUALIFIED:
                    for _attempt in range(100):
                        j = int(rand() * recent)
                        if statuses[j] is not L.QUALIFIED:
                            statuses[i], statuses[j] = statuses[j], statuses[i]
                            break
        self.lead_status: list[L] = statuses
        self.lead_created = created
        self.lead_seed = (self.seed * 1_000_003 + 17) * 10_000_019
        self.lead_rng = random.Random()
        self._prepare_lead_tables()
        self.converted: dict[int, _Converted] = {}
        self.converted_rows: dict[int, dict[str, Any]] = {}
        for i in range(n):
            if statuses[i] is L.QUALIFIED:
                row, _e, _a, transitions = self.draw_lead(i, None)
                self.converted[i] = _Converted(
                    lead_index=i,
                    email=row["email"],
                    account=row["account_id"] - 1,
                    converted_at=transitions[-1][2],
                    owner_id=row["owner_id"],
                    campaign_id=row["campaign_id"],
                )
                self.converted_rows[i] = row

    def _prepare_lead_tables(self) -> None:
        self.path_pickers = {
            status: _Picker(list(paths)) for status, paths in _LEAD_PATHS.items()
        }
        self.source_pickers = {
            name: _Picker([(_SOURCE_INDEX[s], w) for s, w in table.items()])
            for name, table in (
                ("none", _SOURCES_NO_TOUCH),
                ("inquiry", _SOURCES_INQUIRY),
                ("mql", _SOURCES_MQL),
                ("sales", _SOURCES_SALES_TOUCH),
            )
        }
        self.pick_title = _Picker([(i, w) for i, (_t, w) in enumerate(_LEAD_TITLES)])
        # D6 demographic points by title and by (company, free-mail) email
        self.demographic = [
            (
                score_profile(title, "someone@example-company.com", []).total,
                score_profile(title, "someone@gmail.com", []).total,
            )
            for title, _w in _LEAD_TITLES
        ]
        # ... and the facts the score rests on (D6; demo leads visit no careers page)
        self.title_facts = [
            score_profile(title, None, []).facts for title, _w in _LEAD_TITLES
        ]
        regions = [*Region, None]
        self.bdr_pools = {
            r: self.pool((Role.SDR,) if r is Region.PUBLIC_SECTOR else (Role.BDR,), r)
            for r in regions
        }
        self.advocate_pools = {
            r: self.pool(
                (Role.CUSTOMER_ADVOCATE,),
                r
                if r is not Region.US_WEST and r is not Region.LATAM
                else Region.US_EAST,
            )
            for r in regions
        }
        self.field_sales_active = {
            u.id
            for u in self.users
            if u.active and u.role in (Role.AE, Role.SAL, Role.AM, Role.RD)
        }
        self.user_role = {u.id: u.role for u in self.users}

    def campaign_for(
        self, kind: K, ts: int, source: str, first: bool, u: float
    ) -> int | None:
        if kind in _WEBCAST_KINDS and self.webcasts:
            k = max(0, bisect_right(self.webcasts, (ts, 1 << 30)) - 1)
            return self.webcasts[k][1]
        if kind in _EVENT_KINDS and self.events:
            k = max(0, bisect_right(self.events, (ts, 1 << 30)) - 1)
            return self.events[k][1]
        if kind in _NEWSLETTER_KINDS and self.newsletter_campaigns:
            return self.newsletter_campaigns[0]
        if first:
            ids = self.campaign_for_source[source]
            if ids:
                return ids[int(u * len(ids))]
        return None

    def draw_lead(
        self, i: int, conv: _Converted | None
    ) -> tuple[
        dict[str, Any],
        list[tuple[K, int]],
        list[tuple[Any, ...]],
        list[tuple[Any, ...]],
    ]:
        """Lead ``i``, from its own random stream.

        Returns (row, engagements, activities, transitions).

        Engagements are (kind, ts); activities (kind, channel, direction,
        subject, due ts, completed ts, disposition); transitions (from, to,
        ts, actor, reason, note). ``conv`` is given once the lead's contact
        and opportunity exist.
        """
        r = self.lead_rng
        r.seed(self.lead_seed + i)
        rand = r.random
        status = self.lead_status[i]
        created = self.lead_created[i]
        path = self.path_pickers[status](rand())
        has_inquiry = L.INQUIRY in path
        has_mql = L.MQL in path
        accepted = L.ACCEPTED in path
        if not has_inquiry:
            category = "none"
        elif has_mql:
            category = "mql"
        elif accepted:
            category = "sales"
        else:
            category = "inquiry"
        src = self.source_pickers[category](rand())
        source, form, low, high = _SOURCE_DEFS[src]

        # who and where
        first = _FIRST_NAMES[int(rand() * len(_FIRST_NAMES))]
        last = _LAST_NAMES[int(rand() * len(_LAST_NAMES))]
        style = rand()
        u = rand()
        free = False
        comp: _Company | None
        if status is L.QUALIFIED or u < 0.35:
            available = bisect_right(self.acc_created, created) or 1
            comp = self.accounts[int(rand() * available)]
            domain = comp.domain
        elif u < 0.5:
            free = True
            domain = _FREE_MAIL[int(rand() * len(_FREE_MAIL))]
            comp = (
                self.companies[int(rand() * len(self.companies))]
                if rand() < 0.5
                else None
            )
        else:
            comp = self.companies[int(rand() * len(self.companies))]
            domain = comp.domain
        if comp is not None and rand() < 0.85:
            loc_i = comp.loc
        else:
            loc_i = self.pick_loc(rand())
        loc = self.locs[loc_i]
        if comp is not None:
            employees = comp.employees
            public = comp.public
            named = comp.named
            company: str | None = comp.name
        else:
            employees = None
            public = loc.is_us and rand() < 0.03
            named = False
            company = None
        segment = sales_segment_for(employees, is_named=named)
        region = loc.public_region if public else loc.region
        title_i = self.pick_title(rand())
        title = _LEAD_TITLES[title_i][0]
        score = self.demographic[title_i][1 if free else 0]
        phone = (
            f"{loc.phone} {100 + int(rand() * 900)} {1000 + int(rand() * 9000)}"
            if rand() < 0.7
            else None
        )
        street = f"{1 + int(rand() * 9_900)} {_STREETS[int(rand() * 20)]}"

        # the path, as offsets from creation
        engagements: list[tuple[K, int]] = []
        steps: list[tuple[L, L, int]] = []  # (from, to, offset)
        t = 0
        current = L.RAW
        for state in path:
            if state is L.INQUIRY and not engagements:
                t += 0 if form else int(rand() * 5 * DAY)
                if has_mql:
                    kinds = list(high)
                    total = score
                    crossed_at = -1
                    for k, kind in enumerate(kinds):
                        total += _POINTS[kind]
                        if total >= MQL:
                            crossed_at = k
                            break
                    if crossed_at < 0:
                        for kind in _BOOSTERS:
                            if kind in kinds and kind in (
                                K.ENTERPRISE_TRIAL_PAGE_VISIT,
                                K.TRIAL_REQUEST,
                            ):
                                continue
                            kinds.append(kind)
                            total += _POINTS[kind]
                            if total >= MQL:
                                break
                        crossed_at = len(kinds) - 1
                    kinds = kinds[: crossed_at + 1]
                else:
                    kinds = []
                    total = score
                    for kind in low:
                        if kinds and rand() < 0.4:
                            continue
                        if total + _POINTS[kind] < MQL:
                            kinds.append(kind)
                            total += _POINTS[kind]
                    if not kinds:
                        kinds.append(K.WEB_CHAT)
                for k, kind in enumerate(kinds):
                    if k:
                        t += HOUR + int(rand() * 6 * DAY)
                    engagements.append((kind, t))
                    if k == 0:
                        steps.append((current, L.INQUIRY, t))
                        current = L.INQUIRY
                score = total
                if has_mql:
                    steps.append((L.INQUIRY, L.MQL, t))
                    current = L.MQL
            elif state is L.MQL:
                continue  # reached with the engagement that crossed the threshold
            elif state is L.INQUIRY:  # back from NURTURE on a new touch
                lo, hi = _LEAD_STEP[L.INQUIRY]
                t += lo + int(rand() * (hi - lo))
                kind = low[int(rand() * len(low))]
                if score + _POINTS[kind] >= MQL or kind in {e[0] for e in engagements}:
                    kind = K.WEB_CHAT
                score += _POINTS[kind]
                engagements.append((kind, t))
                steps.append((current, L.INQUIRY, t))
                current = L.INQUIRY
            else:
                lo, hi = _LEAD_STEP[state]
                t += lo + int(rand() * (hi - lo))
                steps.append((current, state, t))
                current = state

        # fit the history between creation and now
        available = self.now_ts - created - 60
        if t > available:
            factor = available / t
            engagements = [(kind, int(o * factor)) for kind, o in engagements]
            steps = [(a, b, int(o * factor)) for a, b, o in steps]

        # owner: routing (score >= 50) or acceptance
        owner: int | None = None
        if accepted or score >= ROUTING:
            if (
                comp is not None
                and comp.account_id is not None
                and comp.owner_id in self.field_sales_active
            ):
                owner = comp.owner_id
            elif source == "Contact Us" and segment is SalesSegment.SMB and not public:
                pool = self.advocate_pools[region]
                owner = pool[int(rand() * len(pool))]
            else:
                pool = self.bdr_pools[region]
                owner = pool[int(rand() * len(pool))]

        # activities (offsets) and transitions (absolute ts)
        activities: list[tuple[Any, ...]] = []
        transitions: list[tuple[Any, ...]] = []
        previous = 0
        touched_at: int | None = None
        for from_, to, offset in steps:
            ts = created + offset
            reason = note = None
            actor: int | None = None
            if to is L.ACCEPTED:
                actor = owner
                gap = min(DAY, max(60, self.now_ts - ts - 60))
                touched_at = ts + int(rand() * gap)
                channel = (
                    ActivityChannel.EMAIL if rand() < 0.6 else ActivityChannel.CALL
                )
                activities.append(
                    (
                        ActivityKind.TASK,
                        channel,
                        ActivityDirection.OUTBOUND,
                        "Intro email"
                        if channel is ActivityChannel.EMAIL
                        else "First call attempt",
                        touched_at,
                        touched_at,
                        "Sent"
                        if channel is ActivityChannel.EMAIL
                        else "Left voicemail",
                    )
                )
            elif to is L.QUALIFYING:
                actor = owner
                at = ts - int(rand() * min(2 * DAY, max(1, (offset - previous) // 2)))
                u2 = rand()
                if u2 < 0.4:
                    two_way = (
                        ActivityKind.EVENT,
                        ActivityChannel.MEETING,
                        ActivityDirection.OUTBOUND,
                        "Discovery meeting",
                    )
                elif u2 < 0.7:
                    two_way = (
                        ActivityKind.EVENT,
                        ActivityChannel.CALL,
                        ActivityDirection.OUTBOUND,
                        "Connected call",
                    )
                elif u2 < 0.9:
                    two_way = (
                        ActivityKind.TASK,
                        ActivityChannel.EMAIL,
                        ActivityDirection.INBOUND,
                        "Re: Intro email",
                    )
                else:
                    two_way = (
                        ActivityKind.EVENT,
                        ActivityChannel.WEB_CHAT,
                        ActivityDirection.INBOUND,
                        "Web chat",
                    )
                activities.append((*two_way, at, at, "Connected"))
            elif to is L.QUALIFIED:
                actor = owner
                note = "Converted (D7)"
            elif to in _LEAD_REASONS:
                actor = owner or self.sales_ops_id
                reasons = _LEAD_REASONS[to]
                reason = reasons[int(rand() * len(reasons))]
            elif to is L.WEB_PORTAL_PURCHASE:
                note = f"Web store order WS-{100_000 + int(rand() * 900_000)}"
            elif to is L.RAW:
                actor = owner or self.marketing_ops_id
                reason = "Contact data corrected"
            transitions.append((from_, to, ts, actor, reason, note, offset - previous))
            previous = offset
        last_change = created + (steps[-1][2] if steps else 0)
        if status in (L.ACCEPTED, L.QUALIFYING) and rand() < 0.6:
            due = self.now_ts + DAY + int(rand() * 10 * DAY)
            activities.append(
                (
                    ActivityKind.TASK,
                    ActivityChannel.CALL,
                    ActivityDirection.OUTBOUND,
                    "Follow-up call",
                    due,
                    None,
                    None,
                )
            )

        # SLA (D8): Contact Us and Professional Services requests
        sla_start = sla_due = sla_met = None
        if owner is not None and engagements and engagements[0][0] in _SLA_KINDS:
            routed = created + engagements[0][1]
            sla_start = routed
            sla_due = _ts(sla_due_at(_dt(routed)))
            if touched_at is None and rand() < 0.7:
                touched_at = routed + int(rand() * 1.6 * DAY)
                if touched_at < self.now_ts:
                    activities.append(
                        (
                            ActivityKind.TASK,
                            ActivityChannel.CALL,
                            ActivityDirection.OUTBOUND,
                            "Contact Us follow-up",
                            touched_at,
                            touched_at,
                            "Left voicemail",
                        )
                    )
                else:
                    touched_at = None
            if touched_at is not None:
                sla_met = touched_at

        # active until (D8), the last interesting moment, campaigns (D11: the
        # first engagement naming a campaign is the first touch; a lead without
        # engagements may come from a campaign's list)
        active_until = None
        moment = None
        eng_rows = []
        first_touch: int | None = None
        for k, (kind, offset) in enumerate(engagements):
            ts = created + offset
            campaign = self.campaign_for(kind, ts, source, k == 0, rand())
            if first_touch is None:
                first_touch = campaign
            eng_rows.append((kind, ts, campaign))
            if kind in _HAND_RAISING:
                until = ts + 60 * DAY
                if active_until is None or until > active_until:
                    active_until = until
            if _POINTS[kind] > 0:
                moment = _MOMENTS[kind]

        if not engagements and rand() < 0.5:  # imported from a campaign's list
            ids = self.campaign_for_source[source]
            if ids:
                first_touch = ids[int(rand() * len(ids))]
        if conv is not None:
            email = conv.email
        else:
            email = self.unique_email(_email_local(first, last, style), domain)
        lead_source = source
        if rand() < 0.15:
            lead_source = _SOURCE_DEFS[int(rand() * len(_SOURCE_DEFS))][0]
        if form:
            created_by = None
        elif source == "Outbound":
            created_by = owner
        else:
            created_by = self.marketing_ops_id
        row = {
            "id": i + 1,
            "version": 1 + len(transitions),
            "created_at": created,
            "updated_at": last_change,
            "first_name": first,
            "last_name": last,
            "email": email,
            "company": company,
            "title": title,
            "phone": phone,
            "number_of_employees": employees,
            "street": street,
            "city": loc.city,
            "state": loc.state,
            "postal_code": loc.postal,
            "country": loc.country,
            "is_public_sector": public,
            "sales_segment": segment,
            "region": region,
            "initial_source": source,
            "lead_source": lead_source,
            "status": status,
            "status_changed_at": last_change,
            "person_score": score,
            "owner_id": owner,
            "account_id": comp.account_id if comp is not None else None,
            "active_until": active_until if active_until else None,
            "last_interesting_moment": moment,
            "sla_started_at": sla_start,
            "sla_due_at": sla_due,
            "sla_met_at": sla_met,
            "converted_at": last_change if status is L.QUALIFIED else None,
            "converted_account_id": conv.account + 1 if conv else None,
            "converted_contact_id": conv.contact_id if conv else None,
            "converted_opportunity_id": conv.opportunity_id if conv else None,
            "campaign_id": first_touch,
            "created_by_id": created_by,
            # Demo leads carry no stored routing decision; routeLead makes one.
            "routing_rule": None,
            "routing_reason": None,
            "routing_pool": None,
            "routed_to_id": None,
            "routed_at": None,
            "score_title_seniority": self.title_facts[title_i].title_seniority,
            "score_title_blank_or_technical": (
                self.title_facts[title_i].title_blank_or_technical
            ),
            "score_email_domain": email_domain(email),
            "score_careers_penalties": 0,
        }
        return row, eng_rows, activities, transitions

    # -- contacts -----------------------------------------------------------------

    def make_contacts(self) -> None:
        rng = self.rng("contacts")
        rand = rng.random
        pick_source = _Picker(list(_CONTACT_SOURCES.items()))
        counts = [1 + (rand() < 0.5) for _ in range(self.n_accounts)]
        n_base = sum(counts)
        total = n_base + len(self.converted)
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
                first = _FIRST_NAMES[int(rand() * len(_FIRST_NAMES))]
                last = _LAST_NAMES[int(rand() * len(_LAST_NAMES))]
                email = self.unique_email(
                    _email_local(first, last, rand()), comp.domain
                )
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
                        "title": _CONTACT_TITLES[int(rand() * len(_CONTACT_TITLES))],
                        "phone": f"{loc.phone} {100 + int(rand() * 900)} "
                        f"{1000 + int(rand() * 9000)}",
                        "mailing_street": f"{1 + int(rand() * 9_900)} "
                        f"{_STREETS[int(rand() * 20)]}",
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
        for i, conv in self.converted.items():
            lead = self.converted_rows[i]
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
        self.converted_rows.clear()

    # -- opportunities --------------------------------------------------------------

    def plan_opportunities(self) -> list[_OppPlan]:
        rng = self.rng("opportunity-plan")
        rand = rng.random
        now_ts = self.now_ts
        stages = _quota(_OPP_STAGE_WEIGHTS, self.n_opps, rng)
        converted = sorted(self.converted.values(), key=lambda c: c.converted_at)
        eligible = [s for s in stages if s not in (S.PRE_OPPORTUNITY, S.DUPLICATE)]
        conv_stages = eligible[: len(converted)]
        direct_stages = list(stages)
        for stage in conv_stages:
            direct_stages.remove(stage)
        # the oldest conversions got furthest
        conv_stages.sort(key=lambda s: _typical_days(s) * (0.5 + rand()), reverse=True)
        plans = [
            _OppPlan(created=c.converted_at, stage=stage, account=c.account, lead=c)
            for c, stage in zip(converted, conv_stages, strict=False)
        ]
        history = LEAD_HISTORY_DAYS
        direct: list[_OppPlan] = []
        for stage in direct_stages:
            typical = _typical_days(stage)
            if stage in (S.PRE_OPPORTUNITY, S.PENDING_ACCEPTANCE):
                ago = 1 + rand() * 40
            elif stage in (S.CLOSED_WON, S.CLOSED_LOST, S.UNQUALIFIED, S.DUPLICATE):
                low = min(typical + 10, history - 1)
                ago = low + rand() * (history - low)
            else:
                ago = min(history, typical * (1 + rand() * 0.8) + rand() * 20)
            created = now_ts - int(ago * DAY)
            available = bisect_right(self.acc_created, created) or 1
            direct.append(
                _OppPlan(created=created, stage=stage, account=int(rand() * available))
            )
        targets = [p for p in direct if p.stage is not S.DUPLICATE]
        for plan in direct:
            if plan.stage is S.DUPLICATE and targets:
                target = targets[int(rand() * len(targets))]
                plan.duplicate_target = target
                plan.account = target.account
                plan.created = min(
                    target.created + HOUR + int(rand() * 5 * DAY), now_ts - 2 * HOUR
                )
                if plan.created <= target.created:
                    plan.created = target.created + 1
        plans.extend(direct)
        plans.sort(key=lambda p: p.created)
        for k, plan in enumerate(plans, start=1):
            plan.opp_id = k
            if plan.lead is not None:
                plan.lead.opportunity_id = k
        return plans

    def make_opportunities(self) -> None:
        plans = self.plan_opportunities()
        rng = self.rng("opportunities")
        rand = rng.random
        now_ts = self.now_ts
        total = len(plans)
        pick_lost_from = _Picker(list(_LOST_FROM_WEIGHTS.items()))
        pick_reason = _Picker(list(_LOST_REASONS.items()))
        pick_sqs = _Picker(
            [
                (SalesQualificationSource.AE_GENERATED, 65),
                (SalesQualificationSource.WEB_DIRECT, 12),
                (SalesQualificationSource.BDR_GENERATED, 13),
                (SalesQualificationSource.SDR_GENERATED, 10),
            ]
        )
        sqs_by_role = {
            Role.BDR: SalesQualificationSource.BDR_GENERATED,
            Role.SDR: SalesQualificationSource.SDR_GENERATED,
        }
        last_opp_on_account: dict[int, int] = {}
        rows: list[dict[str, Any]] = []
        role_rows: list[dict[str, Any]] = []
        activity_rows: list[dict[str, Any]] = []
        transition_rows: list[dict[str, Any]] = []
        entry_rows: list[dict[str, Any]] = []
        role_id = 0
        self.progress("opportunities", 0, total)
        for plan in plans:
            opp_id = plan.opp_id
            a = plan.account
            comp = self.accounts[a]
            segment = self.acc_segment[a]
            region = self.acc_region[a]
            account_type = self.acc_type[a]
            conv = plan.lead
            stage = plan.stage
            created = plan.created
            # who, what, how much
            if conv is not None:
                opp_type = OpportunityType.NEW_BUSINESS
                sqs = sqs_by_role.get(
                    self.user_role[conv.owner_id], SalesQualificationSource.AE_GENERATED
                )
                primary = conv.contact_id
                initial_source = self.contact_source[primary]
            else:
                u = rand()
                if account_type is AccountType.CUSTOMER:
                    opp_type = (
                        OpportunityType.RENEWAL
                        if u < 0.35
                        else OpportunityType.ADD_ON
                        if u < 0.7
                        else OpportunityType.NEW_BUSINESS
                    )
                else:
                    opp_type = (
                        OpportunityType.ADD_ON
                        if u < 0.05
                        else OpportunityType.NEW_BUSINESS
                    )
                sqs = (
                    SalesQualificationSource.AE_GENERATED
                    if opp_type is OpportunityType.RENEWAL
                    else pick_sqs(rand())
                )
                primary = self.contact_start[a] + int(rand() * self.contact_count[a])
                initial_source = self.contact_source[primary]
            if comp.owner_id in self.field_sales_active:
                owner = comp.owner_id
            else:
                pool = self.pool((Role.AE,), region)
                owner = pool[int(rand() * len(pool))]
            low, high = _IACV_RANGE[segment]
            iacv_cents = int(_log_uniform(rand(), low, high) * 100)
            if segment is SalesSegment.SMB:
                edition = _EDITIONS[0] if rand() < 0.4 else _EDITIONS[1]
            else:
                edition = _EDITIONS[1] if rand() < 0.55 else _EDITIONS[2]
            seats = max(
                5,
                iacv_cents
                // 100
                // (
                    228
                    if edition == "Premium"
                    else 1188
                    if edition == "Ultimate"
                    else 48
                ),
            )
            name = f"{comp.name} - {_TYPE_LABELS[opp_type]} - {edition} x{seats}"

            # the path through the stages
            direct_won = (
                stage is S.CLOSED_WON
                and conv is None
                and sqs is SalesQualificationSource.WEB_DIRECT
                and rand() < 0.6
            )
            start = (
                S.PRE_OPPORTUNITY
                if stage is S.PRE_OPPORTUNITY
                or (conv is None and not direct_won and rand() < 0.1)
                else S.PENDING_ACCEPTANCE
            )
            path: list[S]
            if direct_won:
                path = [S.CLOSED_WON]
            elif stage in (S.PRE_OPPORTUNITY, S.PENDING_ACCEPTANCE):
                path = [start] if start is stage else [start, stage]
            elif stage in (S.UNQUALIFIED, S.DUPLICATE):
                path = [start, stage]
                if start is S.PRE_OPPORTUNITY and rand() < 0.5:
                    path = [start, S.PENDING_ACCEPTANCE, stage]
            else:
                if stage is S.CLOSED_WON:
                    last = S.AWAITING_SIGNATURE
                elif stage is S.CLOSED_LOST:
                    last = pick_lost_from(rand())
                else:
                    last = stage
                path = list(_PIPELINE[: _PIPE_POS[last] + 1])
                if start is S.PRE_OPPORTUNITY:
                    path.insert(0, start)
                if S.TECHNICAL_EVALUATION in path and rand() < 0.1:
                    path.remove(S.SCOPING)
                if S.NEGOTIATING in path and rand() < 0.08:
                    k = path.index(S.NEGOTIATING) + 1
                    path[k:k] = [S.TECHNICAL_EVALUATION, S.PROPOSAL, S.NEGOTIATING]
                if stage in (S.CLOSED_WON, S.CLOSED_LOST):
                    path.append(stage)
            offsets = [0]
            reached = -1
            for k in range(1, len(path)):
                to = path[k]
                prev = path[k - 1]
                back = (
                    to in _PIPE_POS
                    and prev in _PIPE_POS
                    and _PIPE_POS[to] < _PIPE_POS[prev]
                )
                if back:
                    days = 3 + rand() * 12
                else:
                    lo, hi = _OPP_STEP[to]
                    days = lo + rand() * (hi - lo)
                offsets.append(offsets[-1] + int(days * DAY))
            available = now_ts - created - 60
            if offsets[-1] > available:
                factor = available / offsets[-1]
                offsets = [int(o * factor) for o in offsets]
            times = [created + o for o in offsets]

            accepted_at = qualified_at = None
            initial_iacv = None
            for k, state in enumerate(path):
                pos = _PIPE_POS.get(state, 99 if state is S.CLOSED_WON else -1)
                reached = max(reached, pos)
                if accepted_at is None and pos >= _PIPE_POS[S.DISCOVERY]:
                    accepted_at = times[k]
                if qualified_at is None and pos >= _PIPE_POS[S.SCOPING]:
                    qualified_at = times[k]
            sales_qualified = qualified_at is not None
            if sales_qualified:
                initial_iacv = _money(iacv_cents)
                if rand() < 0.3:  # the deal changed size after qualification
                    iacv_cents = int(iacv_cents * (0.7 + rand() * 0.7))
                    iacv_cents = min(max(iacv_cents, 100_000), 15_000_000)
            iacv = _money(iacv_cents)
            is_closed = stage in (
                S.CLOSED_WON,
                S.CLOSED_LOST,
                S.UNQUALIFIED,
                S.DUPLICATE,
            )
            closed_at = times[-1] if is_closed else None
            close_date = (
                _dt(closed_at).date()
                if closed_at is not None
                else (_dt(now_ts) + timedelta(days=10 + int(rand() * 140))).date()
            )
            others = [
                c
                for c in range(
                    self.contact_start[a], self.contact_start[a] + self.contact_count[a]
                )
                if c != primary
            ]
            has_problem = (
                start is not S.PRE_OPPORTUNITY or len(path) > 1 or rand() < 0.5
            )
            reached_proposal = reached >= _PIPE_POS[S.PROPOSAL]
            reached_negotiating = reached >= _PIPE_POS[S.NEGOTIATING]
            reached_signature = reached >= _PIPE_POS[S.AWAITING_SIGNATURE]
            won = stage is S.CLOSED_WON
            poc = reached_proposal and rand() < 0.4
            po = reached_negotiating and rand() < 0.35
            bill_to = (
                (
                    others[int(rand() * len(others))]
                    if others and rand() < 0.5
                    else primary
                )
                if reached_negotiating
                else None
            )
            large = (
                comp.named
                or segment in (SalesSegment.LARGE, SalesSegment.STRATEGIC)
                or iacv_cents >= 1_200_000
            )
            reasons: list[str] = []
            detail = None
            merged_into = None
            if stage is S.CLOSED_LOST:
                earlier = last_opp_on_account.get(a)
                if earlier is not None and rand() < 0.05:
                    reason = ClosedLostReason.MERGED_INTO_ANOTHER_OPPORTUNITY
                    merged_into = earlier
                else:
                    reason = pick_reason(rand())
                reasons = [reason.value]
                if rand() < 0.25:
                    extra = pick_reason(rand())
                    if extra is not reason:
                        reasons.append(extra.value)
                detail = _LOST_DETAILS[reason]
            screening = (
                RestrictedPartyScreening.CLEARED
                if won
                else RestrictedPartyScreening.PENDING
                if reached_negotiating and stage is not S.CLOSED_LOST
                else RestrictedPartyScreening.NOT_STARTED
            )
            if direct_won:
                accepted_at = qualified_at = created
                sales_qualified = True
                initial_iacv = iacv
            # D11: the milestones each stage reached (the first reach is kept)
            moves = [
                (milestone_of_stage(state), times[k]) for k, state in enumerate(path)
            ]
            if conv is not None:
                campaign = conv.campaign_id
                conv.opportunity_moves = moves
                conv.sales_qualification_source = sqs
            else:
                sources = self.campaign_for_source.get(initial_source) or []
                campaign = (
                    sources[int(rand() * len(sources))]
                    if sources and rand() < 0.7
                    else None
                )
                stamps = opportunity_stamps(created, path[0])
                for milestone, ts in moves:
                    stamps = reach(stamps, milestone, ts)
                self.entry_id += 1
                entry_rows.append(
                    self.entry_row(
                        stamps,
                        lead_id=None,
                        opportunity_id=opp_id,
                        sales_segment=segment,
                        region=region,
                        initial_source=initial_source,
                        sales_qualification_source=sqs,
                        owner_id=owner,
                        campaign_id=campaign,
                    )
                )
            rows.append(
                {
                    "id": opp_id,
                    "version": len(path),
                    "created_at": created,
                    "updated_at": times[-1],
                    "name": name,
                    "account_id": a + 1,
                    "owner_id": owner,
                    "type": opp_type,
                    "stage": stage,
                    "stage_changed_at": times[-1],
                    "close_date": close_date,
                    "currency": "USD",
                    "incremental_acv": iacv,
                    "initial_iacv": initial_iacv,
                    "sales_accepted_date": accepted_at if accepted_at else None,
                    "sales_qualified": sales_qualified,
                    "sales_qualified_date": qualified_at if qualified_at else None,
                    "sales_qualification_source": sqs,
                    "edition": edition,
                    "primary_contact_id": primary,
                    "initial_source": initial_source,
                    "lead_id": conv.lead_index + 1 if conv is not None else None,
                    "campaign_id": campaign,
                    "business_problem": _BUSINESS_PROBLEMS[
                        int(rand() * len(_BUSINESS_PROBLEMS))
                    ]
                    if has_problem
                    else None,
                    "technical_requirements_confirmed": reached_proposal
                    or (reached >= _PIPE_POS[S.TECHNICAL_EVALUATION] and rand() < 0.3),
                    "poc_ran": poc,
                    "poc_notes": _POC_NOTES[int(rand() * 3)] if poc else None,
                    "poc_success_criteria": _POC_CRITERIA[int(rand() * 3)]
                    if poc
                    else None,
                    "bill_to_contact_id": bill_to,
                    "sold_to_contact_id": primary if reached_negotiating else None,
                    "po_will_be_issued": po if reached_negotiating else None,
                    "purchasing_plan": _PURCHASING_PLANS[int(rand() * 4)]
                    if reached_negotiating
                    else None,
                    "business_terms_agreed": reached_signature,
                    "referenceable_customer": (
                        ReferenceableCustomer.YES
                        if rand() < 0.4
                        else ReferenceableCustomer.LATER
                        if rand() < 0.5
                        else ReferenceableCustomer.NO
                    )
                    if reached_signature
                    else None,
                    "signed_order_form_received": won,
                    "po_received": won and po,
                    "restricted_party_screening": screening,
                    "finance_approved": won,
                    "closed_won_details": _WON_DETAILS[int(rand() * 4)]
                    if won and (large or rand() < 0.5)
                    else None,
                    "closed_lost_reasons": reasons,
                    "closed_lost_detail": detail,
                    "merged_into_id": merged_into,
                    "duplicate_of_id": plan.duplicate_target.opp_id
                    if plan.duplicate_target is not None
                    else None,
                    "lost_from_stage": path[-2] if stage is S.CLOSED_LOST else None,
                    "closed_at": closed_at if closed_at is not None else None,
                }
            )
            last_opp_on_account[a] = opp_id
            role_id += 1
            role_rows.append(
                {
                    "id": role_id,
                    "opportunity_id": opp_id,
                    "contact_id": primary,
                    "role": _CONTACT_ROLES[int(rand() * 3)],
                    "is_primary": True,
                    "created_at": created,
                }
            )
            if others and rand() < 0.5:
                role_id += 1
                role_rows.append(
                    {
                        "id": role_id,
                        "opportunity_id": opp_id,
                        "contact_id": others[int(rand() * len(others))],
                        "role": _CONTACT_ROLES[3 + int(rand() * 3)],
                        "is_primary": False,
                        "created_at": created,
                    }
                )
            # history
            for k in range(1, len(path)):
                from_, to = path[k - 1], path[k]
                reason_text = note = None
                if to is S.UNQUALIFIED:
                    reason_text = _OPP_UNQUALIFIED_REASONS[int(rand() * 3)]
                elif to is S.DUPLICATE and plan.duplicate_target is not None:
                    note = f"Duplicate of opportunity {plan.duplicate_target.opp_id}"
                elif to is S.CLOSED_LOST:
                    reason_text = detail
                elif (
                    to in _PIPE_POS
                    and from_ in _PIPE_POS
                    and _PIPE_POS[to] < _PIPE_POS[from_]
                ):
                    reason_text = _BACK_REASONS[int(rand() * 3)]
                self.transition_id += 1
                transition_rows.append(
                    {
                        "id": self.transition_id,
                        "record_type": RecordType.OPPORTUNITY,
                        "record_id": opp_id,
                        "from_state": from_.value,
                        "to_state": to.value,
                        "actor_id": owner,
                        "at": times[k],
                        "reason": reason_text,
                        "note": note,
                        "override": False,
                        "seconds_in_from": times[k] - times[k - 1],
                    }
                )
            # meetings along the way, and the next step of open deals
            meetings = []
            if accepted_at is not None and not direct_won:
                meetings.append(
                    (accepted_at, "Discovery call", ActivityChannel.MEETING)
                )
            if S.PROPOSAL in path:
                k = path.index(S.PROPOSAL)
                meetings.append(
                    (times[k], "Proposal walkthrough", ActivityChannel.MEETING)
                )
            for at, subject, channel in meetings:
                self.activity_id += 1
                activity_rows.append(
                    _activity_row(
                        self.activity_id,
                        ActivityKind.EVENT,
                        channel,
                        ActivityDirection.OUTBOUND,
                        subject,
                        at,
                        at,
                        "Held",
                        owner,
                        "GOOGLE_CALENDAR",
                        None,
                        primary,
                        a + 1,
                        opp_id,
                        at,
                    )
                )
            if not is_closed and rand() < 0.6:
                due = now_ts + DAY + int(rand() * 14 * DAY)
                self.activity_id += 1
                activity_rows.append(
                    _activity_row(
                        self.activity_id,
                        ActivityKind.TASK,
                        ActivityChannel.EMAIL,
                        ActivityDirection.OUTBOUND,
                        "Send recap and next steps",
                        due,
                        None,
                        None,
                        owner,
                        "SALESFORCE",
                        None,
                        primary,
                        a + 1,
                        opp_id,
                        times[-1] + int(rand() * (now_ts - times[-1])),
                    )
                )
            if len(rows) >= CHUNK:
                self._flush_opportunities(
                    rows, role_rows, activity_rows, transition_rows, entry_rows
                )
                self.progress("opportunities", opp_id, total)
        self._flush_opportunities(
            rows, role_rows, activity_rows, transition_rows, entry_rows
        )
        self.progress("opportunities", total, total)

    def _flush_opportunities(self, *lists: list[dict[str, Any]]) -> None:
        for table, rows in zip(
            (OPPORTUNITIES, CONTACT_ROLES, ACTIVITIES, TRANSITIONS, FUNNEL_ENTRIES),
            lists,
            strict=True,
        ):
            self.sink.insert(table, rows)
            rows.clear()

    # -- leads ---------------------------------------------------------------------

    def make_leads(self) -> None:
        n = self.n_leads
        converted = self.converted
        created_list = self.lead_created
        lead_rows: list[dict[str, Any]] = []
        engagement_rows: list[dict[str, Any]] = []
        activity_rows: list[dict[str, Any]] = []
        transition_rows: list[dict[str, Any]] = []
        entry_rows: list[dict[str, Any]] = []
        lead_type = RecordType.LEAD
        self.progress("leads", 0, n)
        for i in range(n):
            conv = converted.get(i)
            row, engagements, activities, transitions = self.draw_lead(i, conv)
            lead_rows.append(row)
            lead_id = i + 1
            contact_id = conv.contact_id if conv is not None else None
            source = row["initial_source"]
            owner = row["owner_id"]
            last_change = transitions[-1][2] if transitions else created_list[i]
            for kind, ts, campaign in engagements:
                self.engagement_id += 1
                engagement_rows.append(
                    {
                        "id": self.engagement_id,
                        "lead_id": lead_id,
                        "contact_id": contact_id,
                        "kind": kind,
                        "occurred_at": ts,
                        "campaign_id": campaign,
                        "created_at": ts,
                    }
                )
            for kind, channel, direction, subject, due, done, disposition in activities:
                self.activity_id += 1
                activity_rows.append(
                    _activity_row(
                        self.activity_id,
                        kind,
                        channel,
                        direction,
                        subject,
                        due,
                        done,
                        disposition,
                        owner,
                        "OUTREACH",
                        lead_id,
                        contact_id,
                        None,
                        None,
                        done if done is not None else last_change,
                    )
                )
            stamps = lead_stamps(created_list[i])
            for _from, to, ts, *_rest in transitions:
                stamps = reach(stamps, milestone_of_status(to), ts)
            if conv is not None and conv.opportunity_moves:
                for milestone, ts in conv.opportunity_moves:
                    stamps = reach(stamps, milestone, ts)
            self.entry_id += 1
            entry_rows.append(
                self.entry_row(
                    stamps,
                    lead_id=lead_id,
                    opportunity_id=conv.opportunity_id
                    if conv is not None and conv.opportunity_moves
                    else None,
                    sales_segment=row["sales_segment"],
                    region=row["region"],
                    initial_source=source,
                    sales_qualification_source=conv.sales_qualification_source
                    if conv is not None
                    else None,
                    owner_id=owner,
                    campaign_id=row["campaign_id"],
                )
            )
            for from_, to, ts, actor, reason, note, seconds in transitions:
                self.transition_id += 1
                transition_rows.append(
                    {
                        "id": self.transition_id,
                        "record_type": lead_type,
                        "record_id": lead_id,
                        "from_state": from_.value,
                        "to_state": to.value,
                        "actor_id": actor,
                        "at": ts,
                        "reason": reason,
                        "note": note,
                        "override": False,
                        "seconds_in_from": seconds,
                    }
                )
            if len(lead_rows) >= CHUNK:
                self._flush_leads(
                    lead_rows,
                    engagement_rows,
                    activity_rows,
                    transition_rows,
                    entry_rows,
                )
                self.progress("leads", i + 1, n)
        self._flush_leads(
            lead_rows, engagement_rows, activity_rows, transition_rows, entry_rows
        )
        self.progress("leads", n, n)

    def entry_row(self, stamps: Sequence[int | None], **values: Any) -> dict[str, Any]:
        """A funnel entry (D11) with id ``self.entry_id``: stamps (seconds since
        1970) and the seconds between them, with its dimensions."""
        row = dict(zip(STAMP_COLUMNS, stamps, strict=True))
        row.update(
            zip(
                SECONDS_COLUMNS,
                [
                    None if b is None or a is None else max(0, b - a)
                    for a, b in pairwise(stamps)
                ],
                strict=True,
            )
        )
        row["id"] = self.entry_id
        row.update(values)
        return row

    def _flush_leads(self, *lists: list[dict[str, Any]]) -> None:
        for table, rows in zip(
            (LEADS, ENGAGEMENTS, ACTIVITIES, TRANSITIONS, FUNNEL_ENTRIES),
            lists,
            strict=True,
        ):
            self.sink.insert(table, rows)
            rows.clear()


def _typical_days(stage: S) -> float:
    """Mean days from creation to reaching ``stage`` on the usual path."""

    def mean(s: S) -> float:
        lo, hi = _OPP_STEP[s]
        return (lo + hi) / 2

    if stage in _PIPE_POS:
        return sum(mean(s) for s in _PIPELINE[1 : _PIPE_POS[stage] + 1])
    if stage is S.CLOSED_WON:
        return _typical_days(S.AWAITING_SIGNATURE) + mean(S.CLOSED_WON)
    if stage is S.CLOSED_LOST:
        return _typical_days(S.SCOPING) + mean(S.CLOSED_LOST)
    if stage in (S.UNQUALIFIED, S.DUPLICATE):
        return mean(stage)
    return 0.0


def _activity_row(
    activity_id: int,
    kind: ActivityKind,
    channel: ActivityChannel,
    direction: ActivityDirection,
    subject: str,
    due: int | None,
    completed: int | None,
    disposition: str | None,
    owner: int | None,
    source_system: str,
    lead_id: int | None,
    contact_id: int | None,
    account_id: int | None,
    opportunity_id: int | None,
    created: int,
) -> dict[str, Any]:
    at = created
    return {
        "id": activity_id,
        "version": 1,
        "created_at": at,
        "updated_at": at,
        "kind": kind,
        "channel": channel,
        "direction": direction,
        "subject": subject,
        "due_at": due if due is not None else None,
        "completed_at": completed if completed is not None else None,
        "disposition": disposition,
        "outcome": None,
        "owner_id": owner,
        "source_system": source_system,
        "lead_id": lead_id,
        "contact_id": contact_id,
        "account_id": account_id,
        "opportunity_id": opportunity_id,
    }
