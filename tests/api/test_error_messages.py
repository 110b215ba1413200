"""Messages name records by global id (the edge renders the domain's neutral
``RecordRef``) and fields by their API names, never by database ids or columns."""

from __future__ import annotations

import pytest

from api.errors import client_message, user_errors
from domain.enums import ErrorCode
from domain.errors import RecordRef, Refusal, plain_refs
from domain.records import Lead, RecordMerge
from domain.rules.validation import non_negative, required
from tests.api.ids import gid
from tests.messages import message_faults


def test_a_record_reference_is_rendered_as_the_records_global_id():
    message = f"Lead {RecordRef('Lead', 7)} already has the email 'a@b.example'."

    assert client_message(message) == (
        f"Lead {gid('Lead', 7)} already has the email 'a@b.example'."
    )


def test_a_reference_is_rendered_with_its_node_types_name_not_its_class_name():
    merge = RecordMerge(id=3)

    assert client_message(f"Merge {RecordRef.to(merge)}") == f"Merge {gid('Merge', 3)}"


def test_every_reference_of_a_message_is_rendered_and_the_rest_is_unchanged():
    lead, other = RecordRef.to(Lead(id=1)), RecordRef("Account", 22)

    rendered = client_message(f"{{x}} {lead} and {other}: 100% done.")

    assert rendered == f"{{x}} {gid('Lead', 1)} and {gid('Account', 22)}: 100% done."


def test_logs_and_the_cli_read_a_reference_as_type_and_id():
    assert plain_refs(f"No such record: {RecordRef('User', 5)}.") == (
        "No such record: User 5."
    )


def test_a_user_error_renders_its_message_and_its_record_as_global_ids():
    ref = RecordRef("Contact", 9)
    refusal = Refusal(
        ErrorCode.DUPLICATE_RECORD,
        f"Contact {ref} already has this email.",
        ("email",),
        record=ref,
    )

    [error] = user_errors([refusal.under("contacts", "2")])

    assert (error.code, error.field, error.message, error.record_id) == (
        ErrorCode.DUPLICATE_RECORD,
        ["contacts", "2", "email"],
        f"Contact {gid('Contact', 9)} already has this email.",
        gid("Contact", 9),
    )


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (required, None, "incrementalAcv is required."),
        (non_negative, -1, "incrementalAcv must not be negative."),
    ],
)
def test_validation_messages_name_fields_as_the_api_does(check, value, message):
    [refusal] = check("incremental_acv", value)

    assert (refusal.field, refusal.message) == (("incremental_acv",), message)


@pytest.mark.parametrize(
    "message",
    [
        "No Lead with id 12.",
        "User 3 is already on the team of account 4.",
        "incremental_acv must not be negative.",
        f"Lead {RecordRef('Lead', 1)} was converted.",
    ],
)
def test_the_message_scan_catches_ids_columns_and_unrendered_references(message):
    assert message_faults(message) != []


@pytest.mark.parametrize(
    "message",
    [
        f"No such record: {gid('Lead', 12)}.",
        "The email 'first_last@acme.example' is taken.",
        "Only CLOSED_WON opportunities count; first must be at most 500.",
    ],
)
def test_the_message_scan_lets_global_ids_quotes_and_enum_values_through(message):
    assert message_faults(message) == []
