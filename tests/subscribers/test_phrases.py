"""Phrases (subscribers.phrases): stored as a code with parameters, said in the reader's
language, with money, dates and numbers written one way per language."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from subscribers.models import TimelineEvent
from subscribers.phrases import event_phrase, money, phrase, render, said

D = Decimal


@pytest.mark.parametrize(
    ("language", "amount", "day", "moment"),
    [
        ("en", "€1,234.50", "06.03.2026", "06.03.2026 14:05"),
        ("lv", "€1\xa0234,50", "6.03.2026", "6.03.2026 14:05"),
        ("ru", "€1\xa0234,50", "06.03.2026", "06.03.2026 14:05"),
    ],
)
def test_money_dates_and_times_are_written_the_readers_way(language, amount, day, moment):
    at = datetime(2026, 3, 6, 12, 5, tzinfo=UTC)  # 14:05 in Riga
    template = Template("{% load phrases %}{{ a|money }}|{{ d|day }}|{{ t|moment }}")
    with translation.override(language), timezone.override("Europe/Riga"):
        shown = template.render(Context({"a": D("1234.5"), "d": date(2026, 3, 6), "t": at}))
        assert money("-5") == ("-€5.00" if language == "en" else "-€5,00")
    assert shown == f"{amount}|{day}|{moment}"


def test_a_phrase_is_said_in_each_language_with_its_nested_phrase_and_money():
    terms = phrase("terms.percent_discount", percent=D("12.50"), months=3)
    stored = phrase("offer.proposed", offer=terms, cost=D("10.80"))
    assert stored == {
        "code": "offer.proposed",
        "params": {
            "offer": {
                "code": "terms.percent_discount",
                "params": {"percent": "12.50", "months": 3},
            },
            "cost": "10.80",
        },
    }
    assert render(stored["code"], stored["params"]) == (
        "Offer proposed: 12.5% off for 3 months (cost €10.80)"
    )
    assert render(stored["code"], stored["params"], language="lv") == (
        "Piedāvājums izteikts: 12,5% atlaide uz 3 mēnešiem (izmaksas €10,80)"
    )
    assert render(stored["code"], stored["params"], language="ru") == (
        "Предложение сделано: Скидка 12,5% на 3 месяца (стоимость €10,80)"
    )


def test_a_name_given_in_each_language_and_a_choice_are_said_in_the_readers():
    params = {"channel": "phone", "reason": {"en": "Price", "lv": "Cena", "ru": "Цена"}}
    assert render("case.requested_reason", params, language="ru") == (
        "Попросил расторгнуть договор (канал: телефон; причина: Цена)"
    )
    # A language the name lacks falls back to English.
    assert render("case.requested_reason", {**params, "reason": {"en": "Price"}}) == (
        "Asked to cancel by phone (Price)"
    )


def test_an_unknown_code_or_missing_parameter_never_breaks_the_page():
    assert render("no.such.phrase", {"x": 1}) == ""
    assert render("notify.callback", {"id": 4}) == "Call back  now (case #4)."
    with pytest.raises(KeyError):
        phrase("no.such.phrase")


def test_what_somebody_wrote_is_shown_as_written():
    note = TimelineEvent(kind="note", summary="Klients zvanīs pats", data={})
    ticket = TimelineEvent(kind="ticket", summary="Ticket: router keeps restarting", data={})
    assert said(note) == "Klients zvanīs pats"
    assert said(ticket) == "Ticket: router keeps restarting"
    assert said("Risk the model gave as text") == "Risk the model gave as text"


def test_a_payment_from_billing_is_said_from_its_data_where_it_can_be():
    event = TimelineEvent(
        kind="payment",
        summary="Payment received €59.99 (bank transfer)",
        data={"amount": "59.99", "method": "bank_transfer"},
    )
    with translation.override("lv"):
        assert said(event) == "Saņemts maksājums €59,99 (bankas pārskaitījums)"
    # Data the desk cannot read keeps the sender's line.
    odd = TimelineEvent(kind="payment", summary="Paid in kind", data={"amount": "two goats"})
    assert event_phrase(odd.kind, odd.data) is None
    assert said(odd) == "Paid in kind"


def test_an_outage_is_said_with_its_length_and_cause():
    event = TimelineEvent(
        kind="outage",
        summary="Outage 2 h 5 min in Rīga: storm damage (INC-2026-000066)",
        data={"incident": "INC-2026-000066", "minutes": 125, "cause": "storm"},
    )
    assert said(event) == "Outage of 2 h 5 min: storm damage (INC-2026-000066)"
    with translation.override("ru"):
        assert said(event) == "Авария на 2 ч 5 мин: повреждения после шторма (INC-2026-000066)"
