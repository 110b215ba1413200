"""merges: duplicate match keys on leads and contacts, the merge ledger, scans

Revision ID: 0015_merges
Revises: 0013_idempotency
Create Date: 2026-12-03 08:00:00.000000

D12 (issue 13 items 3, 4): leads and contacts get their match keys (email,
name, email domain, company — a lead's; a contact's is its account —, phone),
indexed, so ``possibleDuplicates`` is a few index lookups; existing rows are
keyed here with a frozen copy of ``domain.rules.matching``'s normalizers as
of this revision. ``record_merges`` is the merge ledger (with the snapshot an
undo restores from); ``duplicate_scans`` holds the full-scan jobs.
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0015_merges"
down_revision: str | None = "0013_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = domain.sqltypes.UTCDateTime(timezone=True)

# --- frozen copy of the normalizers (domain.rules.matching, 2026-12-03) --------
FREE_MAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "outlook.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "yahoo.co.in",
        "yahoo.co.jp",
        "ymail.com",
        "rocketmail.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "mail.com",
        "email.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "tutanota.com",
        "fastmail.com",
        "hey.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "zoho.com",
    ]
)
SUFFIXES = frozenset(
    [
        "inc",
        "incorporated",
        "llc",
        "llp",
        "lp",
        "ltd",
        "limited",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "kg",
        "ag",
        "sa",
        "sas",
        "sarl",
        "se",
        "bv",
        "nv",
        "plc",
        "pty",
        "pte",
        "pvt",
        "srl",
        "spa",
        "sl",
        "ltda",
        "oy",
        "oyj",
        "ab",
        "as",
        "asa",
        "aps",
        "kk",
    ]
)
EMAIL = re.compile(
    r"(?P<local>[a-z0-9!#$%&'*+/=?^_`{|}~.-]+)"
    r"@(?P<domain>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59}))",
    re.IGNORECASE,
)
JOINING = re.compile("[.'`\u2019]")
SEPARATING = re.compile(r"[^\w]+|_")


def _email(email):
    candidate = (email or "").strip()
    found = EMAIL.fullmatch(candidate) if len(candidate) <= 254 else None
    if found is None:
        return None
    local = found["local"]
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    return local, found["domain"].lower()


def _words(name):
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = JOINING.sub("", plain.replace("&", " and "))
    return [w for w in SEPARATING.split(plain) if w]


def _keys(email, first, last, company, phone):
    parts = _email(email)
    match_email = match_domain = None
    if parts is not None:
        local, domain = parts
        local = local.lower().split("+", 1)[0]
        if domain in ("gmail.com", "googlemail.com"):
            local, domain = local.replace(".", ""), "gmail.com"
        match_email = f"{local}@{domain}" if local else None
        if parts[1] not in FREE_MAIL:
            match_domain = parts[1]
    last_words = _words(last or "")
    name = " ".join(sorted(_words(first or "") + last_words))[:255] or None
    words = _words(company or "")
    kept = list(words)
    if kept and kept[0] == "the":
        kept = kept[1:]
    while kept and (kept[-1] in SUFFIXES or kept[-1] == "and"):
        kept.pop()
    digits = "".join(c for c in (phone or "") if c.isdigit())
    if digits.startswith("00"):
        digits = digits[2:]
    return {
        "match_email": match_email,
        "match_name": name if last_words else None,
        "match_domain": match_domain,
        "match_company": " ".join(kept or words)[:255] or None,
        "match_phone": digits[-10:] if len(digits) >= 7 else None,
    }


LEAD_KEYS = (
    ("match_email", 320),
    ("match_name", 255),
    ("match_domain", 255),
    ("match_company", 255),
    ("match_phone", 40),
)
CONTACT_KEYS = tuple(k for k in LEAD_KEYS if k[0] != "match_company")
INDEXES = {
    "leads": (
        ("ix_leads_match_email", ["match_email"]),
        ("ix_leads_match_name_domain", ["match_name", "match_domain"]),
        ("ix_leads_match_name_company", ["match_name", "match_company"]),
        ("ix_leads_match_phone", ["match_phone"]),
    ),
    "contacts": (
        ("ix_contacts_match_email", ["match_email"]),
        ("ix_contacts_match_name_domain", ["match_name", "match_domain"]),
        ("ix_contacts_match_name_account", ["match_name", "account_id"]),
        ("ix_contacts_match_phone", ["match_phone"]),
    ),
}


def _fill(name: str, keys: tuple[tuple[str, int], ...], company: str | None) -> None:
    conn = op.get_bind()
    columns = ["id", "email", "first_name", "last_name", "phone"]
    if company:
        columns.append(company)
    table = sa.table(name, *(sa.column(c) for c in columns + [k for k, _ in keys]))
    rows = conn.execute(sa.select(*(table.c[c] for c in columns))).all()
    wanted = [k for k, _ in keys]
    batch = []
    for row in rows:
        m = row._mapping
        values = _keys(
            m["email"], m["first_name"], m["last_name"], m.get(company), m["phone"]
        )
        batch.append({"_id": m["id"], **{k: values[k] for k in wanted}})
        if len(batch) == 5000:
            _write(conn, table, wanted, batch)
            batch = []
    if batch:
        _write(conn, table, wanted, batch)


def _write(conn, table, wanted, batch) -> None:
    conn.execute(
        table.update()
        .where(table.c.id == sa.bindparam("_id"))
        .values({k: sa.bindparam(k) for k in wanted}),
        batch,
    )


def upgrade() -> None:
    for name, keys, company in (
        ("leads", LEAD_KEYS, "company"),
        ("contacts", CONTACT_KEYS, None),
    ):
        with op.batch_alter_table(name, schema=None) as batch_op:
            for key, length in keys:
                batch_op.add_column(sa.Column(key, sa.String(length), nullable=True))
        _fill(name, keys, company)
        for index, columns in INDEXES[name]:
            op.create_index(index, name, columns)
    op.create_table(
        "record_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("duplicate_ids", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("merged_at", UTC_TIME, nullable=False),
        sa.Column("survivor_version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("undone_at", UTC_TIME, nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name="fk_record_merges_actor_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["users.id"], name="fk_record_merges_undone_by_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_record_merges"),
    )
    op.create_index(
        "ix_record_merges_kind_survivor", "record_merges", ["kind", "survivor_id"]
    )
    op.create_table(
        "duplicate_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("pair_count", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name="fk_duplicate_scans_requested_by_id_users",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_duplicate_scans"),
    )


def downgrade() -> None:
    op.drop_table("duplicate_scans")
    op.drop_index("ix_record_merges_kind_survivor", table_name="record_merges")
    op.drop_table("record_merges")
    for name, keys in (("contacts", CONTACT_KEYS), ("leads", LEAD_KEYS)):
        for index, _columns in INDEXES[name]:
            op.drop_index(index, table_name=name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            for key, _length in reversed(keys):
                batch_op.drop_column(key)
