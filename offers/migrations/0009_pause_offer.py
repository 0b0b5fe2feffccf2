"""The pause offer: its kind, when a pause resumed, and its catalogue row.

The row pauses for up to the desk's longest pause (3 months by default) at no fee; the agent
chooses the months and the fee in the offer builder. It suits those moving, in hardship, not
using the service for a while, or leaving for another reason.
"""

from decimal import Decimal

from django.conf import settings
from django.db import migrations, models

CODE = "pause-3"
ROW = {
    "kind": "pause",
    "months": 3,
    "amount": Decimal("0.00"),
    "reason_categories": ["moving", "hardship", "not_using", "other"],
    "position": 15,
    "name_en": "Pause for up to 3 months, €0",
    "name_lv": "Pakalpojuma pauze līdz 3 mēnešiem, €0",
    "name_ru": "Пауза до 3 месяцев, €0",
}


def load(apps, schema_editor):
    apps.get_model("offers", "OfferTemplate").objects.get_or_create(code=CODE, defaults=ROW)


def unload(apps, schema_editor):
    apps.get_model("offers", "OfferTemplate").objects.filter(
        code=CODE, offers__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0008_plan_that_fits_row"),
        ("retention", "0020_pause_offer"),
        ("subscribers", "0015_pause_offer"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="counteroffer",
            name="resumed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="resumed"),
        ),
        migrations.AlterField(
            model_name="counteroffer",
            name="amount",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Fixed discount per month, credit, monthly value of a perk, what a service fix costs us, or the fee while paused (0: free).",
                max_digits=8,
                null=True,
                verbose_name="amount, €",
            ),
        ),
        migrations.AlterField(
            model_name="counteroffer",
            name="kind",
            field=models.CharField(
                choices=[
                    ("percent_discount", "Percentage discount for N months"),
                    ("fixed_discount", "Fixed discount for N months"),
                    ("free_months", "Free months"),
                    ("plan_change", "Plan change"),
                    ("speed_upgrade", "Speed upgrade at the same price"),
                    ("payment_deferral", "Payment deferral"),
                    ("split_payment", "Split payment"),
                    ("one_time_credit", "One-time credit"),
                    ("service_fix", "Service fix (technician visit, line upgrade)"),
                    ("loyalty_perk", "Loyalty perk"),
                    ("pause", "Pause of the service"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="offerhistory",
            name="action",
            field=models.CharField(
                choices=[
                    ("proposed", "Proposed"),
                    ("auto_approved", "Approved within the proposer's authority"),
                    ("approved", "Approved"),
                    ("amended", "Amended and approved"),
                    ("rejected", "Rejected"),
                    ("escalated", "Escalated"),
                    ("presented", "Presented"),
                    ("accepted", "Accepted and applied"),
                    ("declined", "Declined"),
                    ("expired", "Expired"),
                    ("withdrawn", "Withdrawn"),
                    ("billing_applied", "Applied by billing"),
                    ("billing_refused", "Refused by billing"),
                    ("resumed", "Service resumed after the pause"),
                ],
                max_length=20,
                verbose_name="action",
            ),
        ),
        migrations.AlterField(
            model_name="offertemplate",
            name="amount",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Fixed discount per month, credit, monthly value of a perk, what a service fix costs us, or the fee while paused (0: free).",
                max_digits=8,
                null=True,
                verbose_name="amount, €",
            ),
        ),
        migrations.AlterField(
            model_name="offertemplate",
            name="kind",
            field=models.CharField(
                choices=[
                    ("percent_discount", "Percentage discount for N months"),
                    ("fixed_discount", "Fixed discount for N months"),
                    ("free_months", "Free months"),
                    ("plan_change", "Plan change"),
                    ("speed_upgrade", "Speed upgrade at the same price"),
                    ("payment_deferral", "Payment deferral"),
                    ("split_payment", "Split payment"),
                    ("one_time_credit", "One-time credit"),
                    ("service_fix", "Service fix (technician visit, line upgrade)"),
                    ("loyalty_perk", "Loyalty perk"),
                    ("pause", "Pause of the service"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AddIndex(
            model_name="counteroffer",
            index=models.Index(
                condition=models.Q(
                    ("kind", "pause"), ("resumed_at__isnull", True), ("status", "accepted")
                ),
                fields=["runs_until"],
                name="offer_pause_to_resume",
            ),
        ),
        migrations.RunPython(load, unload),
    ]
