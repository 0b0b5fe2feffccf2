"""The move to the plan that fits: a plan change whose plan comes from each subscriber's tariff
fit (subscribers.fit). The catalogue row that offers it is the next migration's: a schema change
and rows written in one transaction cannot be undone together on PostgreSQL (pending trigger
events)."""

from django.db import migrations, models

HELP = (
    "A plan change to the plan that fits how the subscriber uses the service, from their usage "
    "(their tariff fit): the new plan is filled in for each subscriber."
)


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
    ]
