"""manage.py import_cases FILE.csv: cancellation requests from a file, all or nothing."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from retention.cases.case_import import CaseImportRejected, cases_import_csv
from retention.cases.intake import CaseItemStatus
from retention.management.commands.import_cases import Command
from retention.models import CancellationCase
from subscribers.models import Subscriber, TimelineEvent
from tests.factories import SubscriberFactory

HEADER = "external_id,account_number,channel,reason,reason_detail,competitor,requested_end_date"


@pytest.fixture
def subscribers(db) -> list[Subscriber]:
    return [
        SubscriberFactory.create(account_number=number) for number in ("LV-100", "LV-200", "LV-300")
    ]


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def good_file() -> str:
    return "\n".join(
        [
            HEADER,
            "imp-1,LV-100,phone,price,Too expensive,,",
            f'imp-2,LV-200,port_out,competitor,"Moving to Bite, they said",Bite,{in_days(20)}',
            "imp-3,LV-300,email,,,,",
        ]
    )


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8") -> str:
    path = tmp_path / "cases.csv"
    path.write_text(text, encoding=encoding)
    return str(path)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_cases", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def import_text(text: str, **options: bool):
    return cases_import_csv(file=io.BytesIO(text.encode()), **options)


# --- A good file --------------------------------------------------------------------------


def test_good_file_opens_a_case_per_row(subscribers, tmp_path):
    out, err = run(write(tmp_path, good_file()))

    assert "3 rows: 3 created, 0 duplicates, 0 merged into an open case, 0 already open" in out
    assert out.count("\n") == 1  # the summary alone
    assert err == ""
    cases = {case.external_id: case for case in CancellationCase.objects.all()}
    assert set(cases) == {"imp-1", "imp-2", "imp-3"}
    assert {case.source for case in cases.values()} == {"import"}
    assert cases["imp-1"].subscriber == subscribers[0]
    assert cases["imp-1"].reason is not None and cases["imp-1"].reason.code == "price"
    assert cases["imp-2"].reason_detail == "Moving to Bite, they said"
    assert cases["imp-2"].competitor == "Bite"
    assert cases["imp-2"].process_by.isoformat() == in_days(20)  # the switch date
    assert cases["imp-3"].reason is None
    assert TimelineEvent.objects.filter(source="import").count() == 3


def test_report_gives_each_row_its_line_and_case(subscribers):
    report = import_text(good_file())
    assert [(row.line, row.external_id, row.status) for row in report.items] == [
        (2, "imp-1", CaseItemStatus.CREATED),
        (3, "imp-2", CaseItemStatus.CREATED),
        (4, "imp-3", CaseItemStatus.CREATED),
    ]
    assert {row.case for row in report.items} == set(
        CancellationCase.objects.values_list("pk", flat=True)
    )


def test_file_with_a_bom_and_windows_line_endings_is_read(subscribers):
    text = "\ufeff" + good_file().replace("\n", "\r\n") + "\r\n"
    assert import_text(text).created == 3


def test_only_the_required_columns_are_needed(subscribers):
    report = import_text("channel,account_number,external_id\nweb,LV-100,imp-1\n")
    assert report.created == 1
    assert CancellationCase.objects.get().channel == "web"


def test_requested_at_sets_when_the_deadlines_start(subscribers, settings):
    settings.MAX_PROCESS_DAYS = 14
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, tzinfo=UTC), tick=False):
        import_text(
            "external_id,account_number,channel,requested_at\n"
            "imp-1,LV-100,web,2026-03-02T09:00:00+02:00\n"
        )
    case = CancellationCase.objects.get()
    assert case.opened_at == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert case.process_by.isoformat() == "2026-03-16"


def test_blank_lines_are_ignored_and_do_not_shift_line_numbers(subscribers):
    text = HEADER + "\n\nimp-1,LV-100,phone,,,,\n,,,,,,\nimp-2,LV-999,phone,,,,\n"
    with pytest.raises(CaseImportRejected) as rejected:
        import_text(text)
    assert [row.line for row in rejected.value.rows] == [5]


def test_a_cell_over_several_lines_keeps_the_line_numbers_right(subscribers):
    text = HEADER + '\nimp-1,LV-100,phone,,"first line\nsecond line",,\nimp-2,LV-100,fax,,,,\n'
    with pytest.raises(CaseImportRejected) as rejected:
        import_text(text)
    assert [row.line for row in rejected.value.rows] == [4]


# --- Bad rows: nothing is imported --------------------------------------------------------


def bad_file() -> str:
    return "\n".join(
        [
            HEADER,
            "imp-1,LV-100,phone,price,,,",
            "imp-2,LV-200,fax,,,,",  # line 3: no such channel
            "imp-3,LV-999,web,,,,",  # line 4: no such subscriber
            "imp-4,LV-300,port_out,,,Bite,",  # line 5: a port-out without its switch date
            "imp-5,LV-300,web,aliens,,,",  # line 6: no such reason
        ]
    )


def test_bad_rows_are_listed_with_their_line_numbers_and_nothing_is_imported(subscribers):
    with pytest.raises(CaseImportRejected) as rejected:
        import_text(bad_file())

    assert str(rejected.value) == "4 of 5 rows were rejected, so nothing was imported."
    assert [(row.line, row.status) for row in rejected.value.rows] == [
        (3, CaseItemStatus.INVALID),
        (4, CaseItemStatus.UNKNOWN_SUBSCRIBER),
        (5, CaseItemStatus.INVALID),
        (6, CaseItemStatus.INVALID),
    ]
    assert [row.errors[0].field for row in rejected.value.rows] == [
        "channel",
        "account_number",
        "requested_end_date",
        "reason",
    ]
    assert not CancellationCase.objects.exists()
    assert not TimelineEvent.objects.exists()


def test_command_prints_every_bad_row_and_fails(subscribers, tmp_path):
    with pytest.raises(CommandError) as failed:
        run(write(tmp_path, bad_file()))

    assert "4 of 5 rows were rejected, so nothing was imported" in str(failed.value)
    assert "--skip-invalid" in str(failed.value)
    assert failed.value.returncode == 1
    assert not CancellationCase.objects.exists()


def test_command_lists_every_bad_row_with_its_line_and_reason(subscribers, tmp_path):
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_cases", write(tmp_path, bad_file()), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("line 3 (imp-2): invalid: channel: Should be one of: phone,")
    assert lines[1] == (
        "line 4 (imp-3): unknown subscriber: account_number: No subscriber has this account number"
    )
    assert len(lines) == 4


def test_row_with_more_cells_than_columns_is_bad(subscribers):
    with pytest.raises(CaseImportRejected) as rejected:
        import_text(HEADER + "\nimp-1,LV-100,phone,,,,,surplus\n")
    [row] = rejected.value.rows
    assert (row.line, row.external_id) == (2, "imp-1")
    assert row.errors[0].message == "The row has 8 cells, the header names 7 columns"


def test_subscriber_who_left_is_a_bad_row(subscribers):
    Subscriber.objects.filter(account_number="LV-200").update(status=Subscriber.Status.CANCELLED)
    with pytest.raises(CaseImportRejected) as rejected:
        import_text(good_file())
    assert [(r.line, r.status) for r in rejected.value.rows] == [
        (3, CaseItemStatus.SUBSCRIBER_CANCELLED)
    ]
    assert not CancellationCase.objects.exists()


# --- --skip-invalid -----------------------------------------------------------------------


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(subscribers, tmp_path):
    out, _ = run(write(tmp_path, bad_file()), "--skip-invalid")

    assert "5 rows: 1 created, 0 duplicates, 0 merged into an open case, 0 already open" in out
    assert "4 rejected" in out
    assert "line 3 (imp-2): invalid" in out
    assert "line 6 (imp-5): invalid: reason: No cancellation reason has this code" in out
    assert CancellationCase.objects.get().external_id == "imp-1"


def test_skip_invalid_with_every_row_bad_fails(subscribers, tmp_path):
    path = write(tmp_path, HEADER + "\nimp-1,LV-999,phone,,,,\n")
    with pytest.raises(CommandError, match="every row was rejected"):
        run(path, "--skip-invalid")
    assert not CancellationCase.objects.exists()


# --- Importing again ----------------------------------------------------------------------


def test_importing_a_file_again_opens_nothing_more(subscribers, tmp_path):
    path = write(tmp_path, good_file())
    run(path)
    before = (CancellationCase.objects.count(), TimelineEvent.objects.count())

    out, _ = run(path)

    assert "3 rows: 0 created, 3 duplicates" in out
    assert (CancellationCase.objects.count(), TimelineEvent.objects.count()) == before


def test_request_for_an_open_case_is_reported_and_a_port_out_merged(subscribers, tmp_path):
    run(write(tmp_path, HEADER + "\nimp-1,LV-100,phone,,,,\n"))
    case = CancellationCase.objects.get()
    text = HEADER + f"\nimp-2,LV-100,email,,,,\nimp-3,LV-100,port_out,,,Bite,{in_days(2)}\n"

    out, _ = run(write(tmp_path, text))

    assert "0 created, 0 duplicates, 1 merged into an open case, 1 already open" in out
    assert f"line 2 (imp-2): already open, case #{case.pk}" in out
    assert f"line 3 (imp-3): merged, case #{case.pk}" in out
    case.refresh_from_db()
    assert case.process_by.isoformat() == in_days(2)
    assert CancellationCase.objects.count() == 1


# --- A file refused as a whole ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (HEADER + ",notes", "unknown columns: 'notes'"),
        ("external_id,account_number", "missing columns: channel"),
        (
            "external_id;account_number;channel",
            "unknown columns: 'external_id;account_number;channel'",
        ),
        ("external_id,account_number,channel,channel", "columns named twice: channel"),
    ],
)
def test_file_with_wrong_columns_is_refused(subscribers, tmp_path, header, problem):
    path = write(tmp_path, header + "\nimp-1,LV-100,phone\n")
    with pytest.raises(CommandError) as refused:
        run(path)
    assert problem in str(refused.value)
    assert "The columns are: external_id, account_number, channel" in str(refused.value)
    assert not CancellationCase.objects.exists()


@pytest.mark.django_db
def test_empty_file_is_refused():
    with pytest.raises(CaseImportRejected, match="The file is empty"):
        import_text("")


def test_file_that_is_not_utf8_is_refused_with_the_line(subscribers):
    text = HEADER + "\nimp-1,LV-100,phone,,Pārāk dārgi,,\n"
    with pytest.raises(CaseImportRejected, match="Line 2 is not UTF-8"):
        cases_import_csv(file=io.BytesIO(text.encode("iso-8859-13")))
    assert not CancellationCase.objects.exists()


@pytest.mark.django_db
def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nowhere.csv"))


# --- The exit code ------------------------------------------------------------------------


@pytest.fixture
def keep_the_test_connection(monkeypatch):
    # run_from_argv closes the connections when it ends, as manage.py would; the test's
    # transaction must outlive it.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)


def test_exit_code_is_1_when_nothing_was_imported(subscribers, tmp_path, keep_the_test_connection):
    path = write(tmp_path, bad_file())
    with pytest.raises(SystemExit) as exited:
        Command(stderr=io.StringIO()).run_from_argv(["manage.py", "import_cases", path])
    assert exited.value.code == 1


def test_exit_code_is_0_when_the_file_was_imported(subscribers, tmp_path, keep_the_test_connection):
    path = write(tmp_path, good_file())
    Command(stdout=io.StringIO()).run_from_argv(["manage.py", "import_cases", path])
    assert CancellationCase.objects.count() == 3
