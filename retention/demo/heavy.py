"""Heavy demo subscribers: corporate accounts with many sites and tens of thousands of events
over twelve years, so that deep timeline pages can be measured."""

import json
import random
from collections.abc import Callable

from retention.demo.people import CORPORATE_NAMES, REGIONS, company_domain
from retention.demo.plans import GEAR, PLANS
from retention.demo.rows import Bundle, EquipmentRow, EventRow, PlanRow, SubscriberRow
from retention.demo.texts import TICKET_TOPICS
from retention.demo.units import (
    DAY,
    as_json,
    date_of,
    duration,
    eur,
    pretty_price,
    said,
    scramble,
)
from retention.demo.world import World

_EXTERNAL_PREFIX = {
    "signup": "ORD-H",
    "ticket": "T",
    "payment": "PAY-H",
    "outage": "NET-H",
    "equipment_shipped": "SHP-H",
}
# (kind, source, summary, data JSON)
_Event = tuple[str, str, str, str]


def heavy_bundle(
    world: World, index: int, plan_ids: dict[str, int], first_event_id: int, first_equipment_id: int
) -> Bundle:
    # Own random stream, so changing --heavy-events leaves everybody else's data alone.
    rng = random.Random(world.options.seed * 1_000_003 + index)
    randrange = rng.randrange
    sid = index + 1
    plan = next(p for p in PLANS if p.code == "korporativais-birojs-500")
    signup_day = world.today_day - 12 * 365 - index * 40
    name = CORPORATE_NAMES[index % len(CORPORATE_NAMES)]
    sites = 40 + index * 5
    equipment = _sites_equipment(world, sid, sites, signup_day, first_equipment_id)
    # A negotiated price per site, below what a new customer pays for one site.
    monthly = pretty_price(plan.new_cents * 90 // 100)
    first_at = signup_day * DAY
    span = world.now - first_at - DAY
    stamps = sorted(first_at + randrange(span) for _ in range(world.options.heavy_events))
    rows: list[EventRow] = []
    eid = first_event_id
    region = REGIONS[index % len(REGIONS)]
    for n, at in enumerate(stamps):
        site = 1 + randrange(sites)
        roll = randrange(100)
        if n == 0:
            kind, source, summary, data = _signed(plan, sites)
        else:
            kind, source, summary, data = _site_event(randrange, roll, site, monthly, region)
        ext = f"{_EXTERNAL_PREFIX[kind]}{eid:08d}" if source != "desk" else None
        rows.append((eid, sid, kind, at, source, ext, summary, data))
        eid += 1
    subscriber = SubscriberRow(
        sid, world.account_number(index), name, world.phone(index),
        f"it@{company_domain(name)}", "lv", "Europe/Riga", region, "corporate", "active",
        date_of(signup_day), plan_ids[plan.code], monthly, None, 0, 0, "bank_transfer", False,
        False, False, 35, json.dumps([said("risk.renewal_due"), said("risk.site_outages")]),
    )  # fmt: skip
    return Bundle(subscriber, equipment, rows)


def _sites_equipment(
    world: World, sid: int, sites: int, signup_day: int, first_equipment_id: int
) -> list[EquipmentRow]:
    """An ONT and a business router at every site, the sites connected twenty days apart."""
    equipment = []
    eq_id = first_equipment_id
    for site in range(1, sites + 1):
        for key in ("ont", "business"):
            kind, model, prefix = GEAR[key]
            serial = f"{prefix}{scramble(eq_id, world.salt):08X}"
            shipped = date_of(signup_day + site * 20)
            item = EquipmentRow(eq_id, sid, kind, model, serial, "on_loan", "", None, shipped, None)
            equipment.append(item)
            eq_id += 1
    return equipment


def _signed(plan: PlanRow, sites: int) -> _Event:
    summary = f"Contract signed: {plan.name} for {sites} sites"
    return "signup", "billing", summary, as_json(plan=plan.code, sites=sites, plan_name=plan.name)


def _site_event(
    randrange: Callable[[int], int], roll: int, site: int, monthly: int, region: str
) -> _Event:
    """What happened at one of the sites, by ``roll`` (0 to 99): a ticket, a payment, an
    outage, a call, a note or a spare box."""
    if roll < 30:
        topic, text = TICKET_TOPICS[randrange(len(TICKET_TOPICS))]
        data = f'{{"topic": "{topic}", "site": {site}, "status": "closed"}}'
        return "ticket", "support", f"Ticket, site {site}: {text}", data
    if roll < 55:
        summary = f"Payment received €{eur(monthly)} for site {site} (bank transfer)"
        data = f'{{"amount": "{eur(monthly)}", "site": {site}, "method": "bank_transfer"}}'
        return "payment", "billing", summary, data
    if roll < 70:
        minutes = 20 + randrange(240)
        summary = f"Outage {duration(minutes)} at site {site} ({region}): line fault"
        return (
            "outage",
            "network",
            summary,
            f'{{"minutes": {minutes}, "site": {site}, "cause": "line"}}',
        )
    if roll < 80:
        data = f'{{"channel": "phone", "direction": "outbound", "site": {site}}}'
        return "contact", "desk", f"Account manager call about site {site}", data
    if roll < 90:
        summary = f"Site {site}: change of on-site contact person"
        return "note", "desk", summary, f'{{"site": {site}}}'
    summary = f"Shipped spare MikroTik RB4011iGS+ to site {site}"
    data = f'{{"site": {site}, "items": "MikroTik RB4011iGS+"}}'
    return "equipment_shipped", "logistics", summary, data
