"""Demo offers bound to a plan, added to the catalogue once the demo plans exist.

The catalogue migration cannot hold these: it runs before any plan is loaded. Which plans are
residential is known only to the demo data (``retention.demo.plans.PLANS``; a plan row has no
segment), so this belongs to the demo seed, not to the product.
"""

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps as django_apps
from django.db import transaction

from offers.models import OfferKind, OfferTemplate, ReasonCategory
from retention.demo.plans import PLANS
from subscribers.models import Plan, Subscriber

_RESIDENTIAL_CODES = tuple(row.code for row in PLANS if "r" in row.segments)


@dataclass(frozen=True)
class SeededTemplate:
    template: OfferTemplate
    created: bool


def _sold_residential() -> list[Plan]:
    return list(Plan.objects.filter(code__in=_RESIDENTIAL_CODES, is_sold=True))


def offer_catalogue_for_plans() -> list[SeededTemplate]:
    """Add the speed upgrade and the move to a cheaper plan for the demo plans that exist.

    Idempotent: a template that exists already is left as it is, whatever an admin changed in
    it. Nothing is added when the demo plans are not loaded.
    """
    plans = _sold_residential()
    if not plans:
        return []
    with transaction.atomic():
        seeded = [_speed_upgrade(plans)]
        cheaper = _cheaper_plan(plans)
        if cheaper is not None:
            seeded.append(cheaper)
    return seeded


def _speed_upgrade(plans: list[Plan]) -> SeededTemplate:
    """To the fastest residential plan, at the price the subscriber pays now."""
    fastest = max(plans, key=lambda plan: (plan.download_mbps, -plan.new_customer_price))
    template, created = OfferTemplate.objects.get_or_create(
        code="speed-upgrade",
        defaults={
            "kind": OfferKind.SPEED_UPGRADE,
            "new_plan": fastest,
            "min_tenure_months": 12,
            # A residential plan: a business account is not moved onto one.
            "segments": [Subscriber.Segment.RESIDENTIAL.value],
            "reason_categories": [
                ReasonCategory.QUALITY.value,
                ReasonCategory.COMPETITOR.value,
                ReasonCategory.PRICE.value,
            ],
            "name_en": f"Speed upgrade to {fastest.name} at the same price",
            "name_lv": f"Ātruma palielinājums uz {fastest.name} par to pašu cenu",
            "name_ru": f"Повышение скорости до {fastest.name} по той же цене",
            "position": 35,
        },
    )
    return SeededTemplate(template, created)


def _cheaper_plan(plans: list[Plan]) -> SeededTemplate | None:
    """The cheapest plan overall is metered by the hour: moving a broadband subscriber onto
    30 hours a month is no offer. The cheapest flat-rate plan keeps them unlimited, and is
    worth offering only when some sold flat-rate plan costs more."""
    flat = [plan for plan in plans if plan.kind == Plan.Kind.FLAT]
    if len({plan.new_customer_price for plan in flat}) <= 1:
        return None
    cheapest = min(flat, key=lambda plan: (plan.new_customer_price, plan.download_mbps))
    template, created = OfferTemplate.objects.get_or_create(
        code="cheaper-plan",
        defaults={
            "kind": OfferKind.PLAN_CHANGE,
            "new_plan": cheapest,
            "segments": [Subscriber.Segment.RESIDENTIAL.value],
            "name_en": f"Move to the cheaper {cheapest.name}",
            "name_lv": f"Pāreja uz lētāko {cheapest.name}",
            "name_ru": f"Переход на более дешёвый {cheapest.name}",
            "position": 15,
        },
    )
    return SeededTemplate(template, created)


def offer_catalogue_defaults() -> int:
    """Put back the default authority tiers and catalogue the data migration loads, adding only
    what is missing; how many offers were added. Reloading the demo data empties the catalogue
    on PostgreSQL (it truncates the plans with CASCADE, and offers may point at a plan)."""
    before = OfferTemplate.objects.count()
    # The migrations' own loaders, so the defaults are written down once: the tiers and the
    # catalogue, and the move to the plan that fits (a row that names no plan).
    import_module("offers.migrations.0002_catalogue").load(django_apps, None)
    import_module("offers.migrations.0008_plan_that_fits_row").load(django_apps, None)
    return OfferTemplate.objects.count() - before
