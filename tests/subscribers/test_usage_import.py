"""Importing usage months from CSV: every bad row reported by line, nothing imported unless told
to skip them, an upsert by subscriber and month, the fits of the subscribers touched recomputed."""

import io
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from subscribers.importing import ImportFileError, ImportReport
from subscribers.models import TariffFit, Usage
from subscribers.usage_import import import_usage_csv
from tests.factories import SubscriberFactory, UsageFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "account_number,period,gb_down,gb_up,hours_online,peak_devices"
IMPORT_URL = "/admin/subscribers/usage/import/"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-04-15 10:00:00+03:00", tick=False):
        yield


@pytest.fixture
def anna(db):
    return SubscriberFactory.create(account_number="A-1")


@pytest.fixture
def olga(db):
    return SubscriberFactory.create(account_number="O-2")


def import_lines(*lines: str, skip_invalid: bool = False) -> ImportReport:
    text = io.StringIO("".join(f"{line}\n" for line in lines), newline="")
    return import_usage_csv(file=text, skip_invalid=skip_invalid)


def test_rows_are_created_then_updated_or_left_unchanged(anna, olga):
    first = import_lines(HEADER, "A-1,2026-02,120.5,12,310.5,4", "O-2,2026-02,3,1,20,1")
    assert (first.created, first.updated, first.unchanged, first.error_count) == (2, 0, 0, 0)

    again = import_lines(
        HEADER + ",people", "A-1,2026-02,120.50,12.00,310.5,4,1", "O-2,2026-02,3,1,20,1,7"
    )

    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert "1 unchanged" in again.summary()
    stored = {u.subscriber.account_number: u for u in Usage.objects.select_related("subscriber")}
    assert stored["A-1"].gb_down == Decimal("120.50")
    assert stored["A-1"].period == date(2026, 2, 1)
    assert (stored["A-1"].people, stored["O-2"].people) == (1, 7)


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(anna, olga):
    report = import_lines(
        HEADER,
        "A-1,2026-02,1,1,1,1",  # line 2: good
        "A-1,2026-05,1,1,1,1",  # 3: a month in the future
        "O-2,2023-03,1,1,1,1",  # 4: more than 36 months back
        "O-2,2026-02,-1,1.234,745,x",  # 5: four bad cells
        "X-9,2026-02,1,1,1,1",  # 6: no such subscriber
        "A-1,2026-02,2,2,2,2",  # 7: the month of line 2 again
        "O-2,2026-02,1,1,1",  # 8: a cell short
    )

    assert report.failed
    assert [error.line for error in report.errors] == [3, 4, 5, 6, 7, 8]
    messages = {error.line: error.message for error in report.errors}
    assert "future" in messages[3]
    assert "36 months" in messages[4]
    assert all(name in messages[5] for name in ("gb_down", "gb_up", "hours_online", "peak"))
    assert "no subscriber" in messages[6]
    assert "line 2" in messages[7]
    assert "5 cells" in messages[8]
    assert not Usage.objects.exists()


def test_skip_invalid_imports_the_good_rows_and_keeps_the_first_of_a_month(anna, olga):
    report = import_lines(
        HEADER,
        "A-1,2026-02,1,1,1,1",
        "A-1,2026-02,2,2,2,2",
        "X-9,2026-02,1,1,1,1",
        "O-2,2026-01,5,5,5,5",
        skip_invalid=True,
    )

    assert (report.created, report.error_count) == (2, 2)
    assert Usage.objects.get(subscriber=anna).gb_down == Decimal("1.00")


def test_formula_cells_and_nul_bytes_are_bad_rows_never_stored(anna):
    report = import_lines(
        HEADER,
        '=HYPERLINK("http://x"),2026-02,1,1,1,1',
        "A-1,2026-02,=1+2,1,1,1",
        "A-1\x00,2026-01,1,1,1,1",
        "A-1,2026-0\x003,1,1,1,1",
        "A-1,2026-03,@SUM(1),1,1,1",
    )

    assert report.failed
    assert [error.line for error in report.errors] == [2, 3, 4, 5, 6]
    assert all("\x00" not in error.message for error in report.errors)
    assert all("\x00" not in error.account_number for error in report.errors)
    assert not Usage.objects.exists()


def test_the_fits_of_the_subscribers_touched_are_recomputed(anna, olga):
    UsageFactory.create(subscriber=olga, period=date(2026, 1, 1))
    import_lines(
        HEADER,
        "A-1,2026-01,1,1,1,1",
        "A-1,2026-02,1,1,1,1",
        "A-1,2026-03,1,1,1,1",
    )

    fit = TariffFit.objects.get()
    assert (fit.subscriber, fit.months, fit.computed_on) == (anna, 3, date(2026, 4, 15))


def test_a_file_without_rows_or_with_unknown_columns_is_refused():
    with pytest.raises(ImportFileError, match="no rows"):
        import_lines(HEADER)
    with pytest.raises(ImportFileError, match="Unknown columns: gb"):
        import_lines("account_number,period,gb")
    with pytest.raises(ImportFileError, match=r"missing.*peak_devices"):
        import_lines("account_number,period,gb_down,gb_up,hours_online")


def test_the_command_imports_and_refuses_a_file_with_bad_rows(anna, tmp_path):
    good = tmp_path / "usage.csv"
    good.write_text(f"{HEADER}\nA-1,2026-02,1,1,1,1\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_usage", str(good), stdout=out, verbosity=0)
    assert "1 created" in out.getvalue()

    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nA-1,2026-03,1,1,1,1\nX-9,2026-02,1,1,1,1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="invalid rows: 1"):
        call_command("import_usage", str(bad), stdout=io.StringIO(), verbosity=0)
    call_command("import_usage", str(bad), "--skip-invalid", stdout=out, verbosity=0)
    assert Usage.objects.count() == 2


# --- The admin page ---------------------------------------------------------------------------


def upload(content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("usage.csv", content.encode(), content_type="text/csv")


def test_the_upload_page_lists_the_usage_columns(client, admin_user, django_assert_num_queries):
    client.force_login(admin_user)

    # Session, user, and whether the contact policy may be added (the sidebar's model list).
    with django_assert_num_queries(3):
        response = client.get(IMPORT_URL)

    assert response.status_code == 200
    assert [c.name for c in response.context["columns"]][:2] == ["account_number", "period"]
    assert b"36 months back" in response.content


def test_an_admin_uploads_usage_and_sees_the_bad_rows(client, admin_user, anna):
    client.force_login(admin_user)
    content = f"{HEADER}\nA-1,2026-02,1,1,1,1\nA-1,2026-02,=cmd,1,1,1\n"

    refused = client.post(IMPORT_URL, {"file": upload(content)})
    assert refused.status_code == 200
    assert refused.context["report"].failed
    assert b"=cmd" in refused.content and b"<td>3</td>" in refused.content
    assert not Usage.objects.exists()

    taken = client.post(IMPORT_URL, {"file": upload(content), "skip_invalid": "on"})
    assert taken.context["report"].created == 1
    assert Usage.objects.count() == 1


def test_a_nul_byte_in_an_upload_is_a_bad_row_not_a_server_error(client, admin_user, anna):
    client.force_login(admin_user)
    content = f"{HEADER}\nA-1\x00,2026-02,1,1,1,1\n"

    response = client.post(IMPORT_URL, {"file": upload(content)})

    assert response.status_code == 200
    assert response.context["report"].error_count == 1
    assert not Usage.objects.exists()


def test_staff_without_the_usage_permissions_cannot_import(client):
    user = UserFactory.create(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_usage"))
    client.force_login(user)
    assert client.get(IMPORT_URL).status_code == 403
    changelist = client.get("/admin/subscribers/usage/")
    assert changelist.status_code == 200
    assert IMPORT_URL.encode() not in changelist.content

    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_usage", "change_usage"])
    )
    client.force_login(user)
    assert client.get(IMPORT_URL).status_code == 200
    assert IMPORT_URL.encode() in client.get("/admin/subscribers/usage/").content
