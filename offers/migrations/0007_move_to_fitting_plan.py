"""The move to the plan that fits: a plan change whose plan comes from each subscriber's tariff
fit (subscribers.fit), and the catalogue row that offers it.

The row names no plan, so, unlike the demo's plan-bound offers, it needs none loaded and the
product carries it from the first migration on.
"""

from django.db import migrations, models

CODE = "plan-that-fits"
NAMES = {
    "name_en": "Move to the plan that fits how they use it",
    "name_lv": "Pāreja uz tarifu, kas atbilst lietojumam",
    "name_ru": "Переход на тариф, подходящий по использованию",
}

HELP = (
    "A plan change to the plan that fits how the subscriber uses the service, from their usage "
    "(their tariff fit): the new plan is filled in for each subscriber."
)


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
        ("offers", "0006_offer_billing"),
    ]

    operations = [
        migrations.AddField(
            model_name="counteroffer",
            name="to_fitting_plan",
            field=models.BooleanField(
                default=False, help_text=HELP, verbose_name="to the plan that fits"
            ),
        ),
        migrations.AddField(
            model_name="offertemplate",
            name="to_fitting_plan",
            field=models.BooleanField(
                default=False, help_text=HELP, verbose_name="to the plan that fits"
            ),
        ),
        migrations.RunPython(load, unload),
    ]
