"""Churn risk: training a version of the model from the desk's own outcomes, and scoring
subscribers with the active one.

**Training** (``risk_train``) replays the signals (retention.risk.signals) as of the first day
of each of the last ``SNAPSHOT_MONTHS`` months whose 60 days of outcome are over (and that the
desk's history covers: none before its first case), for a sample of subscribers (whole blocks
of ids, a different block each month), labelled by whether they asked to cancel in the 60 days
after. It validates by time: the newest ``TEST_SNAPSHOTS`` months are held out and measured,
the month before them calibrates the probabilities, the older ones train. With too little
history (fewer than ``MIN_SNAPSHOTS`` months or too few cancellation requests in them) the
version is rule-based (retention.risk.rules) and says so; either way it is measured on the
held-out months beside the rules. Each training is a new version; it becomes the active one.

**Scoring** (``risk_score``) reads every active subscriber's signals as of now, in chunks of
``CHUNK``, and writes the score (0 to 100: the calibrated chance, in percent, of asking to
cancel within 60 days; for the rules, their points), its reasons, the version and the day on
the subscriber. Scoring twice writes the same. ``risk_nightly`` scores everyone and then
reprioritises the open cases, whose priority reads the score.
"""

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from retention.cases.sweeps import cases_reprioritise
from retention.models import CancellationCase, RiskModel, User
from retention.risk.model import auc, calibration, model_fit, model_predict, precision_top
from retention.risk.reasons import reasons_of
from retention.risk.rules import rules_score, rules_weights
from retention.risk.signals import FEATURES, LABEL_DAYS, Signals, id_range, signals_read
from subscribers.models import Subscriber
from subscribers.phrases import phrase

log = logging.getLogger(__name__)

SNAPSHOT_MONTHS = 12
TEST_SNAPSHOTS = 2
MIN_SNAPSHOTS = TEST_SNAPSHOTS + 2  # and one to calibrate, one to train
MIN_TRAIN_POSITIVES = 200
MIN_TEST_POSITIVES = 30
# Rows a training month reads, about: enough for twenty weights, few enough to train in a
# minute at a million subscribers.
SAMPLE_ROWS = 60_000
CHUNK = 20_000
_LOCK = "retention.risk"


def _midnight(day: date) -> datetime:
    zone = timezone.get_default_timezone()
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def snapshot_days(today: date) -> list[date]:
    """The first days of the months whose 60 days of outcome are over, newest first; none
    before the desk's first case (before it, nobody asking is not a fact the desk recorded)."""
    opened = CancellationCase.objects.order_by("opened_at").values_list("opened_at", flat=True)
    first_case = opened.first()
    if first_case is None:
        return []
    since = timezone.localdate(first_case)
    first = today.replace(day=1)
    days = []
    for back in range(SNAPSHOT_MONTHS + 3):
        months = first.year * 12 + first.month - 1 - back
        day = date(months // 12, months % 12 + 1, 1)
        if day + timedelta(days=LABEL_DAYS) <= today and day >= since:
            days.append(day)
    return days[:SNAPSHOT_MONTHS]


def _joined(parts: list[Signals]) -> Signals:
    labels = [part.labels for part in parts if part.labels is not None]
    return Signals(
        np.concatenate([part.ids for part in parts]) if parts else np.zeros(0, np.int64),
        np.vstack([part.values for part in parts]) if parts else np.zeros((0, len(FEATURES))),
        np.concatenate([part.promo_days for part in parts]) if parts else np.zeros(0),
        np.concatenate(labels) if labels else np.zeros(0, bool),
    )


def snapshot_read(day: date, place: int) -> Signals:
    """The replayed signals and labels of a sample on ``day``: every ``n``-th block of ids,
    starting from the ``place``-th, so that each month reads other subscribers."""
    ids = id_range()
    if ids is None:
        return _joined([])
    low, high = ids
    blocks = list(range(low, high, CHUNK))
    every = max(1, len(blocks) // max(1, math.ceil(SAMPLE_ROWS / CHUNK)))
    chosen = blocks[place % every :: every]
    at = _midnight(day)
    return _joined(
        [signals_read(day=day, at=at, lo=lo, hi=lo + CHUNK, training=True) for lo in chosen]
    )


@dataclass
class Measured:
    auc: float | None
    precision_top10: float | None
    calibration: list[dict[str, float]]


def _measure(scores: np.ndarray, labels: np.ndarray) -> Measured:
    if not len(scores):
        return Measured(None, None, [])
    return Measured(auc(scores, labels), precision_top(scores, labels), calibration(scores, labels))


def _lock(cursor: Any, name: str) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def risk_train(*, today: date, actor: User | None = None) -> RiskModel:
    """Train a new version from the desk's history up to ``today`` and make it the active one."""
    started = time.perf_counter()
    snapshots = [(day, snapshot_read(day, n)) for n, day in enumerate(snapshot_days(today))]
    snapshots = [(day, signals) for day, signals in snapshots if len(signals)]
    test, calib, train = (
        snapshots[:TEST_SNAPSHOTS],
        snapshots[TEST_SNAPSHOTS : TEST_SNAPSHOTS + 1],
        snapshots[TEST_SNAPSHOTS + 1 :],
    )
    tested = _joined([signals for _, signals in test])
    calibrated = _joined([signals for _, signals in calib])
    trained = _joined([signals for _, signals in train])
    assert tested.labels is not None and trained.labels is not None
    assert calibrated.labels is not None
    positives = int(trained.labels.sum())
    learn = (
        len(snapshots) >= MIN_SNAPSHOTS
        and positives >= MIN_TRAIN_POSITIVES
        and int(tested.labels.sum()) >= MIN_TEST_POSITIVES
        and calibrated.labels.any()
    )
    rules_scores = rules_score(tested.values)[0] / 100
    note: dict[str, Any] = {}
    if learn:
        weights = model_fit(
            values=trained.values,
            labels=trained.labels,
            calib_values=calibrated.values,
            calib_labels=calibrated.labels,
        )
        measured = _measure(model_predict(weights, tested.values)[0], tested.labels)
    else:
        weights = rules_weights()
        measured = _measure(rules_scores, tested.labels)
        all_positives = sum(int(s.labels.sum()) for _, s in snapshots if s.labels is not None)
        note = phrase(
            "risk.model.too_little_history",
            positives=all_positives,
            months=len(snapshots),
            needed=MIN_TRAIN_POSITIVES + MIN_TEST_POSITIVES,
        )
    rules = _measure(rules_scores, tested.labels)
    learned_days = [day for day, _ in train + calib] if learn else [day for day, _ in snapshots]
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, _LOCK + ".versions")
        version = (RiskModel.objects.aggregate(top=Max("version"))["top"] or 0) + 1
        RiskModel.objects.filter(is_active=True).update(is_active=False)
        model = RiskModel.objects.create(
            version=version,
            kind=RiskModel.Kind.LEARNED if learn else RiskModel.Kind.RULES,
            is_active=True,
            trained_by=actor,
            seconds=round(time.perf_counter() - started, 2),
            train_from=min(learned_days, default=None),
            train_to=max(learned_days, default=None),
            test_from=min((day for day, _ in test), default=None),
            test_to=max((day for day, _ in test), default=None),
            rows_train=len(trained) + len(calibrated),
            positives_train=positives + int(calibrated.labels.sum()),
            rows_test=len(tested),
            positives_test=int(tested.labels.sum()),
            auc=measured.auc,
            precision_top10=measured.precision_top10,
            rules_auc=rules.auc,
            rules_precision_top10=rules.precision_top10,
            calibration=measured.calibration,
            weights=weights,
            note=note,
        )
    log.info("churn model v%s (%s) trained in %.1f s", model.version, model.kind, model.seconds)
    return model


def risk_model_active() -> RiskModel:
    """The version that scores now; with none trained yet, a rule-based one, made now."""
    model = RiskModel.objects.filter(is_active=True).first()
    if model is not None:
        return model
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, _LOCK + ".versions")
        model = RiskModel.objects.filter(is_active=True).first()
        if model is None:
            version = (RiskModel.objects.aggregate(top=Max("version"))["top"] or 0) + 1
            model = RiskModel.objects.create(
                version=version,
                kind=RiskModel.Kind.RULES,
                is_active=True,
                weights=rules_weights(),
                note=phrase(
                    "risk.model.too_little_history",
                    positives=0,
                    months=0,
                    needed=MIN_TRAIN_POSITIVES + MIN_TEST_POSITIVES,
                ),
            )
    return model


def scores_of(model: RiskModel, signals: Signals) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """Scores from 0 to 100 and their reasons, by ``model``."""
    learned = model.kind == RiskModel.Kind.LEARNED
    if learned:
        chance, parts = model_predict(model.weights, signals.values)
        scores = chance * 100
    else:
        scores, parts = rules_score(signals.values)
    return np.clip(np.rint(scores), 0, 100).astype(int), reasons_of(signals, parts, learned=learned)


def _write(model: RiskModel, day: date, signals: Signals) -> int:
    scores, reasons = scores_of(model, signals)
    with connection.cursor() as cursor:
        _lock(cursor, _LOCK + ".scores")
        fixed: list[Any] = [model.version, model.kind, day]
        if connection.vendor == "postgresql":
            # (Dropped first: inside an outer transaction the last chunk's table is still there.)
            cursor.execute("DROP TABLE IF EXISTS risk_scores")
            cursor.execute(
                "CREATE TEMPORARY TABLE risk_scores (id bigint, risk smallint, reasons jsonb) "
                "ON COMMIT DROP"
            )
            with cursor.copy("COPY risk_scores (id, risk, reasons) FROM STDIN") as copy:
                for row in zip(signals.ids.tolist(), scores.tolist(), reasons, strict=True):
                    copy.write_row((row[0], row[1], json.dumps(row[2])))
            cursor.execute(
                "UPDATE subscribers_subscriber s SET churn_risk = t.risk, "
                "churn_risk_reasons = t.reasons, churn_risk_version = %s, churn_risk_kind = %s, "
                "churn_risk_scored_on = %s FROM risk_scores t WHERE s.id = t.id",
                fixed,
            )
        else:
            cursor.executemany(
                "UPDATE subscribers_subscriber SET churn_risk = %s, churn_risk_reasons = %s, "
                "churn_risk_version = %s, churn_risk_kind = %s, churn_risk_scored_on = %s "
                "WHERE id = %s",
                [
                    (score, json.dumps(said), *fixed, pk)
                    for pk, score, said in zip(
                        signals.ids.tolist(), scores.tolist(), reasons, strict=True
                    )
                ],
            )
    return len(signals)


def risk_score(
    *, today: date, now: datetime | None = None, subscriber_ids: Sequence[int] | None = None
) -> int:
    """Score every active subscriber (or those of ``subscriber_ids`` who are active) with the
    active version; returns how many were scored. Each chunk is one transaction."""
    now = now or timezone.now()
    model = risk_model_active()
    ids = id_range()
    if ids is None:
        return 0
    wanted = None if subscriber_ids is None else np.unique(np.array(subscriber_ids, np.int64))
    scored = 0
    for lo, hi in _ranges(ids, wanted):
        with transaction.atomic():
            signals = signals_read(day=today, at=now, lo=lo, hi=hi)
            if wanted is not None:
                keep = np.isin(signals.ids, wanted)
                signals = Signals(signals.ids[keep], signals.values[keep], signals.promo_days[keep])
            scored += _write(model, today, signals)
    return scored


def _ranges(ids: tuple[int, int], wanted: np.ndarray | None) -> list[tuple[int, int]]:
    """Ranges of at most CHUNK ids: all of them, or spanning the wanted ones (new subscribers
    of an import have neighbouring ids, so a few ranges hold them)."""
    if wanted is None:
        return [(lo, lo + CHUNK) for lo in range(ids[0], ids[1], CHUNK)]
    ranges: list[tuple[int, int]] = []
    for pk in wanted.tolist():
        if ranges and pk < ranges[-1][0] + CHUNK:
            ranges[-1] = (ranges[-1][0], pk + 1)
        else:
            ranges.append((pk, pk + 1))
    return ranges


def risk_score_arrivals(*, today: date, batch: int = 10_000) -> int:
    """Score the active subscribers nobody has scored yet (new from an import or the API), a
    batch at a time in id order; returns how many were scored."""
    scored, last = 0, 0
    while True:
        ids = list(
            Subscriber.objects.filter(
                churn_risk_scored_on__isnull=True,
                status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED],
                pk__gt=last,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return scored
        scored += risk_score(today=today, subscriber_ids=ids)
        last = ids[-1]


def risk_nightly(*, today: date, now: datetime | None = None) -> int:
    """Every active subscriber's score, then the open cases' priorities that read it."""
    scored = risk_score(today=today, now=now)
    cases_reprioritise(today=today)
    return scored
