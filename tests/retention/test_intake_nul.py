"""A NUL character (U+0000) in a cancellation request is bad input, never a server error.

PostgreSQL refuses NUL in text, so before the check one NUL in any text of one request (its
reason_detail, competitor, or a value that is looked up, like the account number) answered the
whole batch with an HTML 500, and crashed the file import. Now the request is rejected by its
index (the import: its line) and field, and ``skip_invalid`` opens the others.
"""

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from retention.cases.case_import import CaseImportRejected, cases_import_csv
from retention.models import CancellationCase, CancellationReason
from tests.factories import SubscriberFactory
from tests.ingestion import post_cancellations as post

# The 500 happened only on PostgreSQL: SQLite stores a NUL without complaint.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NUL = "\x00"


@pytest.fixture
def subscribers(db):
    return [SubscriberFactory.create(account_number=n) for n in ("LV-100", "LV-200", "LV-300")]


def request(n: int, **overrides: Any) -> dict[str, Any]:
    return {
        "external_id": f"req-{n}",
        "account_number": f"LV-{n}00",
        "channel": "web",
        "reason": "price",
        "reason_detail": "Found it cheaper elsewhere",
        "competitor": "Bite",
        **overrides,
    }


FIELDS = [
    "external_id",
    "account_number",
    "channel",
    "reason",
    "reason_detail",
    "competitor",
    "requested_end_date",
    "requested_at",
]


@pytest.mark.parametrize("field", FIELDS)
def test_a_nul_in_any_text_of_a_request_rejects_it_by_index_and_field(
    api_client, subscribers, field
):
    bad = request(2)
    bad[field] = f"{bad.get(field) or 'x'}{NUL}"
    response = post(api_client, [request(1), bad])
    assert response.status_code == 400
    [item] = response.json()["items"]
    assert (item["index"], item["status"]) == (1, "invalid")
    assert {"field": field, "message": "Must not contain the NUL character (\\u0000)"} in item[
        "errors"
    ]
    assert not CancellationCase.objects.exists()


def test_a_nul_in_an_unknown_field_name_is_reported_too(api_client, subscribers):
    response = post(api_client, [request(1, **{f"note{NUL}": "hi"})])
    assert response.status_code == 400
    fields = [error["field"] for error in response.json()["items"][0]["errors"]]
    assert "note\\u0000" in fields


def test_a_request_with_a_nul_is_skipped_and_the_others_opened_with_skip_invalid(
    api_client, subscribers
):
    items = [request(1), request(2, reason_detail=f"too{NUL}dear"), request(3)]
    response = post(api_client, items, "?skip_invalid=true")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["rejected"]) == (2, 1)
    assert body["items"][1]["status"] == "invalid"
    opened = CancellationCase.objects.values_list("external_id", flat=True)
    assert set(opened) == {"req-1", "req-3"}


# --- The file import ----------------------------------------------------------------------------

HEADER = "external_id,account_number,channel,reason,reason_detail,competitor"


def import_text(text: str, **options: bool):
    return cases_import_csv(file=io.BytesIO(text.encode()), **options)


@pytest.mark.parametrize("column", ["external_id", "account_number", "reason_detail", "competitor"])
def test_a_nul_in_an_imported_row_is_reported_by_line_and_column(subscribers, column):
    row = {
        "external_id": "imp-2",
        "account_number": "LV-200",
        "channel": "phone",
        "reason": "price",
        "reason_detail": "Too expensive",
        "competitor": "Bite",
    }
    row[column] += NUL
    text = "\n".join([HEADER, "imp-1,LV-100,phone,price,,", ",".join(row.values()), ""])
    with pytest.raises(CaseImportRejected) as rejected:
        import_text(text)
    [bad] = rejected.value.rows
    assert bad.line == 3
    assert [error.field for error in bad.errors] == [column]
    assert not CancellationCase.objects.exists()

    report = import_text(text, skip_invalid=True)
    assert (report.created, report.rejected) == (1, 1)
    assert report.items[1].line == 3


def test_the_import_command_reports_the_line_and_column_of_a_nul(subscribers, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes(f"{HEADER}\nimp-1,LV-100,phone,price,too{NUL}dear,\n".encode())
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_cases", str(path), stdout=out)
    assert "line 2 (imp-1): invalid: reason_detail: Must not contain the NUL" in out.getvalue()


# --- The web forms ------------------------------------------------------------------------------


def test_a_nul_in_a_case_form_is_a_form_error_not_a_server_error(agent_client, subscribers):
    """Django's CharField refuses NUL already (ProhibitNullCharactersValidator)."""
    reason = CancellationReason.objects.get_or_create(
        code="price", defaults={"category": "price", "name_en": "Price"}
    )[0]
    response = agent_client.post(
        reverse("case_open", args=[subscribers[0].pk]),
        {"channel": "phone", "reason": reason.pk, "reason_detail": f"too{NUL}dear"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert response.context["form"].errors == {
        "reason_detail": ["Null characters are not allowed."]
    }
    assert not CancellationCase.objects.exists()
