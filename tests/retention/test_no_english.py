"""A Latvian or Russian reader sees no English on the desk's pages (the rule: store a code and
its parameters, say it in the reader's language).

A week at the desk in March 2026 (Riga time), on top of the demo data (billing's payments,
missed payments, price changes, outages, equipment, churn-risk reasons). Ilze, a Latvian agent,
and Olga, a Russian one, work cases of every kind: a save after a declined offer, a port-out
reassigned to Olga with its one save contact and a rejected offer, a withdrawal, a cancellation
with equipment to return, a case that reaches its deadline, an offer nobody presented in time,
a payment deferral whose end comes up for review, an outreach answer asking for a call, and the
reminders of a day (first contact due and overdue, a callback, an offer waiting for approval and
escalated). Their Latvian manager and lead decide offers.

Each page is then read as its reader reads it, and its visible text is checked against the
catalogue's English: every run of at least two words and twelve characters of a msgid (between
its placeholders) that the translation does not keep as it is. What a subscriber, a billing or
support system or a member of staff wrote is shown as written, so it is left out of the check.
"""

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from offers.models import CounterOffer, OfferKind, OfferTemplate
from retention.cases.contacts import contact_log
from retention.cases.opening import Intake, case_open
from retention.cases.services import (
    case_add_note,
    case_cancel,
    case_claim,
    case_set_callback,
    case_set_reason,
    case_withdraw,
    cases_reassign,
)
from retention.cases.sweeps import cases_process_overdue
from retention.core.refusals import ContactRefused
from retention.core.roles import Role
from retention.demo import texts as seeding
from retention.models import CancellationReason, OutreachMessage, Team, User
from retention.notifications.reminders import reminders_for_discounts_ending, reminders_tick
from retention.outreach import services as outreach
from retention.outreach.audience import campaign_fan_out
from retention.outreach.replies import outreach_respond
from retention.outreach.sending import outreach_send
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers.models import Equipment, Subscriber, TimelineEvent
from subscribers.services import equipment_mark_returned
from tests.factories import (
    EquipmentFactory,
    PlanFactory,
    SubscriberFactory,
    offer_template,
    user_with_role,
)

pytestmark = pytest.mark.django_db

D = Decimal
LOCALE = Path(__file__).resolve().parents[2] / "locale"
TODAY = date(2026, 3, 6)  # a Friday: the demo data's reference day, and the busy day below


def riga(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Riga in early March 2026 (UTC+2)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=2)


# --- The catalogue's English ----------------------------------------------------------------------

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd%]|\{\{[^}]*\}\}|\{\w*\}")
KEYWORD = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) ((?:"(?:[^"\\]|\\.)*"\s*)+)', re.M)
FUZZY = re.compile(r"^#,.*\bfuzzy\b", re.M)


def _text(quoted: str) -> str:
    return "".join(
        ast.literal_eval(f'"{part}"') for part in re.findall(r'"((?:[^"\\]|\\.)*)"', quoted)
    )


@cache
def english_phrases(language: str) -> frozenset[str]:
    """Runs of English from the msgids of ``language``'s catalogue that the translation does
    not keep: two words or more, twelve characters or more, between placeholders."""
    found = set()
    po = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text("utf-8")
    for entry in po.split("\n\n"):
        keywords = [(key, _text(value)) for key, value in KEYWORD.findall(entry)]
        # msgfmt leaves a fuzzy entry out: the reader gets its English.
        translated = (
            ""
            if FUZZY.search(entry)
            else " ".join(text for key, text in keywords if key.startswith("msgstr"))
        )
        for key, text in keywords:
            if key.startswith("msgid"):
                for piece in PLACEHOLDER.split(text):
                    piece = piece.strip(" .,:;()—–-“”\"'")
                    if len(piece) >= 12 and " " in piece and piece not in translated:
                        found.add(piece)
    return frozenset(found)


# --- What a reader sees -------------------------------------------------------------------------


class _Text(HTMLParser):
    """The text a reader sees or hears: every text node but scripts and styles, and the
    labels a screen reader reads out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


# Money and dates as English or a database writes them: €44.99, 2026-03-06.
ENGLISH_MONEY = re.compile(r"€\d[\d,]*\.\d\d\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def english_on(html: str, language: str, written: Iterable[str]) -> list[str]:
    """The catalogue's English left on the page once what people and systems wrote is out,
    and money or dates not written the reader's way."""
    text = visible_text(html)
    for data in sorted({" ".join(w.split()) for w in written if w}, key=len, reverse=True):
        text = text.replace(data, " ¶ ")
    found = [phrase for phrase in english_phrases(language) if phrase in text]
    return sorted(found + ENGLISH_MONEY.findall(text) + ISO_DATE.findall(text))


# What the demo's billing, support and staff wrote (subscribers.seeding), shown as written.
DEMO_WRITTEN = [
    *(text for _topic, text in seeding.TICKET_TOPICS),
    *seeding.OUTAGE_TICKET_TOPICS,
    *(text for _source, _channel, text in seeding.CONTACTS),
    *seeding.NOTES,
]


# --- The week -----------------------------------------------------------------------------------


@dataclass
class Desk:
    ilze: User
    olga: User
    manager: User
    lead: User
    saved: CounterOffer  # Ilze's save
    pending: CounterOffer  # Olga's offer, waiting for a decision
    subscribers: list[Subscriber]
    written: list[str]  # what people wrote during the week


def reason(code: str, category: str, en: str, lv: str, ru: str) -> CancellationReason:
    found, _ = CancellationReason.objects.update_or_create(
        code=code, defaults={"category": category, "name_en": en, "name_lv": lv, "name_ru": ru}
    )
    return found


def named(template: OfferTemplate, lv: str, ru: str) -> OfferTemplate:
    template.name_lv, template.name_ru = lv, ru
    template.save()
    return template


def customer(name: str, language: str = "lv", **fields) -> Subscriber:
    """A subscriber paying €29.99 for a plan new customers get for €19.99, for five years."""
    plan = PlanFactory.create(code="optika-test", name="Optika 300")
    return SubscriberFactory.create(name=name, language=language, plan=plan, **fields)


def opened(subscriber: Subscriber, actor: User | None, channel: str = "web", **intake):
    return case_open(subscriber=subscriber, intake=Intake(channel=channel, **intake), actor=actor)


@pytest.fixture
def week(tiers) -> Desk:
    written: list[str] = []

    def wrote(text: str) -> str:
        written.append(text)
        return text

    with time_machine.travel(riga(2, 9), tick=False) as clock:
        call_command(
            "seed_demo", subscribers=60, today=TODAY, heavy=1, heavy_events=200,
            no_progress=True, stdout=StringIO(),
        )  # fmt: skip
        team = Team.objects.create(name="Rīga")
        ilze = user_with_role(
            Role.AGENT, username="ilze", first_name="Ilze", last_name="Kalniņa", team=team
        )
        olga = user_with_role(
            Role.AGENT, username="olga", first_name="Ольга", last_name="Иванова", team=team
        )
        manager = user_with_role(
            Role.MANAGER, username="vaditajs", first_name="Jānis", last_name="Ozols", team=team
        )
        lead = user_with_role(
            Role.MANAGER,
            "Retention lead",
            username="vadone",
            first_name="Dace",
            last_name="Liepa",
            team=team,
        )
        written += [tier.name for tier in tiers.values()]  # the tiers' names are data
        price = reason("price-lv", "price", "Price too high", "Pārāk dārgi", "Слишком дорого")
        moving = reason("moving-lv", "moving", "Moving away", "Pārceļas", "Переезжает")
        fixed = named(
            offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12),
            "€5 atlaide gadu",
            "Скидка €5 на год",
        )
        big = named(
            offer_template(
                "discount-30-12", OfferKind.PERCENT_DISCOUNT, percent=D("30"), months=12
            ),
            "30% atlaide gadu",
            "Скидка 30% на год",
        )
        deferral = named(
            offer_template("deferral-20", OfferKind.PAYMENT_DEFERRAL, days=20),
            "Maksājuma atlikšana",
            "Отсрочка платежа",
        )

        # Monday: a case with a process-by date tomorrow, and an offer nobody will present.
        late = customer("Pēteris Ozols")
        case_claim(case=opened(late, None, requested_end_date=date(2026, 3, 3)), actor=ilze)
        idle = customer("Līga Bērziņa")
        idle_case = case_claim(case=opened(idle, None), actor=ilze)
        saves.case_offer_propose(case=idle_case, template=fixed, actor=ilze)
        reminders_tick(now=riga(2, 9, 30))  # the process-by date is two days away or less

        # Tuesday: the deadline sweep processes the case nobody settled.
        clock.move_to(riga(3, 6))
        cases_process_overdue(today=date(2026, 3, 3))

        # Friday: the offer's three days to be presented have passed.
        clock.move_to(riga(6, 9))
        saves.offers_tick(now=riga(6, 9))

        # Friday 10:00: Ilze's inbound call ends in a save after a declined offer.
        clock.move_to(riga(6, 10))
        anna = customer("Anna Kalniņa")
        case = opened(anna, ilze, channel="phone", reason=price, reason_detail=wrote("Par dārgu"))
        contact_log(
            case=case, actor=ilze, channel="phone", direction="inbound", outcome="reached",
            note=wrote("Zvanīja vēlreiz, grib padomāt"),
        )  # fmt: skip
        case_set_reason(case=case, actor=ilze, reason=moving, reason_detail="", competitor="Tele2")
        case_set_reason(case=case, actor=ilze, reason=price, reason_detail="", competitor="")
        case_set_callback(case=case, actor=ilze, at=riga(9, 11))
        case_add_note(case=case, actor=ilze, text=wrote("Klients ir lojāls jau 5 gadus"))
        first = saves.case_offer_propose(case=case, template=fixed, actor=ilze)
        saves.offer_present(offer=first, actor=ilze)
        saves.offer_answer(offer=first, actor=ilze, accepted=False, note=wrote("Par maz"))
        second = saves.case_offer_propose(
            case=case, template=big, actor=ilze, note=wrote("Ilggadējs klients")
        )
        saves.offer_decide(
            offer=second, actor=manager, decision=Decision.APPROVE, note=wrote("Labi")
        )
        saves.offer_present(offer=second, actor=ilze)
        saved = saves.offer_answer(offer=second, actor=ilze, accepted=True, note=wrote("Paliek"))

        # A port-out, handed to Olga: one save contact, then a refusal; a rejected offer.
        ivan = customer("Иван Петров", language="ru")
        port = opened(
            ivan, None, channel="port_out", competitor="Bite",
            requested_end_date=date(2026, 3, 16), source="billing", external_id="PO-1",
        )  # fmt: skip
        cases_reassign(
            case_ids=[port.pk], to_user=olga, actor=manager, reason=wrote("Ольга говорит по-русски")
        )
        contact_log(case=port, actor=olga, channel="phone", direction="outbound", outcome="reached")
        with pytest.raises(ContactRefused):
            contact_log(
                case=port, actor=olga, channel="sms", direction="outbound", outcome="reached"
            )
        rejected = saves.case_offer_propose(case=port, template=big, actor=olga)
        saves.offer_decide(
            offer=rejected,
            actor=manager,
            decision=Decision.REJECT,
            note=wrote("Сначала тариф лояльности"),
        )
        pending = saves.case_offer_propose(
            case=port, template=big, actor=olga, note=wrote("Клиент ждёт ответа")
        )

        # A withdrawal and a cancellation with a router to return.
        stays = customer("Kārlis Zariņš")
        case_withdraw(
            case=case_claim(case=opened(stays, None), actor=ilze),
            actor=ilze,
            note=wrote("Pārdomāja"),
        )
        leaves = customer("Marta Liepiņa")
        router = EquipmentFactory.create(subscriber=leaves, kind=Equipment.Kind.ROUTER)
        case_cancel(
            case=case_claim(case=opened(leaves, None), actor=ilze),
            actor=ilze,
            effective_date=TODAY,
        )
        equipment_mark_returned(equipment=router, actor=ilze, method="courier")

        # A payment deferral that ends within 30 days: its proposer is asked to review it.
        owes = customer("Juris Krūmiņš", balance=D("29.99"))
        deferred = saves.offer_propose_proactive(subscriber=owes, template=deferral, actor=ilze)
        saves.offer_present(offer=deferred, actor=ilze)
        saves.offer_answer(offer=deferred, actor=ilze, accepted=True)
        reminders_for_discounts_ending(today=TODAY)

        # An outreach campaign: a subscriber asks for a call.
        campaign = outreach.campaign_create(
            actor=manager,
            values={
                "name": wrote("Lojālie klienti"),
                "template": fixed,
                "channel": "email",
                "not_contacted_days": 0,
                "min_tenure_months": 1000,  # nobody of the demo data
                "body_lv": "Sveiki, {name}! {offer}: {price} → {new_price}. {link}",
                "body_ru": "Здравствуйте, {name}! {offer}: {price} → {new_price}. {link}",
                "body_en": "Hello {name}! {offer}: {price} → {new_price}. {link}",
            },
        )
        caller = customer("Inese Vītola", signup_date=date(1930, 1, 1))
        outreach.campaign_launch(campaign=campaign, actor=manager)
        campaign_fan_out(campaign=campaign)
        outreach_send(campaign_id=campaign.pk, now=riga(6, 10))
        outreach_respond(
            message=OutreachMessage.objects.get(campaign=campaign, subscriber=caller),
            response="call",
        )

        # The day's reminders: first contact due soon and overdue, a callback, an approval.
        fresh = customer("Roberts Kalns")
        fresh_case = case_claim(case=opened(fresh, None), actor=ilze)
        case_set_callback(case=fresh_case, actor=ilze, at=riga(6, 15))
        for hour in (13, 14, 15):
            clock.move_to(riga(6, hour, 1))
            reminders_tick(now=riga(6, hour, 1))
            saves.offers_tick(now=riga(6, hour, 1))
        pending.refresh_from_db()
        subscribers = [anna, ivan, stays, leaves, owes, caller, fresh, late, idle]
        written += [s.name for s in subscribers] + ["Optika 300", "Tele2", "Bite", "Rīga"]
        return Desk(ilze, olga, manager, lead, saved, pending, subscribers, written)


def reader(user: User, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def pages_of(client: Client, urls: Iterable[str]) -> dict[str, str]:
    found = {}
    with time_machine.travel(riga(6, 15, 30), tick=False):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            found[url] = response.content.decode()
    return found


def written_on_timelines() -> list[str]:
    """Notes staff wrote, and what the sender wrote where the desk cannot say it better."""
    return list(
        TimelineEvent.objects.filter(kind__in=["note", "ticket"]).values_list("summary", flat=True)
    )


def demo_subscribers() -> list[Subscriber]:
    """Demo subscribers with the most churn-risk reasons, and one with each kind of event."""
    many = sorted(
        Subscriber.objects.exclude(churn_risk_reasons=[]),
        key=lambda s: len(s.churn_risk_reasons),
        reverse=True,
    )[:6]
    each_kind = [
        TimelineEvent.objects.filter(kind=kind, source__in=["billing", "network", "support",
                                                            "logistics", "desk"])
        .order_by("pk").values_list("subscriber_id", flat=True).first()
        for kind in TimelineEvent.Kind.values
    ]  # fmt: skip
    return many + list(Subscriber.objects.filter(pk__in=[pk for pk in each_kind if pk]))


def urls_for(desk: Desk, extra: Iterable[Subscriber] = ()) -> list[str]:
    urls = [
        reverse("queue"),
        reverse("my_cases"),
        reverse("callbacks"),
        reverse("notifications"),
        reverse("case", args=[desk.saved.case_id]),
        reverse("case", args=[desk.pending.case_id]),
    ]
    for subscriber in [*desk.subscribers, *extra]:
        urls.append(reverse("subscribers:detail", args=[subscriber.pk]))
        for kind in TimelineEvent.Kind.values:
            urls.append(f"{reverse('subscribers:timeline', args=[subscriber.pk])}?kind={kind}")
    return urls


@pytest.mark.parametrize(("who", "language"), [("ilze", "lv"), ("olga", "ru")])
def test_an_agent_reads_every_page_in_their_language(week, who, language):
    extra = demo_subscribers()
    user = getattr(week, who)
    pages = pages_of(reader(user, language), urls_for(week, extra))
    written = week.written + written_on_timelines() + DEMO_WRITTEN + [s.name for s in extra]
    english = {url: english_on(html, language, written) for url, html in pages.items()}
    assert {url: found for url, found in english.items() if found} == {}


@pytest.mark.parametrize("language", ["lv", "ru"])
def test_a_manager_reads_approvals_and_notifications_in_their_language(week, language):
    for user in (week.manager, week.lead):
        urls = [
            reverse("approvals"),
            reverse("notifications"),
            reverse("case", args=[week.pending.case_id]),
            reverse("queue"),  # with the bulk actions' "Reassign to" list, a manager's own
        ]
        pages = pages_of(reader(user, language), urls)
        english = {url: english_on(html, language, week.written) for url, html in pages.items()}
        assert {url: found for url, found in english.items() if found} == {}
    # The lead's inbox holds Olga's offer, escalated to them: the check read a real card.
    assert f"approval-{week.pending.pk}" in pages[reverse("approvals")]
