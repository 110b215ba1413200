"""Matching a lead to an account (D7, D8, D12): emails, domains, company names.

Pure functions over plain values. The free-mail list and the legal suffixes
are data (immutable defaults) that a caller may replace with an edited copy.

Decisions where the spec is silent:

- An email is valid when it has one ``@``, a local part of the usual
  characters (no spaces, no leading/trailing/double dot) and a domain of at
  least two labels ending in an alphabetic (or ``xn--``) top-level domain.
  Surrounding whitespace is ignored; the domain is compared lowercased.
- A domain is free mail only on an exact match with the list (no subdomains).
- Account matching tries the email domain first (never a free-mail one): an
  account matches when one of its domains equals the email's domain or is a
  parent of it (``jane@eu.acme.com`` matches ``acme.com``). The most specific
  (longest) matching domain wins; ties go to the lowest account id. Then the
  normalized company name, equal on both sides; ties go to the lowest id.
- A lead linked to an account (matched by routing, or linked by hand) takes
  the account's segment and region (D5): the organization's size and
  territory decide, not what one form said. Where the account does not know
  (segment UNKNOWN, no region) the lead's own profile fills in
  (``lead_segment_and_region``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from domain.enums import DuplicateReason, ErrorCode, Region, SalesSegment
from domain.errors import RecordRef, Refusal

DEFAULT_FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
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
    }
)

# Removed from the end of a company name, repeatedly ("Acme Pty Ltd" → "acme").
DEFAULT_LEGAL_SUFFIXES: frozenset[str] = frozenset(
    {
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
    }
)

# Removed from the start of a company name ("The Acme Company" → "acme").
DEFAULT_LEADING_ARTICLES: frozenset[str] = frozenset({"the"})

_EMAIL = re.compile(
    r"(?P<local>[a-z0-9!#$%&'*+/=?^_`{|}~.-]+)"
    r"@(?P<domain>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59}))",
    re.IGNORECASE,
)
_HOSTNAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
_MAX_EMAIL_LENGTH = 254
# Dots and apostrophes join ("S.A." → "sa", "McDonald's" → "mcdonalds"); any
# other character that is not a letter or digit separates words.
_JOINING = re.compile("[.'`\u2019]")
_SEPARATING = re.compile(r"[^\w]+|_")


# Pure functions of one text, asked several times per record (the validation,
# the score, the match keys) and of values that repeat down a list (names,
# companies): remembered (measured: a list import's rules at half the cost).
_TEXTS = 8192


@lru_cache(maxsize=_TEXTS)
def _email_parts(email: str | None) -> tuple[str, str] | None:
    """(local part, lowercased domain) of a valid email, else None."""
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
    return local, found["domain"].lower()


def is_valid_email(email: str | None) -> bool:
    """True for a syntactically sane email address (surrounding spaces allowed)."""
    return _email_parts(email) is not None


def email_domain(email: str | None) -> str | None:
    """The lowercased domain of a valid email; None when invalid or blank."""
    parts = _email_parts(email)
    return parts[1] if parts else None


def is_free_mail(
    domain: str | None,
    free_mail_domains: Collection[str] = DEFAULT_FREE_MAIL_DOMAINS,
) -> bool:
    """True when the domain is exactly one of the free-mail domains."""
    if domain is None:
        return False
    return domain.strip().lower().rstrip(".") in free_mail_domains


def web_domain(website: str | None) -> str | None:
    """The bare host of a website ("https://www.Acme.com/about" → "acme.com")."""
    if website is None or not website.strip():
        return None
    text = website.strip().lower()
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[len("www.") :]
    return host if _HOSTNAME.fullmatch(host) else None


def _name_words(name: str) -> list[str]:
    """Casefolded, accent-free words of a name, punctuation removed."""
    return list(_name_word_tuple(name))


@lru_cache(maxsize=_TEXTS)
def _name_word_tuple(name: str) -> tuple[str, ...]:
    plain = name.casefold()
    if not plain.isascii():
        # (ASCII has nothing to decompose: the same words, without the walk.)
        decomposed = unicodedata.normalize("NFKD", plain)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _JOINING.sub("", plain.replace("&", " and "))
    return tuple(word for word in _SEPARATING.split(plain) if word)


def normalize_company_name(
    name: str | None,
    *,
    legal_suffixes: Collection[str] = DEFAULT_LEGAL_SUFFIXES,
    leading_articles: Collection[str] = DEFAULT_LEADING_ARTICLES,
) -> str:
    """Comparable company name: case, accents, punctuation, "the" and suffixes off.

    "Acme, Inc." , "ACME Inc", "acme incorporated" and "The Acme Company" all
    give "acme". A name that would be emptied keeps all its words instead
    ("The Company" → "the company"); one with no letter or digit gives "".
    Normalizing a normalized name changes nothing.
    """
    if name is None:
        return ""
    words = _name_words(name)
    kept = list(words)
    if kept and kept[0] in leading_articles:
        kept = kept[1:]
    # A dangling "and" is what is left of "Acme & Co" once "co" is gone.
    while kept and (kept[-1] in legal_suffixes or kept[-1] == "and"):
        kept.pop()
    return " ".join(kept or words)


@dataclass(frozen=True, slots=True)
class AccountCandidate:
    """An account as the matcher sees it: id, its domains, its normalized name."""

    id: int
    domains: tuple[str, ...]
    normalized_name: str


MatchedBy = Literal["DOMAIN", "NAME"]


@dataclass(frozen=True, slots=True)
class AccountMatch:
    """The account a lead belongs to, and whether its domain or name matched."""

    account_id: int
    matched_by: MatchedBy


def _domain_specificity(email_host: str, account_domain: str) -> int:
    """Length of the account domain when it is the host or a parent, else -1."""
    clean = account_domain.strip().lower().rstrip(".")
    if clean.startswith("www."):
        clean = clean[len("www.") :]
    if clean and (email_host == clean or email_host.endswith("." + clean)):
        return len(clean)
    return -1


def match_account(
    lead_email: str | None,
    company: str | None,
    accounts: Sequence[AccountCandidate],
    free_mail_domains: Collection[str] = DEFAULT_FREE_MAIL_DOMAINS,
) -> AccountMatch | None:
    """The account a lead belongs to: by email domain, then company name."""
    host = email_domain(lead_email)
    if host is not None and not is_free_mail(host, free_mail_domains):
        best: tuple[int, int] | None = None  # (-specificity, id): min wins
        for account in accounts:
            specificity = max(
                (_domain_specificity(host, d) for d in account.domains), default=-1
            )
            if specificity >= 0 and (best is None or (-specificity, account.id) < best):
                best = (-specificity, account.id)
        if best is not None:
            return AccountMatch(account_id=best[1], matched_by="DOMAIN")
    wanted = normalize_company_name(company)
    if wanted:
        ids = [
            account.id
            for account in accounts
            if normalize_company_name(account.normalized_name) == wanted
        ]
        if ids:
            return AccountMatch(account_id=min(ids), matched_by="NAME")
    return None


def lead_segment_and_region(
    own: tuple[SalesSegment, Region | None],
    account: tuple[SalesSegment, Region | None] | None,
) -> tuple[SalesSegment, Region | None]:
    """A linked lead's (segment, region): the account's, its own where unknown."""
    if account is None:
        return own
    segment = account[0] if account[0] is not SalesSegment.UNKNOWN else own[0]
    region = account[1] if account[1] is not None else own[1]
    return segment, region


# --- duplicate people (D12): match keys and scores -------------------------------
#
# Decisions where the spec is silent:
# - The email key is the lowercased address without a "+tag" in the local part;
#   Gmail ignores dots too ("Jane.Doe+news@googlemail.com" → "janedoe@gmail.com").
# - The name key is the casefolded, accent-free words of first and last name,
#   sorted (so "Doe Jane" meets "Jane Doe"); None without a last name.
# - The domain key is the email's domain, None for free mail (every "Jane Doe
#   @gmail.com" is not one person).
# - The phone key is the digits, without a leading international "00"; only
#   the last 10 are kept (a country code written or not), None under 7 digits.
# - Scores (0 to 100): one per reason (``REASON_SCORES``); several reasons combine
#   like independent evidence, 1 - prod(1 - s), rounded.

_GMAIL = frozenset({"gmail.com", "googlemail.com"})
_PHONE_DIGITS = 10
_MIN_PHONE_DIGITS = 7

REASON_SCORES: dict[DuplicateReason, int] = {
    DuplicateReason.SAME_EMAIL: 95,
    DuplicateReason.SAME_NAME_AND_DOMAIN: 80,
    DuplicateReason.SAME_NAME_AND_COMPANY: 70,
    DuplicateReason.SAME_PHONE: 60,
}


def email_key(email: str | None) -> str | None:
    """The comparable form of an email (see above); None when invalid or blank."""
    parts = _email_parts(email)
    if parts is None:
        return None
    local, domain = parts
    local = local.lower().split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else None


def name_key(first_name: str | None, last_name: str | None) -> str | None:
    """The comparable form of a person's name; None without a last name."""
    last = _name_words(last_name or "")
    if not last:
        return None
    return " ".join(sorted(_name_words(first_name or "") + last))[:255]


def domain_key(
    email: str | None,
    free_mail_domains: Collection[str] = DEFAULT_FREE_MAIL_DOMAINS,
) -> str | None:
    """The email's domain when it names an organization (never free mail)."""
    domain = email_domain(email)
    if domain is None or is_free_mail(domain, free_mail_domains):
        return None
    return domain


@lru_cache(maxsize=_TEXTS)
def company_key(company: str | None) -> str | None:
    """The normalized company name; None when there is none."""
    return normalize_company_name(company)[:255] or None


def phone_key(phone: str | None) -> str | None:
    """The comparable digits of a phone number; None when too short."""
    digits = "".join(c for c in (phone or "") if c.isdigit())
    if digits.startswith("00"):
        digits = digits[2:]
    if len(digits) < _MIN_PHONE_DIGITS:
        return None
    return digits[-_PHONE_DIGITS:]


@dataclass(frozen=True, slots=True)
class MatchKeys:
    """A person's match keys, as stored on the lead or contact row."""

    match_email: str | None
    match_name: str | None
    match_domain: str | None
    match_company: str | None
    match_phone: str | None


MATCH_KEY_COLUMNS = (
    "match_email",
    "match_name",
    "match_domain",
    "match_company",
    "match_phone",
)


def match_keys(
    *,
    email: str | None,
    first_name: str | None,
    last_name: str | None,
    company: str | None,
    phone: str | None,
) -> MatchKeys:
    """Every match key of a person (a contact's company: its account's name)."""
    return MatchKeys(
        match_email=email_key(email),
        match_name=name_key(first_name, last_name),
        match_domain=domain_key(email),
        match_company=company_key(company),
        match_phone=phone_key(phone),
    )


def duplicate_score(reasons: Collection[DuplicateReason]) -> int:
    """0 to 100: how sure two records are one person, from why they match."""
    unlikely = 1.0
    for reason in set(reasons):
        unlikely *= 1 - REASON_SCORES[reason] / 100
    return round(100 * (1 - unlikely))


def ordered_reasons(reasons: Collection[DuplicateReason]) -> list[DuplicateReason]:
    """The reasons, strongest first."""
    return [r for r in DuplicateReason if r in reasons]


def domain_refusals(
    domains: Sequence[str], given: Mapping[int, str | None], taken: Mapping[str, int]
) -> list[Refusal]:
    """Every domain of the list that is no domain or another account's, each
    under its index."""
    found: list[Refusal] = []
    for index, domain in given.items():
        where = ("domains", str(index))
        if domain is None:
            message = f"{domains[index]!r} is not a domain."
            found.append(Refusal(ErrorCode.INVALID_INPUT, message, where))
        elif domain in taken:
            owner = RecordRef("Account", taken[domain])
            message = f"The domain {domain!r} belongs to account {owner}."
            found.append(Refusal(ErrorCode.DUPLICATE_RECORD, message, where, owner))
    return found
