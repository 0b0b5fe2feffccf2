"""The pause offer: its reminder a week before the resume, and its resume event for the
endpoints that already receive accepted offers (a pause's acceptance reaches them; its resume
must too)."""

from django.db import migrations, models


def subscribe(apps, schema_editor):
    for endpoint in apps.get_model("retention", "WebhookEndpoint").objects.all():
        types = list(endpoint.event_types)
        if "offer.accepted" in types and "pause.resumed" not in types:
            endpoint.event_types = [*types, "pause.resumed"]
            endpoint.save(update_fields=["event_types"])


def unsubscribe(apps, schema_editor):
    for endpoint in apps.get_model("retention", "WebhookEndpoint").objects.all():
        if "pause.resumed" in endpoint.event_types:
            endpoint.event_types = [t for t in endpoint.event_types if t != "pause.resumed"]
            endpoint.save(update_fields=["event_types"])


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0019_campaign_schedule"),
    ]

    operations = [
        migrations.AlterField(
            model_name="caseoutcome",
            name="offer_kind",
            field=models.CharField(
                blank=True,
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
                verbose_name="offer accepted",
            ),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="kind",
            field=models.CharField(
                choices=[
                    ("callback", "Callback due"),
                    ("sla_warning", "First contact due soon"),
                    ("sla_breached", "First contact overdue"),
                    ("approval_waiting", "Offer waiting for approval"),
                    ("process_by", "Process-by date approaching"),
                    ("equipment_return", "Equipment return due"),
                    ("discount_ending", "Retention discount ending"),
                    ("pause_ending", "Paused service resumes soon"),
                    ("billing_refused", "Billing refused a decision"),
                    ("billing_unconfirmed", "Billing has not confirmed an offer"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(subscribe, unsubscribe),
    ]
