"""The catalogue row that offers the move to the plan that fits.

The row names no plan, so, unlike the demo's plan-bound offers, it needs none loaded and the
product carries it from the first migration on.
"""

from django.db import migrations

CODE = "plan-that-fits"
NAMES = {
    "name_en": "Move to the plan that fits how they use it",
    "name_lv": "Pāreja uz tarifu, kas atbilst lietojumam",
    "name_ru": "Переход на тариф, подходящий по использованию",
}


def load(apps, schema_editor):
    OfferTemplate = apps.get_model("offers", "OfferTemplate")
    OfferTemplate.objects.get_or_create(
        code=CODE,
        defaults={
            "kind": "plan_change",
            "to_fitting_plan": True,
            # Ahead of the loyalty tariff (10) in the catalogue's own order.
            "position": 5,
            **NAMES,
        },
    )


def unload(apps, schema_editor):
    apps.get_model("offers", "OfferTemplate").objects.filter(
        code=CODE, to_fitting_plan=True, offers__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0007_move_to_fitting_plan"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]
