"""Who a campaign is for: the subscribers who match its criteria, and the set-based fan-out that
gives each of them one outbox row.

Launching does not create the messages: the worker does, with ``INSERT … SELECT … ON CONFLICT
DO NOTHING`` in chunks of subscriber ids, before anything is sent. A unique constraint keeps it
to one message per campaign and subscriber, so a fan-out can be repeated (a standing campaign's
nightly top-up, a worker that died half-way) without doubling anyone's message.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from offers.pricing import add_months
from retention.experiments.outreach import outreach_assign_chunk, running_outreach_experiments
from retention.models import CancellationCase, OutreachCampaign, OutreachMessage
from subscribers.models import Subscriber, TariffFit, TimelineEvent

FAN_OUT_CHUNK = 50_000


def campaign_matching(
    campaign: OutreachCampaign, *, now: datetime | None = None
) -> QuerySet[Subscriber]:
    """Active subscribers who fit the criteria, have no open case and were not contacted in
    the campaign's quiet period. One query, whatever the size."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if campaign.is_notice:
        return notice_matching(year=campaign.year or today.year, today=today)
    subscribers = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
    if campaign.min_saving is not None:
        # A join on the tariff fit (one row per subscriber): those whose plan does not fit
        # them and who would save at least this much a month on the plan that does.
        subscribers = subscribers.filter(
            tariff_fit__saving__gte=campaign.min_saving,
        ).exclude(tariff_fit__verdict=TariffFit.Verdict.FITS)
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


def notice_matching(*, year: int, today: date) -> QuerySet[Subscriber]:
    """Who is due the best tariff notice of ``year`` by ``today`` (in that year): every active
    subscriber with a tariff fit, whether or not another plan would save them anything (the law
    asks to tell everyone), once their signup anniversary of that year has come.

    Why the anniversary and not one day for all: the load (messages, replies, switches and the
    calls they bring) spreads over the year instead of landing on one night, and each hears at
    the same point of their contract year. A subscriber who signed up this year hears on their
    first anniversary. A night the task did not run is caught up by the next one of the same
    year (anniversary on or before today), and a subscriber whose fit arrives later in the year
    hears then. A 29 February signup is due on 1 March in other years."""
    if today.year != year:
        # A past year's notice takes nobody in: who was missed hears in this year's.
        return Subscriber.objects.none()
    cutoff = today
    passed = Q(signup_date__month__lt=cutoff.month) | Q(
        signup_date__month=cutoff.month, signup_date__day__lte=cutoff.day
    )
    return Subscriber.objects.filter(
        passed,
        status=Subscriber.Status.ACTIVE,
        tariff_fit__isnull=False,
        signup_date__year__lt=year,
    )


def campaign_fan_out(*, campaign: OutreachCampaign, now: datetime | None = None) -> int:
    """Create the campaign's message rows for everyone who matches, chunk by chunk of
    subscriber ids; safe to repeat (existing rows are left alone). Returns rows added."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    matching = campaign_matching(campaign, now=now)
    # Recipients in a running outreach experiment's slot get its arm (retention.experiments).
    experiments = running_outreach_experiments(campaign)
    table = OutreachMessage._meta.db_table
    added = 0
    last = 0
    top = Subscriber.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    while last < top:
        upper = last + FAN_OUT_CHUNK
        chunk = matching.filter(pk__gt=last, pk__lte=upper).annotate(sid=F("pk")).values("sid")
        try:
            sql, params = chunk.query.sql_with_params()
        except EmptyResultSet:
            break  # the criteria can match nobody (a past year's notice): no SQL to run
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
            if experiments:
                outreach_assign_chunk(
                    campaign=campaign,
                    experiments=experiments,
                    low=last,
                    high=upper,
                    now=now,
                    today=today,
                )
        last = upper
    OutreachCampaign.objects.filter(pk=campaign.pk).update(fanned_out_at=now)
    return added
