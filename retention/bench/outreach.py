"""Outreach at scale: a campaign's fan-out over every active subscriber, sending its messages
as the workers do (retention.bench.sending), and (retention.bench.reminders) the reminder tick.
Everything they create is removed again, so every run starts the same."""

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from django.db import connection, transaction
from django.utils import timezone

from offers.models import OfferKind, OfferTemplate
from retention.bench.reminders import REMINDER_KEY, measure_reminder_tick
from retention.bench.results import Log, Results
from retention.bench.sending import measure_sending
from retention.bench.tables import analyze, vacuum
from retention.bench.users import bench_manager
from retention.models import Notification, OutreachCampaign, OutreachMessage, Reminder
from retention.outreach.audience import FAN_OUT_CHUNK, campaign_fan_out, campaign_matching
from retention.outreach.services import campaign_create
from subscribers.models import ContactChannel, Subscriber, TimelineEvent

BENCH_CAMPAIGN = "bench-outreach"
BENCH_BODY = "{name}: {offer}, {price} → {new_price}. {link}"


def measure_outreach(results: Results, *, requests: int, log: Log) -> None:
    outreach_cleanup()  # an interrupted run's left-overs
    last_event = TimelineEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        campaign, moment = _bench_campaign()
        _measure_fan_out(results, campaign, moment, log=log)
        measure_sending(results, campaign, moment, log=log)
    finally:
        outreach_cleanup(events_after=last_event)
    try:
        measure_reminder_tick(results, log=log)
    finally:
        outreach_cleanup(events_after=last_event)


def outreach_moment(today: date) -> datetime:
    """A Tuesday at 10:00 UTC at least a week ahead: inside the allowed hours of every time
    zone the seed uses (12:00 in Riga), and with no seeded contact in the cap's window, so the
    messages go out and the figure measures sending rather than deferring."""
    day = today + timedelta(days=7)
    day += timedelta(days=(1 - day.weekday()) % 7)
    return datetime.combine(day, clock_time(10), tzinfo=UTC)


def outreach_cleanup(*, events_after: int | None = None) -> None:
    """Remove what the outreach and reminder figures create, so every run starts the same:
    the bench's campaigns and their messages, the outbound contacts their sends recorded, the
    bench's reminders and their notifications. ``events_after`` is the last timeline id before
    this run's sends (a range on the primary key); without it, left-overs of an interrupted
    run are found by the campaign in the event's data, one scan of the timeline."""
    campaigns = list(
        OutreachCampaign.objects.filter(name__startswith=BENCH_CAMPAIGN).values_list(
            "pk", flat=True
        )
    )
    with transaction.atomic():
        if events_after is not None:
            TimelineEvent.objects.filter(pk__gt=events_after, source="outreach").delete()
        elif campaigns:
            TimelineEvent.objects.filter(source="outreach", data__campaign__in=campaigns).delete()
        OutreachMessage.objects.filter(campaign__in=campaigns).delete()
        OutreachCampaign.objects.filter(pk__in=campaigns).delete()
        Notification.objects.filter(reminder__key__startswith=REMINDER_KEY).delete()
        # A plain DELETE: the ORM would load 100,000 reminders to null the notifications'
        # references first, and those notifications are gone already.
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {Reminder._meta.db_table} WHERE key LIKE %s", [f"{REMINDER_KEY}%"]
            )
    vacuum([OutreachMessage, Reminder, Notification])


def _bench_campaign() -> tuple[OutreachCampaign, datetime]:
    """A campaign with loose criteria over every active subscriber, running at the moment it
    is measured at."""
    template = (
        OfferTemplate.objects.filter(is_active=True, kind=OfferKind.FIXED_DISCOUNT)
        .order_by("position", "code")
        .first()
        or OfferTemplate.objects.filter(is_active=True).order_by("position", "code").first()
    )
    if template is None:
        raise RuntimeError("the offer catalogue has no active offer for the campaign")
    moment = outreach_moment(timezone.localdate())
    campaign = campaign_create(
        actor=bench_manager(),
        values={
            "name": f"{BENCH_CAMPAIGN} {moment:%Y-%m-%d}",
            "template": template,
            "channel": ContactChannel.SMS,
            "not_contacted_days": 0,
            "body_lv": BENCH_BODY,
            "body_ru": BENCH_BODY,
            "body_en": BENCH_BODY,
        },
    )
    # Running without campaign_launch: its after-commit task would hand the campaign to any
    # worker listening on the broker, and the figures are of the calls below.
    OutreachCampaign.objects.filter(pk=campaign.pk).update(
        state=OutreachCampaign.State.RUNNING, launched_at=moment
    )
    return campaign, moment


def _measure_fan_out(
    results: Results, campaign: OutreachCampaign, moment: datetime, *, log: Log
) -> int:
    """The time to create the campaign's message rows (set-based, FAN_OUT_CHUNK subscriber ids
    at a time); how many there are."""
    matching = campaign_matching(campaign, now=moment).count()
    active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).count()
    log(f"Fanning out a campaign over {active:,} active subscribers ({matching:,} match)…")
    start = time.perf_counter()
    rows = campaign_fan_out(campaign=campaign, now=moment)
    seconds = time.perf_counter() - start
    if rows != matching:
        raise RuntimeError(f"the fan-out created {rows:,} messages for {matching:,} matches")
    top = Subscriber.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    log(f"  {rows:,} messages in {seconds:.1f} s ({rows / seconds:,.0f} rows/s).")
    results.outreach["fan_out"] = {
        "active_subscribers": active,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "chunks": -(-top // FAN_OUT_CHUNK),
        "chunk_ids": FAN_OUT_CHUNK,
    }
    analyze(OutreachMessage)
    return rows
