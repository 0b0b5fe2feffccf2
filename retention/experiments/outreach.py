"""Assigning a campaign's recipients to a running outreach experiment, chunk by chunk of the
fan-out, with bulk writes only.

A recipient's draw is the case draw with the key ``subscriber:<id>``: the same subscriber falls
in the same arm in every campaign while the experiment runs, and anyone can recompute it from
the seed. The assignment is written once (ignored on conflict); then, set-based, the chunk's
pending messages of an offer arm take the arm's offer in place of the campaign's, and those of
the holdout are skipped with the reason "holdout", so no sender, sweep or retry sends them.

A best tariff notice is left alone: the law asks to tell every subscriber, holdout or not.
"""

from datetime import date, datetime

from django.db import connection
from django.db.models import Q

from offers.pricing import add_months
from retention.experiments.assignment import arm_index, draw_for
from retention.models import (
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    OutreachCampaign,
    OutreachMessage,
)

HOLDOUT_REASON = "holdout"
BULK_BATCH = 5_000

MState = OutreachMessage.State


def subscriber_key(subscriber_id: int) -> str:
    return f"subscriber:{subscriber_id}"


def running_outreach_experiments(
    campaign: OutreachCampaign,
) -> list[tuple[Experiment, list[ExperimentArm]]]:
    """The running outreach experiments with their arms in order, for a campaign that may take
    part (not a notice). Two queries; none for a notice."""
    if campaign.is_notice:
        return []
    experiments = list(
        Experiment.objects.filter(
            status=Experiment.Status.RUNNING, audience=Experiment.Audience.OUTREACH
        ).prefetch_related("arms__template")
    )
    return [(e, list(e.arms.all())) for e in experiments]


def slot_filter(experiment: Experiment, *, today: date, prefix: str = "") -> Q:
    """The experiment's segments and tenure (on ``today``) as a filter on subscribers, or on
    rows naming one through ``prefix`` (e.g. "subscriber__")."""
    q = Q()
    if experiment.segments:
        q &= Q(**{f"{prefix}segment__in": experiment.segments})
    if experiment.min_tenure_months:
        bound = add_months(today, -experiment.min_tenure_months)
        q &= Q(**{f"{prefix}signup_date__lte": bound})
    if experiment.max_tenure_months is not None:
        bound = add_months(today, -(experiment.max_tenure_months + 1))
        q &= Q(**{f"{prefix}signup_date__gt": bound})
    return q


def _assignments_insert(
    experiment: Experiment,
    ids: list[int],
    arms: list[int],
    keys: list[str],
    draws: list[float],
    now: datetime,
) -> None:
    """The chunk's assignments, those written already left alone: on PostgreSQL one INSERT
    from arrays (a chunk of 50,000 in a fraction of a second), elsewhere bulk_create."""
    if connection.vendor != "postgresql":
        ExperimentAssignment.objects.bulk_create(
            [
                ExperimentAssignment(
                    experiment=experiment,
                    arm_id=arm,
                    subscriber_id=sid,
                    key=key,
                    draw=draw,
                    assigned_at=now,
                )
                for sid, arm, key, draw in zip(ids, arms, keys, draws, strict=True)
            ],
            ignore_conflicts=True,
            batch_size=BULK_BATCH,
        )
        return
    table = ExperimentAssignment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (experiment_id, arm_id, subscriber_id, key, draw, assigned_at)"
            " SELECT %s, t.arm, t.sid, t.key, t.draw, %s"
            " FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::float8[])"
            " AS t(sid, arm, key, draw)"
            " ON CONFLICT DO NOTHING",
            [experiment.pk, now, ids, arms, keys, draws],
        )


def outreach_assign_chunk(
    *,
    campaign: OutreachCampaign,
    experiments: list[tuple[Experiment, list[ExperimentArm]]],
    low: int,
    high: int,
    now: datetime,
    today: date,
) -> int:
    """Assign the campaign's pending, not yet assigned messages to subscribers with ids in
    (low, high] who are in a running experiment's slot; returns how many were assigned. Safe to
    repeat: an assigned message is left alone and the draw is the same."""
    assigned = 0
    for experiment, arms in experiments:
        waiting = OutreachMessage.objects.filter(
            campaign=campaign,
            subscriber_id__gt=low,
            subscriber_id__lte=high,
            state=MState.PENDING,
            arm__isnull=True,
        )
        ids = list(
            waiting.filter(slot_filter(experiment, today=today, prefix="subscriber__"))
            .values_list("subscriber_id", flat=True)
            .iterator(chunk_size=BULK_BATCH)
        )
        if not ids:
            continue
        weights = [arm.weight for arm in arms]
        keys = [subscriber_key(sid) for sid in ids]
        draws = [draw_for(seed=experiment.seed, key=key) for key in keys]
        chosen = [arms[arm_index(weights=weights, draw=draw)].pk for draw in draws]
        _assignments_insert(experiment, ids, chosen, keys, draws, now)
        for arm in arms:
            # By the stored rows, not the list: an assignment made earlier is the one that
            # holds (it is the same draw; this keeps it so should the arms ever differ).
            stored = ExperimentAssignment.objects.filter(
                experiment=experiment,
                arm=arm,
                case__isnull=True,
                subscriber_id__gt=low,
                subscriber_id__lte=high,
            ).values("subscriber_id")
            messages = waiting.filter(subscriber_id__in=stored)
            if arm.is_holdout:
                assigned += messages.update(
                    arm=arm, state=MState.SKIPPED, skip_reason=HOLDOUT_REASON
                )
            else:
                assigned += messages.update(arm=arm, template=arm.template_id)
    return assigned
