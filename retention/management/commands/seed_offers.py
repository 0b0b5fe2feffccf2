"""``manage.py seed_offers``: the demo offers that need a plan (run after ``seed_demo``)."""

from django.core.management.base import BaseCommand

from retention.demo.offers import offer_catalogue_defaults, offer_catalogue_for_plans


class Command(BaseCommand):
    help = (
        "Restore the default catalogue if emptied and add the plan-bound demo offers (idempotent)."
    )

    def handle(self, *args: object, **options: object) -> None:
        restored = offer_catalogue_defaults()
        if restored:
            self.stdout.write(f"Restored {restored} default offers to the catalogue.")
        seeded = offer_catalogue_for_plans()
        if not seeded:
            self.stdout.write("No demo plans yet (run seed_demo first); no offers added.")
            return
        for item in seeded:
            state = "added" if item.created else "already in the catalogue"
            self.stdout.write(f"Offer {item.template.code}: {item.template.name_en} — {state}")
