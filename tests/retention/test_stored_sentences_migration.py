"""The data migrations turn the sentences the desk used to store into phrases, said in each
reader's language; text somebody wrote stays as it was (retention 0010, subscribers 0006)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from subscribers.phrases import said

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("retention", "0009_phrases_and_email_language"),
    ("offers", "0003_offer_history_phrases"),
    ("subscribers", "0005_phrases_and_plan_descriptions"),
]
AT = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def old():
    """The apps as they were before the phrases, with the database migrated back to them;
    migrated forward again at the end."""
    apps = migrate(BEFORE)
    yield apps
    migrate(latest())


def stored_by_the_old_desk(apps):
    """Rows as the desk wrote them before phrases: English sentences, and notices translated
    when they were made."""
    Plan = apps.get_model("subscribers", "Plan")
    Subscriber = apps.get_model("subscribers", "Subscriber")
    plan = Plan.objects.create(
        code="stundas-30",
        name="Stundas 30 (30 h a month)",
        kind="metered_time",
        download_mbps=30,
        upload_mbps=10,
        list_price=Decimal("8.99"),
        new_customer_price=Decimal("6.99"),
    )
    subscriber = Subscriber.objects.create(
        account_number="100200300",
        name="Anna Ozola",
        region="Rīga",
        signup_date=date(2015, 1, 1),
        plan=plan,
        monthly_price=Decimal("8.99"),
        churn_risk=40,
        churn_risk_reasons=[
            "Pays €2.00 a month (+28%) more than new customers",
            "€17.98 in arrears (2 missed payments)",
            "Something a model said",
        ],
    )
    User = apps.get_model("retention", "User")
    agent = User.objects.create(username="ilze", first_name="Ilze", last_name="Kalniņa")
    Reason = apps.get_model("retention", "CancellationReason")
    price = Reason.objects.create(
        code="price-test",
        category="price",
        name_en="Too dear",
        name_lv="Par dārgu",
        name_ru="Дорого",
    )
    Template = apps.get_model("offers", "OfferTemplate")
    template = Template.objects.create(
        code="fixed-test", kind="fixed_discount", amount=Decimal("5"), months=12, name_en="€5 off"
    )
    Offer = apps.get_model("offers", "CounterOffer")
    offer = Offer.objects.create(
        subscriber=subscriber,
        template=template,
        kind="fixed_discount",
        amount=Decimal("5"),
        months=12,
        status="expired",
        monthly_concession=Decimal("5.00"),
        counted_months=12,
        one_time_concession=Decimal("0.00"),
        total_cost=Decimal("60.00"),
        new_monthly_price=Decimal("3.99"),
        proposer=agent,
        auto_approved=True,
        decided_at=AT,
        valid_until=AT + timedelta(days=3),
    )
    Case = apps.get_model("retention", "CancellationCase")
    case = Case.objects.create(
        subscriber=subscriber,
        channel="phone",
        reason=price,
        process_by=date(2026, 3, 20),
        first_contact_due=AT,
        owner=agent,
    )
    Event = apps.get_model("subscribers", "TimelineEvent")
    events = {
        summary: Event.objects.create(
            subscriber=subscriber, kind=kind, occurred_at=AT, summary=summary, data=data
        )
        for kind, summary, data in [
            ("cancellation_request", "Asked to cancel by phone (Too dear)", {"case": case.pk}),
            ("port_out", "Port-out notice: switching on 2026-03-20 to Bite", {}),
            (
                "contact",
                "Outbound phone call by the retention desk: no answer",
                {"direction": "outbound"},
            ),
            (
                "offer_proposed",
                "Offer proposed: €5.00 off a month for 12 months (cost €60.00)",
                {"offer": offer.pk, "cost": "60.00"},
            ),
            (
                "price_change",
                f"Price €8.99 → €3.99 a month until 2027-03-06 (offer #{offer.pk})",
                {"offer": offer.pk, "from": "8.99", "to": "3.99", "until": "2027-03-06"},
            ),
            ("ticket", "Ticket: router keeps restarting", {}),  # support's own words
        ]
    }
    History = apps.get_model("retention", "CaseHistory")
    history = {
        note: History.objects.create(case=case, actor=agent, action=action, note=note)
        for action, note in [
            ("contact", "Izejošs Tālruņa zvans: Nav atbildes — atzvanīt rīt"),  # written in lv
            ("reassigned", "— → ilze: Atvaļinājums"),
            ("callback", "2026-03-09 11:00"),
            (
                "auto_cancelled",
                "Nobody resolved the case by its process-by date 2026-03-20, so the "
                "cancellation was processed as the subscriber asked.",
            ),
            ("note", "Klients ir lojāls"),  # Ilze's own note
        ]
    }
    OfferHistory = apps.get_model("offers", "OfferHistory")
    offer_history = {
        note: OfferHistory.objects.create(offer=offer, action=action, note=note)
        for action, note in [
            ("auto_approved", "Iesniedzēja pilnvaru robežās (Agent)."),  # made in Latvian
            ("expired", "not presented in time"),
        ]
    }
    Notification = apps.get_model("retention", "Notification")
    notices = {
        text: Notification.objects.create(recipient=agent, text=text)
        for text in [
            f"Call back Anna Ozola now (case #{case.pk}).",
            f"Jums nodota lieta #{case.pk}: Atvaļinājums",
            "A message from before phrases",
        ]
    }
    Contact = apps.get_model("retention", "ContactAttempt")
    inbound = Contact.objects.create(
        case=case,
        subscriber=subscriber,
        channel="phone",
        direction="inbound",
        outcome="reached",
        note="Inbound call: the subscriber asked to cancel.",
    )
    return subscriber, events, history, offer_history, notices, inbound


def offer_history_offer(events):
    return events["Ticket: router keeps restarting"].data.get("offer") or next(
        e.params["offer"] for e in events.values() if e.code == "offer.price_changed_until"
    )


def test_stored_sentences_become_phrases_and_what_people_wrote_stays(old):
    subscriber, events, history, offer_history, notices, inbound = stored_by_the_old_desk(old)
    apps = migrate(latest())

    def reloaded(app, model, rows):
        found = apps.get_model(app, model).objects.in_bulk([row.pk for row in rows.values()])
        return {key: found[row.pk] for key, row in rows.items()}

    events = reloaded("subscribers", "TimelineEvent", events)
    history = reloaded("retention", "CaseHistory", history)
    offer_history = reloaded("offers", "OfferHistory", offer_history)
    notices = reloaded("retention", "Notification", notices)

    def codes(rows):
        return [row.code for row in rows.values()]

    assert codes(events) == [
        "case.requested_reason",
        "case.port_out_to",
        "contact.desk",
        "offer.proposed",
        "offer.price_changed_until",
        "",  # support's words stay theirs
    ]
    assert codes(history) == [
        "history.contact_note",
        "history.reassigned",
        "history.callback",
        "history.auto_cancelled",
        "",
    ]
    assert codes(offer_history) == ["offer.within_authority", "offer.end.not_presented"]
    assert codes(notices) == ["notify.callback", "notify.case_assigned", ""]
    assert apps.get_model("retention", "ContactAttempt").objects.get(pk=inbound.pk).code == (
        "contact.inbound_cancel"
    )
    ticket = events["Ticket: router keeps restarting"]
    assert ticket.summary == "Ticket: router keeps restarting"
    assert history["Klients ir lojāls"].note == "Klients ir lojāls"
    assert notices["A message from before phrases"].text == "A message from before phrases"

    # Said in Latvian now, whichever language they were stored in.
    with translation.override("lv"):
        lines = [said(row) for row in [*events.values(), *history.values(), *notices.values()]]
    assert lines[:5] == [
        "Lūdza lauzt līgumu (kanāls: tālrunis; iemesls: Par dārgu)",
        "Paziņojums par numura pārnesi: pāreja pie Bite 20.03.2026",
        "Noturēšanas komandas kontakts, izejošs, tālruņa zvans: nav atbildes",
        "Piedāvājums izteikts: €5,00 atlaide mēnesī uz 12 mēnešiem (izmaksas €60,00)",
        f"Cena €8,99 → €3,99 mēnesī līdz 6.03.2027 (piedāvājums #{offer_history_offer(events)})",
    ]
    assert lines[6] == "izejošs, tālruņa zvans: nav atbildes — atzvanīt rīt"
    assert lines[8] == "uz 9.03.2026 11:00"
    assert lines[-2] == f"Jums nodota lieta #{history['Klients ir lojāls'].case_id}: Atvaļinājums"

    # The demo plan's name is its brand again, its description in each language.
    plan = apps.get_model("subscribers", "Plan").objects.get(code="stundas-30")
    assert (plan.name, plan.description_lv) == (
        "Stundas 30",
        "30 stundas internetā mēnesī, tālāk par katru stundu",
    )
    reasons = apps.get_model("subscribers", "Subscriber").objects.get(pk=subscriber.pk)
    assert reasons.churn_risk_reasons == [
        {"code": "risk.loyalty_penalty", "params": {"amount": "2.00", "percent": 28}},
        {"code": "risk.arrears", "params": {"amount": "17.98", "count": 2}},
        "Something a model said",
    ]
