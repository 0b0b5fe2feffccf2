"""Loading the demo data, the fastest way each database allows. Generation is one piece of
code (retention.demo.generator); only writing differs:

* PostgreSQL: COPY into detached tables (retention.demo.copying). A million subscribers with
  twenty million events take minutes, not hours.
* Anything else (SQLite during development): ``bulk_create`` in chunks.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from retention.demo.copying import load_postgres
from retention.demo.generator import DemoGenerator
from retention.demo.plans import PLAN_DESCRIPTIONS, PLAN_PRICING
from retention.demo.rows import Bundle, LoadReport, PlanRow, SeedOptions, SubscriberRow
from subscribers.models import (
    Equipment,
    OutboundEvent,
    Plan,
    Subscriber,
    TariffFit,
    TimelineEvent,
    Usage,
)


def database_is_empty() -> bool:
    return not Subscriber.objects.exists()


def reset_demo_data() -> None:
    """Delete subscribers, their events, equipment, usage and tariff fits, and plans (and what
    refers to them)."""
    if connection.vendor == "postgresql":
        tables = ", ".join(
            connection.ops.quote_name(m._meta.db_table)
            for m in (TimelineEvent, Equipment, Usage, TariffFit, Subscriber, Plan)
        )
        with connection.cursor() as cursor:
            # Rows inserted earlier in the same transaction (fits, say) leave foreign-key checks
            # pending, and TRUNCATE refuses to run while they are: run them now.
            if not connection.get_autocommit():
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # CASCADE also empties the desk's cases and offers that point at these rows.
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return
    with transaction.atomic():
        OutboundEvent.objects.all().delete()  # they protect their subscribers
        TimelineEvent.objects.all().delete()
        Equipment.objects.all().delete()
        TariffFit.objects.all().delete()
        Usage.objects.all().delete()
        Subscriber.objects.all().delete()
        Plan.objects.all().delete()


def load_demo(
    options: SeedOptions,
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> LoadReport:
    """Generate and load the demo data into an empty subscriber table."""
    if not database_is_empty():
        raise ValueError("subscribers already exist; reset first")
    generator = DemoGenerator(options)
    report = LoadReport(options)
    started = time.perf_counter()
    with transaction.atomic():
        plan_ids = _upsert_plans(generator.plan_rows())
        report.plans = len(plan_ids)
        bar = tqdm(
            total=options.subscribers,
            unit=" subscribers",
            disable=not progress,
            mininterval=1 if sys.stderr.isatty() else 30,
            smoothing=0.1,
        )
        with bar:
            if connection.vendor == "postgresql":
                load_postgres(generator, plan_ids, report, bar=bar, log=log, started=started)
            else:
                _load_orm(generator.bundles(plan_ids), generator, report, bar)
                report.seconds["generate and insert"] = time.perf_counter() - started
    return report


def _upsert_plans(rows: tuple[PlanRow, ...]) -> dict[str, int]:
    ids = {}
    for row in rows:
        plan, _ = Plan.objects.update_or_create(
            code=row.code,
            defaults={
                "name": row.name,
                "kind": row.kind,
                "download_mbps": row.download_mbps,
                "upload_mbps": row.upload_mbps,
                "list_price": Decimal(row.list_cents) / 100,
                "new_customer_price": Decimal(row.new_cents) / 100,
                "is_sold": row.is_sold,
                "description_en": PLAN_DESCRIPTIONS[row.code][0],
                "description_lv": PLAN_DESCRIPTIONS[row.code][1],
                "description_ru": PLAN_DESCRIPTIONS[row.code][2],
                "includes_tv": row.gear.endswith("+tv"),
                "sold_to_residential": "r" in row.segments,
                "sold_to_small_business": "s" in row.segments,
                "sold_to_corporate": "c" in row.segments,
                **_pricing(row.code),
            },
        )
        ids[row.code] = plan.pk
    return ids


def _pricing(code: str) -> dict[str, object]:
    """The plan's pricing rule, every field named: a plan that changed kind loses the old one."""
    fields = dict.fromkeys(
        (
            "included_hours",
            "extra_hour_price",
            "included_gb",
            "extra_gb_price",
            "included_seats",
            "extra_seat_price",
            "extras_cap",
        )
    )
    for name, value in PLAN_PRICING.get(code, {}).items():
        fields[name] = Decimal(value) if isinstance(value, str) else value
    return fields


# --- ORM writer (SQLite and anything without COPY) --------------------------------------------

_ORM_CHUNK = 2000


def _cents(value: int) -> Decimal:
    return Decimal(value) / 100


def _load_orm(
    bundles: Iterator[Bundle], generator: DemoGenerator, report: LoadReport, bar: tqdm[Any]
) -> None:
    subscribers: list[Subscriber] = []
    equipment: list[Equipment] = []
    events: list[TimelineEvent] = []
    usage: list[Usage] = []
    periods = [first for first, _, _ in generator.usage_window]
    received = timezone.now()

    def flush() -> None:
        Subscriber.objects.bulk_create(subscribers, batch_size=500)
        Equipment.objects.bulk_create(equipment, batch_size=500)
        TimelineEvent.objects.bulk_create(events, batch_size=500)
        Usage.objects.bulk_create(usage, batch_size=500)
        report.subscribers += len(subscribers)
        report.equipment += len(equipment)
        report.events += len(events)
        report.usage += len(usage)
        bar.update(len(subscribers))
        subscribers.clear()
        equipment.clear()
        events.clear()
        usage.clear()

    for bundle in bundles:
        subscribers.append(_subscriber(bundle.subscriber))
        equipment.extend(Equipment(**e._asdict()) for e in bundle.equipment)
        events.extend(_events(bundle))
        usage.extend(_usage(bundle, periods, received))
        if len(subscribers) >= _ORM_CHUNK or len(events) >= 20 * _ORM_CHUNK:
            flush()
    flush()


def _subscriber(s: SubscriberRow) -> Subscriber:
    return Subscriber(
        id=s.id,
        account_number=s.account_number,
        name=s.name,
        phone=s.phone,
        email=s.email,
        language=s.language,
        time_zone=s.time_zone,
        region=s.region,
        segment=s.segment,
        status=s.status,
        signup_date=s.signup_date,
        plan_id=s.plan_id,
        monthly_price=_cents(s.monthly_cents),
        promo_ends_on=s.promo_ends_on,
        balance=_cents(s.balance_cents),
        arrears=_cents(s.arrears_cents),
        payment_method=s.payment_method,
        do_not_call=s.do_not_call,
        do_not_email=s.do_not_email,
        do_not_sms=s.do_not_sms,
        churn_risk=s.churn_risk,
        churn_risk_reasons=json.loads(s.churn_risk_reasons),
    )


def _usage(bundle: Bundle, periods: list[date], received: datetime) -> Iterator[Usage]:
    for uid, sid, month, down, up, tenths, devices, people in bundle.usage:
        yield Usage(
            id=uid,
            subscriber_id=sid,
            period=periods[month],
            gb_down=_cents(down),
            gb_up=_cents(up),
            hours_online=Decimal(tenths) / 10,
            peak_devices=devices,
            people=people,
            received_at=received,
        )


def _events(bundle: Bundle) -> Iterator[TimelineEvent]:
    for eid, sid, kind, at, source, ext, summary, data in bundle.events:
        moment = datetime.fromtimestamp(at, UTC)
        yield TimelineEvent(
            id=eid,
            subscriber_id=sid,
            kind=kind,
            occurred_at=moment,
            source=source,
            external_id=ext,
            summary=summary,
            data=json.loads(data),
            recorded_at=moment,
        )
