"""Tariff fit on the dashboard: how many subscribers are on a plan that does not fit how they
use it, what they overpay, and what moving them all would change the provider's revenue by.

The nightly tariff task computes every subscriber's fit (subscribers.fit) and then calls
``fit_snapshot_take``: one GROUP BY over the fits, a row per verdict in TariffFitSnapshot. The
dashboard reads the latest day's rows (one query, whatever the number of subscribers); a click on
a verdict lists its subscribers from the fits themselves, a keyset page at a time.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from retention.models import TariffFitSnapshot
from subscribers.keyset import cursor_decode, cursor_encode
from subscribers.models import TariffFit
from subscribers.phrases import money

Verdict = TariffFit.Verdict
# The verdicts that say the plan does not fit, in the order the dashboard shows them.
MISFITS = (Verdict.LIGHT, Verdict.HEAVY, Verdict.SHARED, Verdict.SPEED, Verdict.CHEAPER)
PAGE_SIZE = 50
# What each verdict means, said to a manager above its list.
VERDICT_HELP = {
    Verdict.LIGHT: _(
        "They use the service little and pay a flat rate: a plan metered by the hour or by "
        "the GB would cost them less."
    ),
    Verdict.HEAVY: _(
        "They use the service a lot and pay per hour or per GB: a flat rate would cost them less."
    ),
    Verdict.SHARED: _(
        "More people share the line than their one-household plan is made for: the plan made "
        "for sharing may cost them more, and then the provider earns more."
    ),
    Verdict.SPEED: _(
        "They pay for more speed than they use: a slower plan of the same kind would cost "
        "them less."
    ),
    Verdict.CHEAPER: _("Another plan on sale to them gives the same service for less."),
}

# Where a page starts: after the fit with that saving (in cents) and subscriber id.
Key = tuple[int, int]


def fit_snapshot_take(*, today: date) -> int:
    """Count today's fits by verdict (one aggregate query) and replace today's snapshot with a
    row for every verdict, zero where none: running it twice a day writes the same rows.
    Returns the subscribers counted."""
    positive = Q(saving__gt=0)
    counted: dict[str, tuple[int, Decimal, Decimal, Decimal]] = {
        row["verdict"]: (row["n"], row["current"], row["best"], row["over"])
        for row in TariffFit.objects.values("verdict")
        .annotate(
            n=Count("pk"),
            current=Sum("current_cost", default=Decimal(0)),
            best=Sum("best_cost", default=Decimal(0)),
            over=Sum("saving", filter=positive, default=Decimal(0)),
        )
        .order_by()
    }
    none = (0, Decimal(0), Decimal(0), Decimal(0))
    rows = []
    for verdict in Verdict:
        n, current, best, over = counted.get(verdict.value, none)
        rows.append(
            TariffFitSnapshot(
                day=today,
                verdict=verdict.value,
                subscribers=n,
                current_total=current,
                best_total=best,
                overpayment=over,
            )
        )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two runs at once would both delete the day and then clash on its unique rows.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('retention.fit_snapshot'))")
        TariffFitSnapshot.objects.filter(day=today).delete()
        TariffFitSnapshot.objects.bulk_create(rows)
    return sum(r.subscribers for r in rows)


# --- What the dashboard shows -------------------------------------------------------------


def signed_money(value: Decimal) -> str:
    """A change of revenue in the active language, a rise with its plus sign."""
    text = money(value)
    return f"+{text}" if value > 0 else text


@dataclass(frozen=True)
class VerdictRow:
    verdict: str
    label: str
    subscribers: int
    current_total: Decimal
    best_total: Decimal
    overpayment: Decimal

    @property
    def revenue_change(self) -> Decimal:
        return self.best_total - self.current_total


@dataclass(frozen=True)
class TariffFitFigures:
    """The latest snapshot: ``day`` None before the first night's count."""

    day: date | None
    fitting: int
    rows: list[VerdictRow]  # the misfits, in MISFITS order

    @property
    def with_fit(self) -> int:
        return self.fitting + self.misfits

    @property
    def misfits(self) -> int:
        return sum(r.subscribers for r in self.rows)

    @property
    def share(self) -> float | None:
        return self.misfits / self.with_fit if self.with_fit else None

    @property
    def overpayment(self) -> Decimal:
        """What the misfits pay a month above the plan that fits (the savings above zero)."""
        return sum((r.overpayment for r in self.rows), Decimal(0))

    @property
    def shared(self) -> VerdictRow:
        return next(r for r in self.rows if r.verdict == Verdict.SHARED)

    @property
    def moves(self) -> list[VerdictRow]:
        """The misfits whose own plan holds them: a move only ever saves them money."""
        return [r for r in self.rows if r.verdict != Verdict.SHARED]

    @property
    def moves_count(self) -> int:
        return sum(r.subscribers for r in self.moves)

    @property
    def moves_change(self) -> Decimal:
        """What moving those would change the provider's monthly revenue by: negative."""
        return sum((r.revenue_change for r in self.moves), Decimal(0))

    @property
    def moves_change_said(self) -> str:
        return signed_money(self.moves_change)

    @property
    def shared_change_said(self) -> str:
        return signed_money(self.shared.revenue_change)

    @property
    def moves_loss(self) -> Decimal:
        """The same, said as what the provider would take less a month."""
        return -self.moves_change

    @property
    def revenue_change(self) -> Decimal:
        """Moving every misfit, shared accounts included."""
        return sum((r.revenue_change for r in self.rows), Decimal(0))


def tariff_fit_figures() -> TariffFitFigures:
    """The latest night's count, by verdict: one query."""
    latest = TariffFitSnapshot.objects.order_by("-day").values("day")[:1]
    snapshot = {s.verdict: s for s in TariffFitSnapshot.objects.filter(day=latest)}
    day = next(iter(snapshot.values())).day if snapshot else None
    fits = snapshot.get(Verdict.FITS)
    rows = []
    for verdict in MISFITS:
        s = snapshot.get(verdict)
        rows.append(
            VerdictRow(
                verdict=verdict.value,
                label=str(verdict.label),
                subscribers=s.subscribers if s else 0,
                current_total=s.current_total if s else Decimal(0),
                best_total=s.best_total if s else Decimal(0),
                overpayment=s.overpayment if s else Decimal(0),
            )
        )
    return TariffFitFigures(day=day, fitting=fits.subscribers if fits else 0, rows=rows)


# --- The subscribers behind a verdict -----------------------------------------------------


def misfit_verdict(code: str) -> Verdict:
    """The verdict a list is asked for; "fits" and anything else is a 404."""
    if code not in MISFITS:
        raise Http404("no such verdict")
    return Verdict(code)


def fit_page(verdict: Verdict, after: Key | None) -> tuple[list[TariffFit], Key | None]:
    """A page of the verdict's subscribers, who would save most first (the index on verdict and
    saving serves the order), and the key of the next page: one query on any page."""
    qs = (
        TariffFit.objects.filter(verdict=verdict)
        .select_related("subscriber__plan", "best_plan")
        .order_by("-saving", "-subscriber_id")
    )
    if after is not None:
        cents, subscriber_id = after
        saving = Decimal(cents) / 100
        # The bound on saving alone lets the index start the page where it starts: the OR
        # after it only drops the ties already shown.
        qs = qs.filter(saving__lte=saving).filter(
            Q(saving__lt=saving) | Q(saving=saving, subscriber_id__lt=subscriber_id)
        )
    page = list(qs[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    if not more:
        return page, None
    last = page[-1]
    return page, (int(last.saving * 100), last.subscriber_id)


def fit_cursor(key: Key) -> str:
    return cursor_encode(*key)


def fit_after(token: str) -> Key:
    """The key a cursor of ``fit_cursor`` holds; a forged one is a 404."""
    cents, subscriber_id = cursor_decode(token, int, int)
    return cents, subscriber_id
