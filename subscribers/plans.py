"""Plans (tariffs) and the rules that price them. A model of the subscribers app, registered by
subscribers.models, which imports it."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def plan_pricing_constraints() -> list[models.CheckConstraint]:
    """Each kind of plan carries its own pricing rule and no other: a metered plan by time has
    included hours and an hourly price, by volume included GB and a GB price, a business plan
    included users and a price per extra one, a flat plan none of them."""
    rules = {
        "flat": (),
        "metered_time": ("included_hours", "extra_hour_price"),
        "metered_volume": ("included_gb", "extra_gb_price"),
        "business": ("included_seats", "extra_seat_price"),
    }
    every = {field for fields in rules.values() for field in fields}
    condition = models.Q()
    for kind, fields in rules.items():
        rule = models.Q(kind=kind)
        for field in sorted(every):
            rule &= models.Q(**{f"{field}__isnull": field not in fields})
        condition |= rule
    prices_not_negative = models.Q()
    for field in ("extra_hour_price", "extra_gb_price", "extra_seat_price", "extras_cap"):
        prices_not_negative &= models.Q(**{f"{field}__isnull": True}) | models.Q(
            **{f"{field}__gte": 0}
        )
    return [
        models.CheckConstraint(condition=condition, name="plan_pricing_by_kind"),
        models.CheckConstraint(condition=prices_not_negative, name="plan_pricing_gte_0"),
        models.CheckConstraint(
            condition=models.Q(sold_to_residential=True)
            | models.Q(sold_to_small_business=True)
            | models.Q(sold_to_corporate=True),
            name="plan_sold_to_a_segment",
        ),
    ]


class Plan(models.Model):
    class Kind(models.TextChoices):
        FLAT = "flat", _("Flat rate")
        METERED_TIME = "metered_time", _("Metered by time")
        METERED_VOLUME = "metered_volume", _("Metered by volume")
        BUSINESS = "business", _("Business / shared")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    download_mbps = models.PositiveIntegerField(_("download speed, Mbit/s"))
    upload_mbps = models.PositiveIntegerField(_("upload speed, Mbit/s"))
    list_price = models.DecimalField(_("monthly list price"), max_digits=8, decimal_places=2)
    new_customer_price = models.DecimalField(
        _("current new-customer price"),
        max_digits=8,
        decimal_places=2,
        help_text=_("What a new customer pays today for this service (the loyalty benchmark)."),
    )
    is_sold = models.BooleanField(_("sold to new customers now"), default=True)
    # A plan with TV is not the same service as one without: the tariff fit never moves a
    # subscriber off TV to save them money.
    includes_tv = models.BooleanField(_("includes TV"), default=False)
    # The name is the product's brand, the same in every language ("Optika 300"); what the
    # plan is for is said in each language, as the offer catalogue's and the cancellation
    # reasons' names are: an admin edits the three side by side, and a missing translation
    # falls back to English rather than to an empty line.
    description_en = models.CharField(_("description (English)"), max_length=200, blank=True)
    description_lv = models.CharField(_("description (Latvian)"), max_length=200, blank=True)
    description_ru = models.CharField(_("description (Russian)"), max_length=200, blank=True)
    # Pricing as the plan is sold: the monthly fee (list price for those on it, new-customer
    # price for those who would move to it), and for metered and business plans what the fee
    # includes and what each extra hour, GB or seat costs. The rules are checked by kind in
    # the database (below) and explained in subscribers.fit, which prices usage with them.
    sold_to_residential = models.BooleanField(_("sold to residential"), default=True)
    sold_to_small_business = models.BooleanField(_("sold to small business"), default=False)
    sold_to_corporate = models.BooleanField(_("sold to corporate"), default=False)
    included_hours = models.PositiveIntegerField(_("hours included"), null=True, blank=True)
    extra_hour_price = models.DecimalField(
        _("price per extra hour"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    included_gb = models.PositiveIntegerField(_("GB included"), null=True, blank=True)
    extra_gb_price = models.DecimalField(
        _("price per extra GB"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    included_seats = models.PositiveIntegerField(_("users included"), null=True, blank=True)
    extra_seat_price = models.DecimalField(
        _("price per extra user"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    extras_cap = models.DecimalField(
        _("extras cap a month"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "The most the extra hours, GB or users add to one month's bill; empty: no cap."
        ),
    )

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(list_price__gte=0), name="plan_price_gte_0"),
            models.CheckConstraint(
                condition=models.Q(new_customer_price__gte=0), name="plan_new_price_gte_0"
            ),
            *plan_pricing_constraints(),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def description(self) -> str:
        language = get_language() or "en"
        return getattr(self, f"description_{language[:2]}", "") or self.description_en

    def is_sold_to(self, segment: str) -> bool:
        return bool(getattr(self, f"sold_to_{segment}", False))
