"""Duplicate match keys and scores (D12): pure normalizers."""

from __future__ import annotations

import pytest

from domain.enums import DuplicateReason as R
from domain.rules.matching import (
    company_key,
    domain_key,
    duplicate_score,
    email_key,
    match_keys,
    name_key,
    ordered_reasons,
    phone_key,
)


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("Jane.Doe@Acme.com", "jane.doe@acme.com"),
        (" jane.doe+news@acme.com ", "jane.doe@acme.com"),
        ("Jane.Doe+x@GoogleMail.com", "janedoe@gmail.com"),
        ("j.a.n.e@gmail.com", "jane@gmail.com"),
        ("+tag@acme.com", None),
        ("not an email", None),
        (None, None),
    ],
)
def test_the_email_key_ignores_case_tags_and_gmail_dots(email, key):
    assert email_key(email) == key


def test_the_name_key_ignores_case_accents_punctuation_and_order():
    assert name_key("José", "O'Neil") == name_key("jose", "ONEIL") == "jose oneil"
    assert name_key("Doe", "Jane") == name_key("Jane", "Doe")
    assert name_key("Jane", None) is None
    assert name_key("Jane", "  ") is None


def test_the_domain_key_is_never_free_mail():
    assert domain_key("jane@Acme.com") == "acme.com"
    assert domain_key("jane@gmail.com") is None
    assert domain_key("broken") is None


def test_the_company_key_drops_legal_suffixes():
    assert company_key("The Acme Co.") == company_key("ACME, Inc.") == "acme"
    assert company_key(None) is None
    assert company_key("...") is None


@pytest.mark.parametrize(
    ("phone", "key"),
    [
        ("+1 (415) 555-0100", "4155550100"),
        ("415.555.0100", "4155550100"),
        ("0044 20 7946 0958", "2079460958"),
        ("+44 20 7946 0958", "2079460958"),
        ("12345", None),
        (None, None),
    ],
)
def test_the_phone_key_is_the_last_ten_digits(phone, key):
    assert phone_key(phone) == key


def test_match_keys_gather_every_key():
    keys = match_keys(
        email="Jane@Acme.com",
        first_name="Jane",
        last_name="Doe",
        company="Acme Inc",
        phone="555 010 0100",
    )
    assert (
        keys.match_email,
        keys.match_name,
        keys.match_domain,
        keys.match_company,
        keys.match_phone,
    ) == ("jane@acme.com", "doe jane", "acme.com", "acme", "5550100100")


def test_reasons_combine_into_a_score_that_never_passes_100():
    assert duplicate_score([R.SAME_EMAIL]) == 95
    assert duplicate_score([R.SAME_PHONE]) == 60
    assert duplicate_score([R.SAME_NAME_AND_DOMAIN, R.SAME_PHONE]) == 92
    assert duplicate_score(list(R)) == 100
    assert duplicate_score([]) == 0
    assert ordered_reasons({R.SAME_PHONE, R.SAME_EMAIL}) == [R.SAME_EMAIL, R.SAME_PHONE]
