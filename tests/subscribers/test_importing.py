"""Importing subscribers from CSV: the service, `manage.py import_subscribers`, the admin upload.

Runs on SQLite (bulk_create upserts) and on PostgreSQL (COPY into a staging table); the same
tests hold on both.
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from retention import urls as desk_urls
from subscribers import importing
from subscribers.admin_import import subscriber_import_urls
from subscribers.importing import ImportFileError, import_subscribers_csv
from subscribers.importing_load import SCORE_ARRIVALS_TASK
from subscribers.models import Subscriber
from tests.factories import PlanFactory, SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "account_number,name,plan_code,monthly_price,signup_date,region"
FULL_HEADER = (
    "account_number,name,plan_code,monthly_price,signup_date,region,phone,email,language,"
    "time_zone,segment,status,promo_ends_on,balance,arrears,payment_method,do_not_call,"
    "do_not_email,do_not_sms"
)


def csv_file(*lines: str) -> io.StringIO:
    return io.StringIO("".join(f"{line}\n" for line in lines), newline="")


def import_lines(*lines: str, skip_invalid: bool = False) -> importing.ImportReport:
    return import_subscribers_csv(file=csv_file(*lines), skip_invalid=skip_invalid)


def import_row(**cells: str) -> importing.ImportReport:
    """Import one row: a good one, with the cells given replacing or adding to it."""
    row = {
        "account_number": "1000001",
        "name": "Jānis",
        "plan_code": "fibre-300",
        "monthly_price": "9.99",
        "signup_date": "2020-01-01",
        "region": "Rīga",
        **cells,
    }
    return import_lines(",".join(row), ",".join(f'"{cell}"' for cell in row.values()))


@pytest.fixture
def plans():
    return {
        "fibre-300": PlanFactory(code="fibre-300"),
        "fibre-1000": PlanFactory(code="fibre-1000"),
    }


# --- Good files -----------------------------------------------------------------------------


def test_a_good_file_creates_subscribers_with_the_values_given(plans):
    report = import_lines(
        FULL_HEADER,
        "1000001,Jānis Bērziņš,fibre-300,29.99,2015-03-01,Rīga,+37120000001,janis@example.lv,"
        "lv,Europe/Riga,residential,active,2025-06-30,12.50,2.50,card,true,false,no",
        '1000002,"Olga Ivanova, SIA Zeme",fibre-1000,120.00,2019-11-20,Daugavpils,,,ru,'
        "Europe/Helsinki,small_business,suspended,,-5.00,0,cash,0,yes,1",
    )

    assert (report.created, report.updated, report.errors, report.rows_read) == (2, 0, [], 2)
    janis = Subscriber.objects.get(account_number="1000001")
    assert janis.name == "Jānis Bērziņš"
    assert janis.plan == plans["fibre-300"]
    assert janis.monthly_price == Decimal("29.99")
    assert janis.signup_date == date(2015, 3, 1)
    assert (janis.region, janis.phone, janis.email) == ("Rīga", "+37120000001", "janis@example.lv")
    assert (janis.language, janis.time_zone, janis.segment, janis.status) == (
        "lv",
        "Europe/Riga",
        "residential",
        "active",
    )
    assert janis.promo_ends_on == date(2025, 6, 30)
    assert (janis.balance, janis.arrears) == (Decimal("12.50"), Decimal("2.50"))
    assert janis.payment_method == "card"
    assert (janis.do_not_call, janis.do_not_email, janis.do_not_sms) == (True, False, False)
    olga = Subscriber.objects.get(account_number="1000002")
    assert olga.name == "Olga Ivanova, SIA Zeme"
    assert (olga.phone, olga.email, olga.promo_ends_on) == ("", "", None)
    assert (olga.time_zone, olga.segment, olga.status) == (
        "Europe/Helsinki",
        "small_business",
        "suspended",
    )
    assert (olga.balance, olga.arrears, olga.payment_method) == (Decimal("-5"), 0, "cash")
    assert (olga.do_not_call, olga.do_not_email, olga.do_not_sms) == (False, True, True)


def test_optional_columns_left_out_get_the_model_defaults(plans):
    import_lines(HEADER, "1000001,Anna Liepa,fibre-300,19.99,2020-01-31,Liepāja")

    anna = Subscriber.objects.get(account_number="1000001")
    assert (anna.phone, anna.email, anna.language, anna.time_zone) == ("", "", "lv", "Europe/Riga")
    assert (anna.segment, anna.status, anna.payment_method) == (
        "residential",
        "active",
        "direct_debit",
    )
    assert (anna.balance, anna.arrears, anna.promo_ends_on) == (0, 0, None)
    assert (anna.do_not_call, anna.do_not_email, anna.do_not_sms) == (False, False, False)
    assert (anna.churn_risk, anna.churn_risk_reasons) == (0, [])


def test_columns_may_come_in_any_order_with_spaces_and_capitals(plans):
    report = import_lines(
        " Region ,SIGNUP_DATE,monthly_price,plan_code,name,account_number",
        " Jelgava , 2020-01-31 , 19.99 , fibre-300 , Anna Liepa , 1000001 ",
    )

    assert report.created == 1
    anna = Subscriber.objects.get(account_number="1000001")
    assert (anna.region, anna.name, anna.monthly_price) == (
        "Jelgava",
        "Anna Liepa",
        Decimal("19.99"),
    )


def test_importing_the_same_file_again_creates_nothing_and_changes_no_value(plans):
    lines = (
        FULL_HEADER,
        "1000001,Jānis Bērziņš,fibre-300,29.99,2015-03-01,Rīga,+37120000001,janis@example.lv,"
        "lv,Europe/Riga,residential,active,2025-06-30,12.50,2.50,card,true,false,no",
        "1000002,Olga Ivanova,fibre-1000,120,2019-11-20,Daugavpils,,,ru,Europe/Riga,corporate,"
        "active,,0,0,cash,0,0,0",
    )
    first = import_lines(*lines)
    before = list(Subscriber.objects.order_by("pk").values())

    again = import_lines(*lines)

    assert (first.created, first.updated) == (2, 0)
    assert (again.created, again.updated, again.errors) == (2 - 2, 2, [])
    after = list(Subscriber.objects.order_by("pk").values())
    # The upsert touches every row it matched; nothing else may change.
    assert [{**row, "updated_at": None} for row in after] == [
        {**row, "updated_at": None} for row in before
    ]


def test_an_import_updates_the_columns_in_the_file_and_keeps_the_others(plans):
    existing = SubscriberFactory.create(
        account_number="1000001",
        phone="+37129999999",
        do_not_call=True,
        churn_risk=70,
        churn_risk_reasons=["promo ended"],
        plan=plans["fibre-300"],
    )

    report = import_lines(
        HEADER + ",status",
        "1000001,Jānis Bērziņš,fibre-1000,39.99,2015-03-01,Ventspils,cancelling",
    )

    assert (report.created, report.updated) == (0, 1)
    existing.refresh_from_db()
    assert existing.name == "Jānis Bērziņš"
    assert existing.plan == plans["fibre-1000"]
    assert existing.monthly_price == Decimal("39.99")
    assert (existing.region, existing.status) == ("Ventspils", "cancelling")
    # Not in the file, so untouched:
    assert (existing.phone, existing.do_not_call) == ("+37129999999", True)
    assert (existing.churn_risk, existing.churn_risk_reasons) == (70, ["promo ended"])


def test_a_file_saved_by_excel_with_a_bom_and_crlf_imports(plans, tmp_path):
    file = tmp_path / "export.csv"
    file.write_bytes(
        (
            "\ufeff" + HEADER + "\r\n1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga\r\n,,,,,\r\n"
        ).encode()
    )

    report = import_subscribers_csv(file=file)

    assert (report.created, report.rows_read, report.errors) == (1, 1, [])
    assert Subscriber.objects.get().name == "Jānis"


def test_a_bom_left_in_a_text_stream_is_ignored(plans):
    report = import_lines("\ufeff" + HEADER, "1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga")

    assert report.created == 1


def test_progress_hears_about_every_row_read(plans, monkeypatch):
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 2)
    calls: list[int] = []
    rows = [f"{1000000 + i},Name {i},fibre-300,9.99,2020-01-01,Rīga" for i in range(5)]

    report = import_subscribers_csv(file=csv_file(HEADER, *rows), progress=calls.append)

    assert calls == [2, 2, 1]
    assert report.rows_read == sum(calls) == 5


def test_the_number_of_queries_does_not_grow_with_the_rows(plans):
    def queries_for(rows: int) -> int:
        lines = [f"{2000000 + rows + i},Name,fibre-300,9.99,2020-01-01,Rīga" for i in range(rows)]
        with CaptureQueriesContext(connection) as queries:
            import_lines(HEADER, *lines)
        return len(queries)

    assert queries_for(3) == queries_for(30)


# --- Bad rows -------------------------------------------------------------------------------


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_with_its_line(plans):
    report = import_lines(
        HEADER,  # line 1
        "1000001,Good Row,fibre-300,9.99,2020-01-01,Rīga",  # line 2
        '1000002,"A name over',  # line 3: the row starts here…
        'two lines",fibre-300,-1,2020-01-01,Rīga',  # …and ends on line 4
        "",  # line 5: blank lines are skipped but counted
        "1000003,Third,no-such-plan,9.99,01.02.2020,Rīga",  # line 6
        "1000004,Fourth,fibre-300,9.99,2020-01-01,Rīga",  # line 7
    )

    assert Subscriber.objects.count() == 0
    assert (report.created, report.updated, report.rows_read) == (0, 0, 4)
    assert report.failed
    assert [(e.line, e.account_number) for e in report.errors] == [(3, "1000002"), (6, "1000003")]
    assert report.errors[0].message == "monthly_price: -1 must not be negative"
    assert report.errors[1].message == (
        "plan_code: no plan has the code 'no-such-plan'; "
        "signup_date: '01.02.2020' is not a date in the form YYYY-MM-DD"
    )


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("account_number", "", "account_number: is required"),
        ("account_number", "1" * 33, "account_number: is longer than 32 characters"),
        ("name", " ", "name: is required"),
        ("name", "x" * 201, "name: is longer than 200 characters"),
        ("plan_code", "", "plan_code: is required"),
        ("plan_code", "adsl", "plan_code: no plan has the code 'adsl'"),
        ("monthly_price", "", "monthly_price: is required"),
        ("monthly_price", "-0.01", "monthly_price: -0.01 must not be negative"),
        ("monthly_price", "1,50", "monthly_price: '1,50': use a dot as the decimal separator"),
        ("monthly_price", "1.505", "monthly_price: 1.505 has more than 2 decimal places"),
        ("monthly_price", "1000000", "monthly_price: 1000000 must be less than 1000000"),
        ("monthly_price", "€5", "monthly_price: '€5' is not a number like 29.99"),
        ("monthly_price", "NaN", "monthly_price: 'NaN' is not a number like 29.99"),
        ("signup_date", "2020-02-30", "signup_date: '2020-02-30' is not a valid date"),
        ("signup_date", "20200201", "signup_date: '20200201' is not a date in the form YYYY-MM-DD"),
        ("region", "", "region: is required"),
        ("phone", "1" * 33, "phone: is longer than 32 characters"),
        ("email", "janis@", "email: 'janis@' is not a valid e-mail address"),
        ("email", "a b@example.lv", "email: 'a b@example.lv' is not a valid e-mail address"),
        ("language", "de", "language: 'de' is not one of lv, ru, en"),
        ("language", "", "language: '' is not one of lv, ru, en"),
        ("time_zone", "Mars/Olympus", "time_zone: 'Mars/Olympus' is not a time zone name"),
        ("segment", "vip", "segment: 'vip' is not one of residential, small_business, corporate"),
        ("status", "gone", "status: 'gone' is not one of active, suspended, cancelling, cancelled"),
        ("promo_ends_on", "soon", "promo_ends_on: 'soon' is not a date in the form YYYY-MM-DD"),
        ("balance", "12.345", "balance: 12.345 has more than 2 decimal places"),
        ("balance", "100000000", "balance: 100000000 must be less than 100000000"),
        ("arrears", "-3", "arrears: -3 must not be negative"),
        ("payment_method", "bitcoin", "payment_method: 'bitcoin' is not one of direct_debit"),
        ("do_not_call", "maybe", "do_not_call: 'maybe' is not one of true, false, 1, 0, yes, no"),
        ("do_not_sms", "", "do_not_sms: '' is not one of true, false, 1, 0, yes, no"),
    ],
)
def test_each_bad_value_is_reported_with_the_reason(plans, column, value, message):
    report = import_row(**{column: value})

    assert [(error.line, error.message[: len(message)]) for error in report.errors] == [
        (2, message)
    ]
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    ("column", "value", "stored"),
    [
        ("monthly_price", " 007.5 ", Decimal("7.50")),
        ("monthly_price", "0", Decimal("0")),
        ("balance", "-0.00", Decimal("0")),
        ("email", "janis.berzins+desk@piemērs.lv", "janis.berzins+desk@piemērs.lv"),
        ("do_not_call", " YES ", True),
        ("language", " ru", "ru"),
        ("time_zone", "UTC", "UTC"),
    ],
)
def test_values_with_spaces_or_less_common_forms_are_accepted(plans, column, value, stored):
    report = import_row(**{column: value})

    assert report.errors == []
    assert getattr(Subscriber.objects.get(), column) == stored


def test_a_row_with_the_wrong_number_of_cells_is_an_error(plans):
    report = import_lines(HEADER, "1000001,Jānis,fibre-300,9.99,2020-01-01", "1000002")

    assert [str(error) for error in report.errors] == [
        "line 2 (account 1000001): has 5 cells, the header has 6",
        "line 3 (account 1000002): has 1 cells, the header has 6",
    ]


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(plans):
    report = import_lines(
        HEADER,
        "1000001,Good,fibre-300,9.99,2020-01-01,Rīga",
        "1000002,Bad,fibre-300,9.99,2020-13-01,Rīga",
        "1000003,Good too,fibre-300,9.99,2020-01-01,Rīga",
        skip_invalid=True,
    )

    assert (report.created, report.updated, report.error_count) == (2, 0, 1)
    assert not report.failed
    assert [(e.line, e.account_number) for e in report.errors] == [(3, "1000002")]
    assert set(Subscriber.objects.values_list("account_number", flat=True)) == {
        "1000001",
        "1000003",
    }


def test_skip_invalid_with_nothing_valid_imports_nothing(plans):
    report = import_lines(HEADER, "1000001,Bad,fibre-300,x,2020-01-01,Rīga", skip_invalid=True)

    assert report.failed
    assert (report.created, report.updated, report.error_count) == (0, 0, 1)


def test_an_account_number_twice_in_a_file_is_an_error_on_the_later_lines(plans):
    lines = (
        HEADER,
        "1000001,First,fibre-300,9.99,2020-01-01,Rīga",
        "1000002,Other,fibre-300,9.99,2020-01-01,Rīga",
        "1000001,Second,fibre-300,19.99,2020-01-01,Rīga",
        "1000001,Third,fibre-300,29.99,2020-01-01,Rīga",
    )

    report = import_lines(*lines)

    assert report.failed
    assert [(e.line, e.message) for e in report.errors] == [
        (4, "account_number: 1000001 is already on line 2"),
        (5, "account_number: 1000001 is already on line 2"),
    ]
    assert not Subscriber.objects.exists()

    report = import_lines(*lines, skip_invalid=True)

    assert (report.created, report.error_count) == (2, 2)
    assert Subscriber.objects.get(account_number="1000001").name == "First"


def test_a_report_prints_its_counts_and_bad_rows(plans):
    report = import_lines(
        HEADER,
        "1000001,Good,fibre-300,9.99,2020-01-01,Rīga",
        "1000002,Bad,fibre-300,9.99,2020-01-01,",
        skip_invalid=True,
    )

    lines = str(report).splitlines()

    assert lines[0].startswith("Read 2 rows in ")
    assert lines[0].endswith(": 1 created, 0 updated, 1 invalid row skipped.")
    assert lines[1:] == ["line 3 (account 1000002): region: is required"]


def test_the_report_keeps_a_bounded_number_of_bad_rows_and_counts_the_rest(plans, monkeypatch):
    monkeypatch.setattr(importing, "ERROR_DETAIL_LIMIT", 2)
    rows = [f"{1000000 + i},Bad,fibre-300,x,2020-01-01,Rīga" for i in range(5)]

    report = import_lines(HEADER, *rows)

    assert (len(report.errors), report.error_count) == (2, 5)
    assert str(report).endswith("… and 3 more invalid rows.")


# --- Files refused as a whole ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((), "The file is empty."),
        ((HEADER,), "The file has a header but no rows."),
        ((HEADER, "", ",,,,,"), "The file has a header but no rows."),
        (("", HEADER), "The first line must be the header row"),
        (
            ("account_number,name,plan_code,signup_date", "1,a,b,2020-01-01"),
            "Required columns missing from the header: monthly_price, region.",
        ),
        (
            (HEADER + ",churn_risk,notes", "1,a,fibre-300,1,2020-01-01,Rīga,5,x"),
            "Unknown columns: churn_risk, notes. The file is refused as a whole.",
        ),
        ((HEADER + ",", "1,a,fibre-300,1,2020-01-01,Rīga,"), "Unknown columns: (empty name in"),
        ((HEADER + ",name", "1,a,fibre-300,1,2020-01-01,Rīga,b"), "more than once in the header"),
        ((HEADER.replace(",", ";"), "1;a;fibre-300;1;2020-01-01;Rīga"), "comma-separated CSV"),
    ],
)
def test_a_file_is_refused_as_a_whole_with_a_clear_error(plans, lines, message):
    SubscriberFactory(account_number="1", name="Unchanged")

    with pytest.raises(ImportFileError) as refused:
        import_lines(*lines)

    assert message in str(refused.value)
    assert Subscriber.objects.get().name == "Unchanged"


def test_a_file_that_is_not_utf8_is_refused(plans, tmp_path):
    file = tmp_path / "latin1.csv"
    file.write_bytes(f"{HEADER}\n1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga\n".encode("cp1257"))

    with pytest.raises(ImportFileError, match="not UTF-8"):
        import_subscribers_csv(file=file)

    assert not Subscriber.objects.exists()


def test_a_file_found_not_to_be_utf8_halfway_imports_nothing(plans, tmp_path):
    # Decoding goes block by block, so this is noticed only after hundreds of rows were read
    # (and, on PostgreSQL, sent to the staging table).
    good = "".join(f"{1000000 + i},Jānis,fibre-300,9.99,2020-01-01,Rīga\n" for i in range(500))
    bad = "2000000,Jānis,fibre-300,9.99,2020-01-01,Rīga\n".encode("cp1257")
    file = tmp_path / "mixed.csv"
    file.write_bytes(f"{HEADER}\n{good}".encode() + bad)

    with pytest.raises(ImportFileError, match=r"not UTF-8 text \(the first problem is after line"):
        import_subscribers_csv(file=file)

    assert not Subscriber.objects.exists()
    # Nothing is left behind that would stop the next import.
    assert import_row().created == 1


# --- Scored on arrival ---------------------------------------------------------------------


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tasks asked for; nothing reaches a broker."""
    tasks: list[str] = []

    def enqueue(task_name: str, *args: object) -> bool:
        tasks.append(task_name)
        return True

    monkeypatch.setattr("retention.core.broker.enqueue", enqueue)
    return tasks


def test_an_import_that_creates_asks_for_the_scorer_once_after_commit(
    plans, asked, django_capture_on_commit_callbacks
):
    SubscriberFactory.create(account_number="1000001")
    with django_capture_on_commit_callbacks() as callbacks:
        report = import_lines(
            HEADER,
            "1000001,Janis,fibre-300,9.99,2020-01-01,Riga",
            "1000002,Anna,fibre-300,9.99,2020-01-01,Riga",
            "1000003,Olga,fibre-300,9.99,2020-01-01,Riga",
        )
        assert asked == []  # not before the commit
    for callback in callbacks:
        callback()

    assert (report.created, report.updated) == (2, 1)
    assert asked == [SCORE_ARRIVALS_TASK]


@pytest.mark.parametrize(
    "rows",
    [
        ["1000001,Janis,fibre-300,19.99,2020-01-01,Riga"],  # an update only
        ["1000002,Anna,fibre-300,9.99,2020-01-01,Riga", "1000003,Olga,nope,9.99,2020-01-01,Riga"],
    ],
)
def test_an_import_that_creates_no_one_asks_for_nothing(
    plans, asked, django_capture_on_commit_callbacks, rows
):
    SubscriberFactory.create(account_number="1000001")
    with django_capture_on_commit_callbacks(execute=True):
        import_lines(HEADER, *rows)

    assert Subscriber.objects.count() == 1
    assert asked == []


# --- The command ----------------------------------------------------------------------------


@pytest.fixture
def write_csv(tmp_path):
    def write(*lines: str):
        file = tmp_path / "subscribers.csv"
        file.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return file

    return write


def test_the_command_imports_a_file_and_prints_the_counts(plans, write_csv):
    file = write_csv(HEADER, "1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga")
    out = io.StringIO()

    call_command("import_subscribers", str(file), stdout=out, stderr=io.StringIO())
    call_command("import_subscribers", str(file), stdout=out, stderr=io.StringIO())

    first, second = out.getvalue().splitlines()
    assert first.endswith(": 1 created, 0 updated.")
    assert second.endswith(": 0 created, 1 updated.")
    assert Subscriber.objects.get().name == "Jānis"


def test_the_command_fails_and_prints_each_bad_row(plans, write_csv):
    file = write_csv(
        HEADER,
        "1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga",
        "1000002,Olga,fibre-300,9.99,2020-01-01,",
    )
    out = io.StringIO()

    with pytest.raises(
        CommandError, match=r"Nothing was imported: invalid rows: 1\. .*--skip-invalid"
    ):
        call_command("import_subscribers", str(file), stdout=out, stderr=io.StringIO())

    assert "line 3 (account 1000002): region: is required" in out.getvalue()
    assert not Subscriber.objects.exists()


def test_the_command_with_skip_invalid_imports_the_good_rows(plans, write_csv):
    file = write_csv(
        HEADER,
        "1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga",
        "1000002,Olga,fibre-300,9.99,2020-01-01,",
    )
    out = io.StringIO()

    call_command(
        "import_subscribers", str(file), "--skip-invalid", stdout=out, stderr=io.StringIO()
    )

    assert "1 created, 0 updated, 1 invalid row skipped." in out.getvalue()
    assert "line 3 (account 1000002): region: is required" in out.getvalue()
    assert Subscriber.objects.get().account_number == "1000001"


def test_the_command_fails_when_skip_invalid_leaves_nothing_to_import(plans, write_csv):
    file = write_csv(HEADER, "1000001,Jānis,fibre-300,9.99,2020-01-01,")

    with pytest.raises(CommandError, match=r"Nothing was imported: every row is invalid\."):
        call_command(
            "import_subscribers",
            str(file),
            "--skip-invalid",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


def test_the_command_refuses_a_file_with_an_unknown_column(plans, write_csv):
    file = write_csv(HEADER + ",colour", "1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga,red")

    with pytest.raises(CommandError, match=r"Unknown columns: colour.*Nothing was imported"):
        call_command("import_subscribers", str(file), stdout=io.StringIO(), stderr=io.StringIO())


def test_the_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_subscribers", str(tmp_path / "nope.csv"), stdout=io.StringIO())


# --- The admin upload -----------------------------------------------------------------------
# admin.py mounts the view with subscriber_import_urls(); this site does the same, so the tests
# do not depend on the rest of the admin configuration.


class SubscriberImportAdmin(admin.ModelAdmin):
    def get_urls(self):
        return [*subscriber_import_urls(self), *super().get_urls()]


site = admin.AdminSite(name="admin")
site.register(Subscriber, SubscriberImportAdmin)
urlpatterns = [
    path("admin/", site.urls),
    # The desk's own pages, but for its admin: a refusal page carries the desk's navigation.
    *[p for p in desk_urls.urlpatterns if str(getattr(p, "pattern", "")) != "admin/"],
]

IMPORT_URL = "/admin/subscribers/subscriber/import/"
uses_test_admin = pytest.mark.urls(__name__)


def upload(name: str, content: str | bytes) -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


@uses_test_admin
def test_the_upload_page_lists_the_columns(client, admin_user, django_assert_num_queries):
    assert reverse("admin:subscribers_subscriber_import") == IMPORT_URL
    client.force_login(admin_user)

    with django_assert_num_queries(2):  # session, user
        response = client.get(IMPORT_URL)

    assert response.status_code == 200
    assert [column.name for column in response.context["columns"]] == list(
        importing.COLUMNS_BY_NAME
    )
    assert b"do_not_sms" in response.content


@uses_test_admin
def test_a_superuser_uploads_a_file_and_sees_the_counts(client, admin_user, plans):
    client.force_login(admin_user)
    content = f"\ufeff{HEADER}\r\n1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga\r\n"

    response = client.post(IMPORT_URL, {"file": upload("export.csv", content)})

    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.updated, report.errors) == (1, 0, [])
    assert "1 created, 0 updated" in response.content.decode()
    assert Subscriber.objects.get().name == "Jānis"


@uses_test_admin
def test_the_upload_shows_the_bad_rows_and_imports_nothing(client, admin_user, plans):
    client.force_login(admin_user)
    content = (
        f"{HEADER}\n1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga\n1000002,Olga,x,9,2020-01-01,R\n"
    )

    response = client.post(IMPORT_URL, {"file": upload("export.csv", content)})

    assert response.status_code == 200
    assert [(e.line, e.account_number) for e in response.context["shown_errors"]] == [
        (3, "1000002")
    ]
    page = response.content.decode()
    assert "Nothing was imported: 1 row is invalid." in page
    assert "no plan has the code &#x27;x&#x27;" in page
    assert not Subscriber.objects.exists()


@uses_test_admin
def test_the_upload_can_skip_the_bad_rows(client, admin_user, plans):
    client.force_login(admin_user)
    content = (
        f"{HEADER}\n1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga\n1000002,Olga,x,9,2020-01-01,R\n"
    )

    response = client.post(
        IMPORT_URL, {"file": upload("export.csv", content), "skip_invalid": "on"}
    )

    assert "1 invalid row was skipped." in response.content.decode()
    assert list(Subscriber.objects.values_list("account_number", flat=True)) == ["1000001"]


@uses_test_admin
def test_the_upload_lists_only_the_first_500_bad_rows(client, admin_user, plans):
    client.force_login(admin_user)
    rows = "".join(f"{1000000 + i},Bad,fibre-300,x,2020-01-01,Rīga\n" for i in range(501))

    response = client.post(IMPORT_URL, {"file": upload("export.csv", f"{HEADER}\n{rows}")})

    assert len(response.context["shown_errors"]) == 500
    assert "Invalid rows: the first 500 of 501" in response.content.decode()


@uses_test_admin
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("export.xlsx", b"PK\x03\x04", "File extension “xlsx” is not allowed."),
        ("export.csv", b"", "The submitted file is empty."),
        ("export.csv", "account_number,name\n1,Jānis\n".encode("cp1257"), "not UTF-8"),
        ("export.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        ("export.csv", b"account_number,name\n1,a\n", "Required columns missing"),
        ("export.csv", f"{HEADER},x\n".encode(), "Unknown columns: x."),
    ],
)
def test_a_bad_upload_gets_a_clear_error_and_changes_nothing(
    client, admin_user, plans, name, content, message
):
    SubscriberFactory(account_number="1", name="Unchanged")
    client.force_login(admin_user)

    response = client.post(IMPORT_URL, {"file": upload(name, content)})

    assert response.status_code == 200
    assert response.context["report"] is None
    assert any(message in error for error in response.context["form"].errors["file"])
    assert Subscriber.objects.get().name == "Unchanged"


@uses_test_admin
def test_a_large_upload_spooled_to_disk_imports_too(client, admin_user, plans, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload becomes a temporary file
    client.force_login(admin_user)
    content = f"{HEADER}\n1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga\n"

    response = client.post(IMPORT_URL, {"file": upload("export.csv", content)})

    assert response.context["report"].created == 1


@uses_test_admin
def test_a_user_who_is_not_staff_cannot_reach_the_upload(client, plans):
    client.force_login(UserFactory(username="outsider", is_staff=False))
    content = f"{HEADER}\n1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga\n"

    assert client.get(IMPORT_URL).status_code == 302
    response = client.post(IMPORT_URL, {"file": upload("export.csv", content)})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not Subscriber.objects.exists()


@uses_test_admin
def test_staff_without_both_subscriber_permissions_are_refused(client, plans):
    clerk = UserFactory.create(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="change_subscriber"))
    client.force_login(clerk)
    content = f"{HEADER}\n1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga\n"

    response = client.post(IMPORT_URL, {"file": upload("export.csv", content)})

    assert response.status_code == 403
    assert not Subscriber.objects.exists()


@uses_test_admin
def test_staff_with_add_and_change_permissions_may_import(client, plans):
    clerk = UserFactory.create(username="clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_subscriber", "change_subscriber"])
    )
    client.force_login(clerk)
    content = f"{HEADER}\n1000001,Jānis,fibre-300,9.99,2020-01-01,Rīga\n"

    response = client.post(IMPORT_URL, {"file": upload("export.csv", content)})

    assert response.status_code == 200
    assert Subscriber.objects.count() == 1
