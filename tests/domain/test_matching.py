"""Matching leads to accounts (D7, D8, D12): emails, domains, company names."""

from __future__ import annotations

import pytest

from domain.enums import Region, SalesSegment
from domain.rules.matching import (
    DEFAULT_FREE_MAIL_DOMAINS,
    AccountCandidate,
    AccountMatch,
    email_domain,
    is_free_mail,
    is_valid_email,
    lead_segment_and_region,
    match_account,
    normalize_company_name,
    web_domain,
)


def account(id: int, *domains: str, name: str = "") -> AccountCandidate:
    """An account candidate with its domains and (normalized) name."""
    return AccountCandidate(
        id=id, domains=domains, normalized_name=normalize_company_name(name)
    )


# --- emails ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "jane@acme.com",
        "Jane.Doe+sales@Acme.CO.UK",
        "  jane@acme.com  ",
        "o'brien@acme.ie",
        "jane@sub-domain.acme.io",
        "jane@xn--80ak6aa92e.com",
    ],
)
def test_sane_emails_are_valid(email: str) -> None:
    assert is_valid_email(email) is True


@pytest.mark.parametrize(
    "email",
    [
        None,
        "",
        "   ",
        "jane",
        "jane@",
        "@acme.com",
        "jane@acme",
        "jane@@acme.com",
        "ja ne@acme.com",
        "jane@acme .com",
        ".jane@acme.com",
        "jane.@acme.com",
        "ja..ne@acme.com",
        "jane@-acme.com",
        "jane@acme.c",
        "jane@acme.123",
        "a" * 250 + "@acme.com",
    ],
)
def test_broken_emails_are_invalid(email: str | None) -> None:
    assert is_valid_email(email) is False
    assert email_domain(email) is None


def test_email_domain_is_lowercased_and_trimmed() -> None:
    assert email_domain("  Jane@Mail.ACME.com ") == "mail.acme.com"


@pytest.mark.parametrize(
    "domain", ["gmail.com", "GMAIL.COM", " hotmail.com ", "yahoo.com", "aol.com"]
)
def test_well_known_free_mail_domains_are_free_mail(domain: str) -> None:
    assert is_free_mail(domain) is True


@pytest.mark.parametrize("domain", ["acme.com", "mail.gmail.com", "gmail.co", None])
def test_other_domains_are_not_free_mail(domain: str | None) -> None:
    assert is_free_mail(domain) is False


def test_the_free_mail_list_is_data() -> None:
    assert is_free_mail("acme.com", frozenset({"acme.com"})) is True
    assert is_free_mail("gmail.com", frozenset({"acme.com"})) is False
    assert {"gmail.com", "googlemail.com", "icloud.com", "zoho.com"} <= (
        DEFAULT_FREE_MAIL_DOMAINS
    )


# --- websites -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.Acme.com/about", "acme.com"),
        ("http://acme.com", "acme.com"),
        ("acme.com", "acme.com"),
        ("www.acme.com/", "acme.com"),
        ("  ACME.COM  ", "acme.com"),
        ("https://user:pw@shop.acme.co.uk:8443/x?y=1#z", "shop.acme.co.uk"),
        ("https://acme.com.", "acme.com"),
        (None, None),
        ("", None),
        ("not a website", None),
        ("localhost", None),
        ("https://", None),
    ],
)
def test_web_domain_is_the_bare_host(website: str | None, domain: str | None) -> None:
    assert web_domain(website) == domain


# --- company names --------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Acme",
        "Acme, Inc.",
        "ACME Inc",
        "acme incorporated",
        "The Acme Company",
        "Acme Corp.",
        "Acme Corporation",
        "Acme LLC",
        "Acme Ltd.",
        "Acme Limited",
        "Acme GmbH",
        "Acme AG",
        "Acme S.A.",
        "Acme SARL",
        "Acme B.V.",
        "Acme N.V.",
        "Acme plc",
        "Acme Pty Ltd",
        "Acme S.r.l.",
        "Acme S.p.A.",
        "Acme Oy",
        "Acme AB",
        "Acme K.K.",
        "Acme & Co.",
        "  acme   co  ",
        "ÀCMÉ",
    ],
)
def test_company_names_with_legal_suffixes_normalize_alike(name: str) -> None:
    assert normalize_company_name(name) == "acme"


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Johnson & Johnson", "johnson and johnson"),
        ("McDonald's Corporation", "mcdonalds"),
        ("Société Générale S.A.", "societe generale"),
        ("Acme Widgets, Inc.", "acme widgets"),
        ("The Home Depot", "home depot"),
        ("Theory Inc", "theory"),
        ("Co-operative Bank", "co operative bank"),
        ("Acme-Widgets", "acme widgets"),
    ],
)
def test_company_names_keep_their_meaningful_words(name: str, normalized: str) -> None:
    assert normalize_company_name(name) == normalized


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("The Company", "the company"),
        ("Inc.", "inc"),
        ("  LLC ", "llc"),
        ("", ""),
        (None, ""),
        ("!!!", ""),
    ],
)
def test_a_name_made_only_of_removable_words_keeps_them(
    name: str | None, normalized: str
) -> None:
    assert normalize_company_name(name) == normalized


@pytest.mark.parametrize(
    "name", ["Acme, Inc.", "The Company", "Johnson & Johnson", "Inc.", "And Co"]
)
def test_normalizing_twice_changes_nothing(name: str) -> None:
    once = normalize_company_name(name)

    assert normalize_company_name(once) == once


def test_different_companies_stay_different() -> None:
    assert normalize_company_name("Acme Inc") != normalize_company_name("Acme Labs Inc")


# --- matching an account --------------------------------------------------------


def test_a_lead_matches_an_account_by_email_domain_first() -> None:
    accounts = [account(1, name="Acme Inc"), account(2, "acme.com", name="Other")]

    assert match_account("jane@acme.com", "Acme", accounts) == AccountMatch(2, "DOMAIN")


def test_domain_matching_ignores_case_and_www() -> None:
    accounts = [account(3, "WWW.Acme.com")]

    assert match_account("Jane@ACME.com", None, accounts) == AccountMatch(3, "DOMAIN")


def test_a_subdomain_email_matches_the_parent_domain() -> None:
    accounts = [account(4, "acme.com")]

    assert match_account("jane@eu.acme.com", None, accounts) == AccountMatch(
        4, "DOMAIN"
    )


def test_a_lookalike_domain_is_not_a_subdomain() -> None:
    assert match_account("jane@notacme.com", None, [account(4, "acme.com")]) is None


def test_the_most_specific_domain_wins_over_a_parent() -> None:
    accounts = [account(1, "acme.com"), account(9, "eu.acme.com")]

    assert match_account("jane@eu.acme.com", None, accounts) == AccountMatch(
        9, "DOMAIN"
    )


def test_several_accounts_with_the_same_domain_go_to_the_lowest_id() -> None:
    accounts = [account(12, "acme.com"), account(5, "acme.com"), account(8, "acme.com")]

    assert match_account("jane@acme.com", None, accounts) == AccountMatch(5, "DOMAIN")


def test_free_mail_never_matches_by_domain() -> None:
    accounts = [account(1, "gmail.com", name="Google")]

    assert match_account("jane@gmail.com", None, accounts) is None


def test_free_mail_falls_through_to_the_company_name() -> None:
    accounts = [account(1, "gmail.com"), account(2, "acme.com", name="Acme, Inc.")]

    assert match_account("jane@gmail.com", "ACME Inc", accounts) == AccountMatch(
        2, "NAME"
    )


def test_acme_inc_with_a_comma_matches_acme_inc_without_one() -> None:
    accounts = [account(7, name="Acme, Inc.")]

    assert match_account(None, "ACME Inc", accounts) == AccountMatch(7, "NAME")


def test_the_stored_normalized_name_is_compared_normalized() -> None:
    raw = AccountCandidate(id=3, domains=(), normalized_name="The Acme Company")

    assert match_account(None, "acme incorporated", [raw]) == AccountMatch(3, "NAME")


def test_several_accounts_with_the_same_name_go_to_the_lowest_id() -> None:
    accounts = [account(30, name="Acme"), account(10, name="Acme Ltd")]

    assert match_account(None, "Acme", accounts) == AccountMatch(10, "NAME")


def test_an_unmatched_domain_falls_through_to_the_name() -> None:
    accounts = [account(1, "acme.com", name="Acme")]

    assert match_account("jane@acme-eu.com", "Acme GmbH", accounts) == AccountMatch(
        1, "NAME"
    )


def test_an_invalid_email_falls_through_to_the_name() -> None:
    accounts = [account(1, "acme.com", name="Acme")]

    assert match_account("jane@acme", "Acme", accounts) == AccountMatch(1, "NAME")


@pytest.mark.parametrize("company", [None, "", "   "])
def test_no_domain_and_no_company_matches_nothing(company: str | None) -> None:
    accounts = [account(1, "acme.com", name="")]

    assert match_account(None, company, accounts) is None


def test_no_accounts_match_nothing() -> None:
    assert match_account("jane@acme.com", "Acme", []) is None


def test_an_edited_free_mail_list_is_used_for_matching() -> None:
    accounts = [account(1, "gmail.com")]

    assert match_account("jane@gmail.com", None, accounts, frozenset()) == (
        AccountMatch(1, "DOMAIN")
    )


# --- D5: a linked lead's segment and region -------------------------------------


def test_a_linked_lead_takes_the_accounts_segment_and_region():
    own = (SalesSegment.SMB, Region.US_EAST)

    assert lead_segment_and_region(own, None) == own
    assert lead_segment_and_region(own, (SalesSegment.LARGE, Region.EMEA)) == (
        SalesSegment.LARGE,
        Region.EMEA,
    )
    assert lead_segment_and_region(own, (SalesSegment.UNKNOWN, None)) == own
    assert lead_segment_and_region(own, (SalesSegment.STRATEGIC, None)) == (
        SalesSegment.STRATEGIC,
        Region.US_EAST,
    )
    assert lead_segment_and_region(
        (SalesSegment.UNKNOWN, None), (SalesSegment.UNKNOWN, Region.APAC)
    ) == (SalesSegment.UNKNOWN, Region.APAC)
