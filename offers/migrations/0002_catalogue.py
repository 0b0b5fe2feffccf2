"""Sensible defaults: three authority tiers and a catalogue an admin can edit from day one.

Offers bound to a plan (speed upgrades, moves to another plan) need the provider's plans, so
the demo seed adds those.
"""

from decimal import Decimal

from django.db import migrations

D = Decimal

# (group, name, rank, per month, one offer, per subscriber in 12 months)
TIERS = [
    ("Agent", "Agent", 10, D("10.00"), D("60.00"), D("120.00")),
    ("Manager", "Manager", 20, D("25.00"), D("300.00"), D("500.00")),
    ("Retention lead", "Retention lead", 30, D("60.00"), D("1000.00"), D("1500.00")),
]

# code, kind, parameters, eligibility, names (en, lv, ru)
CATALOGUE = [
    (
        "loyalty-tariff",
        "plan_change",
        {},
        {"min_tenure_months": 12},
        (
            "Loyalty tariff: the new-customer price",
            "Lojalitātes tarifs: jauna klienta cena",
            "Тариф лояльности: цена для новых клиентов",
        ),
    ),
    (
        "technician-visit",
        "service_fix",
        {"amount": D("40.00")},
        {"reason_categories": ["quality", "equipment"]},
        (
            "Technician visit at our cost",
            "Tehniķa vizīte par mūsu līdzekļiem",
            "Визит техника за наш счёт",
        ),
    ),
    (
        "line-upgrade",
        "service_fix",
        {"amount": D("150.00")},
        {"reason_categories": ["quality"]},
        (
            "Line upgrade at our cost",
            "Līnijas uzlabošana par mūsu līdzekļiem",
            "Модернизация линии за наш счёт",
        ),
    ),
    (
        "outage-credit",
        "one_time_credit",
        {"amount": D("15.00")},
        {"reason_categories": ["quality"]},
        ("Outage credit €15", "Kompensācija par traucējumiem €15", "Компенсация за сбои €15"),
    ),
    (
        "payment-deferral-30",
        "payment_deferral",
        {"days": 30},
        {},
        ("Pay 30 days later", "Maksājuma atlikšana uz 30 dienām", "Отсрочка платежа на 30 дней"),
    ),
    (
        "split-payment-3",
        "split_payment",
        {"months": 3},
        {},
        ("Balance in 3 instalments", "Parāds 3 maksājumos", "Долг тремя платежами"),
    ),
    (
        "hardship-credit",
        "one_time_credit",
        {"amount": D("20.00")},
        {"reason_categories": ["hardship"]},
        ("Hardship credit €20", "Atbalsta kredīts €20", "Кредит поддержки €20"),
    ),
    (
        "fixed-5-12",
        "fixed_discount",
        {"amount": D("5.00"), "months": 12},
        {},
        ("€5 off a month for a year", "€5 atlaide mēnesī uz gadu", "Скидка €5 в месяц на год"),
    ),
    (
        "discount-20-6",
        "percent_discount",
        {"percent": D("20"), "months": 6},
        {},
        ("20% off for 6 months", "20% atlaide uz 6 mēnešiem", "Скидка 20% на 6 месяцев"),
    ),
    (
        "discount-30-12",
        "percent_discount",
        {"percent": D("30"), "months": 12},
        {"min_tenure_months": 24},
        ("30% off for 12 months", "30% atlaide uz 12 mēnešiem", "Скидка 30% на 12 месяцев"),
    ),
    (
        "free-month",
        "free_months",
        {"months": 1},
        {"min_tenure_months": 12},
        ("One month free", "Viens mēnesis bez maksas", "Один месяц бесплатно"),
    ),
    (
        "loyalty-perk-tv",
        "loyalty_perk",
        {"amount": D("5.00"), "months": 12},
        {"min_tenure_months": 36},
        ("TV package free for a year", "TV pakete bez maksas uz gadu", "ТВ-пакет бесплатно на год"),
    ),
]


def load(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    AuthorityTier = apps.get_model("offers", "AuthorityTier")
    OfferTemplate = apps.get_model("offers", "OfferTemplate")
    for group_name, name, rank, monthly, total, cumulative in TIERS:
        group = Group.objects.get_or_create(name=group_name)[0]
        AuthorityTier.objects.get_or_create(
            group=group,
            defaults={
                "name": name,
                "rank": rank,
                "max_monthly": monthly,
                "max_total": total,
                "max_cumulative": cumulative,
            },
        )
    for position, (code, kind, params, eligibility, names) in enumerate(CATALOGUE, start=1):
        OfferTemplate.objects.get_or_create(
            code=code,
            defaults={
                "kind": kind,
                **params,
                **eligibility,
                "name_en": names[0],
                "name_lv": names[1],
                "name_ru": names[2],
                "position": position * 10,
            },
        )


def unload(apps, schema_editor):
    apps.get_model("offers", "OfferTemplate").objects.filter(
        code__in=[row[0] for row in CATALOGUE], offers__isnull=True
    ).delete()
    apps.get_model("offers", "AuthorityTier").objects.filter(
        name__in=[row[1] for row in TIERS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("offers", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
