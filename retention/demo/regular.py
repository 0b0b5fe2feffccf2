"""One ordinary demo subscriber's story, told in order.

Every step draws from the one random stream of the world, so the order of the steps is part of
the data: the same seed gives the same rows only while they run in this order.
"""

import json
import operator

from retention.demo.equipment import cancellation, replacement, ship_equipment
from retention.demo.incidents import contact, note, outages, tickets
from retention.demo.payments import payments
from retention.demo.people import business, person
from retention.demo.prices import price_history
from retention.demo.risk import churn_risk
from retention.demo.rows import Bundle, Draft, EventRow, SubscriberRow
from retention.demo.story import Story
from retention.demo.texts import PAYMENT_METHODS
from retention.demo.units import date_of
from retention.demo.world import World

_first = operator.itemgetter(0)


def regular_bundle(
    world: World,
    index: int,
    plan_ids: dict[str, int],
    first_event_id: int,
    first_equipment_id: int,
    carry: int,
) -> Bundle:
    """The subscriber number ``index`` with their equipment and timeline; ``carry`` is how
    many events earlier subscribers left to spend (or overspent)."""
    story = _sign_up(world, index)
    price_history(world, story)
    next_equipment_id = ship_equipment(world, story, first_equipment_id)
    if story.cancelled:
        cancellation(story)
    else:
        replacement(world, story, next_equipment_id)
    outages(world, story)
    tickets(world, story)
    contact(world, story)
    note(world, story)
    payments(world, story, carry)
    subscriber = _subscriber_row(world, story, plan_ids)
    story.events.sort(key=_first)
    events = _numbered(story.events, story.sid, first_event_id)
    return Bundle(
        subscriber, story.equipment, events, end_day=story.end_day if story.cancelled else 0
    )


def _who(world: World) -> tuple[str, str, str, str, str, str]:
    """(segment, region, name, e-mail, language, time zone)."""
    rnd = world.rnd
    roll = rnd()
    segment = "residential" if roll < 0.86 else "small_business" if roll < 0.97 else "corporate"
    region = world.region()
    if segment == "residential":
        name, email, language, zone = person(rnd, world.randrange, region)
    else:
        name, email = business(rnd, world.randrange, segment == "corporate")
        language, zone = ("lv", "Europe/Riga") if rnd() < 0.85 else ("ru", "Europe/Riga")
    if rnd() < 0.04:
        email = ""  # no e-mail on file: the contact panel must say so
    return segment, region, name, email, language, zone


def _sign_up(world: World, index: int) -> Story:
    """Who signed up when, for which plan, paying how; and for a few, when they left (their
    story stops at the cancellation). Suspension follows from arrears, later."""
    rnd, randrange, today = world.rnd, world.randrange, world.today_day
    segment, region, name, email, language, zone = _who(world)
    roll = rnd()
    if roll < 0.15:
        tenure = 20 + randrange(345)
    elif roll < 0.5:
        tenure = 365 + randrange(3 * 365)
    else:
        tenure = 4 * 365 + randrange(11 * 365)
    signup_day = max(today - tenure, world.start_day + 30)
    signup = date_of(signup_day)
    plan = world.pick_plan(segment[0], signup.year)
    method = PAYMENT_METHODS[randrange(100)]
    end_day = today
    cancelled = tenure > 120 and rnd() < 0.025
    if cancelled:
        end_day = today - randrange(1, min(700, tenure - 60))
    return Story(
        index=index, sid=index + 1, account=world.account_number(index), segment=segment,
        region=region, name=name, email=email, language=language, zone=zone, tenure=tenure,
        signup_day=signup_day, signup=signup, plan=plan, method=method,
        bill_dom=min(signup.day, 28), end_day=end_day, cancelled=cancelled, current_plan=plan,
    )  # fmt: skip


def _subscriber_row(world: World, story: Story, plan_ids: dict[str, int]) -> SubscriberRow:
    rnd, cancelled, monthly, arrears = world.rnd, story.cancelled, story.monthly, story.arrears
    status = "cancelled" if cancelled else "suspended" if story.arrears_months >= 3 else "active"
    balance = arrears + (monthly if not cancelled and rnd() < 0.3 else 0)
    if not arrears and not cancelled and rnd() < 0.03:
        balance = -monthly  # paid in advance
    dnc = rnd()
    risk, reasons = churn_risk(world, story)
    return SubscriberRow(
        story.sid, story.account, story.name, world.phone(story.index), story.email,
        story.language, story.zone, story.region, story.segment, status, story.signup,
        plan_ids[story.current_plan.code], monthly, story.promo_ends_on, balance, arrears,
        story.method, dnc < 0.03, dnc < 0.015 or 0.03 <= dnc < 0.035, dnc < 0.02, risk,
        json.dumps(reasons, ensure_ascii=False),
    )  # fmt: skip


def _numbered(events: list[Draft], sid: int, first_event_id: int) -> list[EventRow]:
    """The events with their ids. Tickets are numbered by the support system; the event id is
    unique, so their number is too."""
    rows: list[EventRow] = []
    eid = first_event_id
    for at, kind, source, ext, summary, data in events:
        rows.append(
            (eid, sid, kind, at, source, ext if ext != "" else f"T{eid:08d}", summary, data)
        )
        eid += 1
    return rows
