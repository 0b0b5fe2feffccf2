"""A subscriber's usage month by month, as network systems report it, and the tariff fit the
desk computes from it (subscribers.fit). Models of the subscribers app, registered by
subscribers.models, which imports them."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A month has at most 31 x 24 hours online.
HOURS_IN_A_MONTH = 744


class Usage(models.Model):
    """One subscriber's usage in one month: idempotent by (subscriber, period); a later report
    for the same month replaces the earlier one."""

    id = models.BigAutoField(primary_key=True)
    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        on_delete=models.CASCADE,
        related_name="usage",
        verbose_name=_("subscriber"),
    )
    # The first day of the month.
    period = models.DateField(_("month"))
    gb_down = models.DecimalField(_("GB down"), max_digits=9, decimal_places=2)
    gb_up = models.DecimalField(_("GB up"), max_digits=9, decimal_places=2)
    hours_online = models.DecimalField(_("hours online"), max_digits=4, decimal_places=1)
    peak_devices = models.PositiveSmallIntegerField(_("peak devices at once"))
    # People sharing the line: 1 for a household; for a business account, its users.
    people = models.PositiveSmallIntegerField(_("people sharing the line"), default=1)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("usage month")
        verbose_name_plural = _("usage months")
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "period"], name="usage_one_per_month"),
            models.CheckConstraint(
                condition=models.Q(period__day=1), name="usage_period_first_of_month"
            ),
            models.CheckConstraint(
                condition=models.Q(gb_down__gte=0, gb_up__gte=0, hours_online__gte=0)
                & models.Q(hours_online__lte=HOURS_IN_A_MONTH),
                name="usage_figures_in_range",
            ),
            models.CheckConstraint(condition=models.Q(people__gte=1), name="usage_people_gte_1"),
        ]
        # The nightly fit reads a window of months for a range of subscribers: the unique
        # index (subscriber, period) serves it; the admin lists a month across subscribers.
        indexes = [models.Index(fields=["period"], name="usage_period")]

    def __str__(self) -> str:
        return f"{self.subscriber_id} {self.period:%Y-%m}"


class TariffFit(models.Model):
    """The plan that fits how a subscriber uses the service, as computed on ``computed_on``
    from ``months`` months of usage: what they paid a month on average (at their own price),
    the cheapest plan on sale to them that holds their usage, what it would have cost, and the
    verdict. The reason is rendered from the verdict and the figures in the reader's language,
    never stored as a sentence."""

    class Verdict(models.TextChoices):
        FITS = "fits", _("Fits how they use it")
        LIGHT = "light", _("Light user paying for a flat rate")
        HEAVY = "heavy", _("Heavy user paying per hour or GB")
        SHARED = "shared", _("Shared account on a one-household plan")
        SPEED = "speed", _("Speed they do not use")
        CHEAPER = "cheaper", _("The same service costs less")

    subscriber = models.OneToOneField(
        "subscribers.Subscriber",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="tariff_fit",
        verbose_name=_("subscriber"),
    )
    computed_on = models.DateField(_("computed on"))
    months = models.PositiveSmallIntegerField(_("months of usage"))
    current_cost = models.DecimalField(
        _("pays a month on their plan"), max_digits=9, decimal_places=2
    )
    best_plan = models.ForeignKey(
        "subscribers.Plan",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("plan that fits"),
    )
    best_cost = models.DecimalField(_("would pay a month on it"), max_digits=9, decimal_places=2)
    # current_cost - best_cost: what moving saves them a month (negative when the plan that
    # fits costs more, as for a shared account that outgrew a household plan).
    saving = models.DecimalField(_("saving a month"), max_digits=9, decimal_places=2)
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices)

    class Meta:
        verbose_name = _("tariff fit")
        verbose_name_plural = _("tariff fits")
        indexes = [
            # The dashboard counts and sums by verdict and lists a verdict's subscribers by
            # saving, then id (keyset: a deep page costs what the first does, ties included);
            # outreach picks savings above a figure.
            models.Index(fields=["verdict", "saving", "subscriber"], name="fit_verdict_saving"),
            models.Index(fields=["saving"], name="fit_saving"),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id}: {self.verdict}"

    @property
    def is_misfit(self) -> bool:
        return self.verdict != self.Verdict.FITS
