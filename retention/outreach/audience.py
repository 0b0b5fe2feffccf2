"""Who a campaign is for: the subscribers who match its criteria, and the set-based fan-out that
gives each of them one outbox row.

Launching does not create the messages: the worker does, with ``INSERT … SELECT … ON CONFLICT
DO NOTHING`` in chunks of subscriber ids, before anything is sent. A unique constraint keeps it
to one message per campaign and subscriber, so a fan-out can be repeated (a standing campaign's
nightly top-up, a worker that died half-way) without doubling anyone's message.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from offers.pricing import add_months
from retention.models import CancellationCase, OutreachCampaign, OutreachMessage
from subscribers.models import Subscriber, TimelineEvent

FAN_OUT_CHUNK = 50_000


def campaign_matching(
    campaign: OutreachCampaign, *, now: datetime | None = None
) -> QuerySet[Subscriber]:
    """Active subscribers who fit the criteria, have no open case and were not contacted in
    the campaign's quiet period. One query, whatever the size."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    subscribers = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
    if campaign.min_tenure_months:
        months = campaign.min_tenure_months
        subscribers = subscribers.filter(signup_date__lte=add_months(today, -months))
    if campaign.min_penalty_percent:
        factor = Decimal(100 + campaign.min_penalty_percent) / 100
        subscribers = subscribers.filter(monthly_price__gte=F("plan__new_customer_price") * factor)
        subscribers = subscribers.filter(monthly_price__gt=F("plan__new_customer_price"))
    if campaign.promo_ended_days is not None:
        subscribers = subscribers.filter(
            promo_ends_on__lte=today - timedelta(days=campaign.promo_ended_days)
        )
    if campaign.min_risk:
        subscribers = subscribers.filter(churn_risk__gte=campaign.min_risk)
    if campaign.segment:
        subscribers = subscribers.filter(segment=campaign.segment)
    if campaign.region:
        subscribers = subscribers.filter(region=campaign.region)
    if campaign.plan_id:
        subscribers = subscribers.filter(plan_id=campaign.plan_id)
    open_cases = CancellationCase.objects.filter(status__in=CancellationCase.OPEN_STATUSES).values(
        "subscriber_id"
    )
    subscribers = subscribers.exclude(pk__in=open_cases)
    if campaign.not_contacted_days:
        contacted = TimelineEvent.objects.filter(
            kind=TimelineEvent.Kind.CONTACT,
            data__direction="outbound",
            occurred_at__gt=now - timedelta(days=campaign.not_contacted_days),
        ).values("subscriber_id")
        subscribers = subscribers.exclude(pk__in=contacted)
    return subscribers


def campaign_fan_out(*, campaign: OutreachCampaign, now: datetime | None = None) -> int:
    """Create the campaign's message rows for everyone who matches, chunk by chunk of
    subscriber ids; safe to repeat (existing rows are left alone). Returns rows added."""
    now = now or timezone.now()
    matching = campaign_matching(campaign, now=now)
    table = OutreachMessage._meta.db_table
    added = 0
    last = 0
    top = Subscriber.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    while last < top:
        upper = last + FAN_OUT_CHUNK
        chunk = matching.filter(pk__gt=last, pk__lte=upper).annotate(sid=F("pk")).values("sid")
        sql, params = chunk.query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} "
                "(campaign_id, subscriber_id, state, due_at, attempts, skip_reason, error,"
                " response)"
                f" SELECT %s, s.sid, 'pending', %s, 0, '', '', '' FROM ({sql}) AS s"
                # WHERE true: SQLite would read ON CONFLICT as a join condition otherwise.
                " WHERE true ON CONFLICT (campaign_id, subscriber_id) DO NOTHING",
                [campaign.pk, connection.ops.adapt_datetimefield_value(now), *params],
            )
            added += max(cursor.rowcount, 0)
        last = upper
    OutreachCampaign.objects.filter(pk=campaign.pk).update(fanned_out_at=now)
    return added
