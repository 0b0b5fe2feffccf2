"""Run the billing simulator (retention/demo/billing.py) until Ctrl-C."""

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from retention.billing.services import endpoint_save
from retention.demo.billing import BillingSimulator
from retention.models import User, WebhookEndpoint
from subscribers.ingestion import api_token_create
from subscribers.models import ApiToken, OutboundEvent

NAME = "Billing simulator"


class Command(BaseCommand):
    help = (
        "Play billing on 127.0.0.1: receive the desk's signed webhooks, apply each event once "
        "and confirm it through the API. Without --secret and --token (development only), "
        f"registers itself: the endpoint “{NAME}” and an API token of that name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8010)
        parser.add_argument("--delay", type=float, default=2.0, help="Seconds before it confirms.")
        parser.add_argument("--desk-url", default=settings.SITE_URL)
        parser.add_argument("--secret", help="The endpoint's signing secret.")
        parser.add_argument("--token", help="An API token to confirm with.")
        parser.add_argument("--journal", type=Path, help="A file to log what it applies.")
        parser.add_argument("--slow", type=float, default=0.0, help="Seconds to answer.")
        parser.add_argument(
            "--refuse", nargs="*", default=[], help="Event types to refuse instead of applying."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        secret, token = options["secret"], options["token"]
        if not (secret and token):
            if not settings.DEBUG:
                raise CommandError("Registers itself only with DEBUG=true; else give both.")
            secret, token = self._register(f"http://127.0.0.1:{port}/webhooks")
        simulator = BillingSimulator(
            secret=secret,
            token=token,
            confirm_url=f"{options['desk_url'].rstrip('/')}/api/v1/events/confirmations",
            delay=options["delay"],
            port=port,
            journal=options["journal"],
            refuse=frozenset(options["refuse"]),
            slow=options["slow"],
        ).start()
        self.stdout.write(f"Billing simulator on {simulator.url}", ending="\n")
        self.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()

    def _register(self, url: str) -> tuple[str, str]:
        """The endpoint (created or pointed here) and a fresh token; the old token goes."""
        admin = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if admin is None:
            raise CommandError("No admin to register the endpoint as: run manage.py demo_users.")
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.filter(name=NAME).first()
            values = {
                "name": NAME,
                "url": url,
                "event_types": [str(value) for value in OutboundEvent.Type.values],
                "enabled": True,
            }
            endpoint = endpoint_save(endpoint=endpoint, values=values, actor=admin)
            ApiToken.objects.filter(name=NAME).delete()
            _, raw = api_token_create(name=NAME, source="billing")
        return endpoint.secret, raw
