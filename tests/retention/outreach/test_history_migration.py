"""Campaigns made before their history was kept start it with their creation (retention 0011):
who made them and when; nothing is made up about who launched them."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("retention", "0010_stored_sentences_to_phrases")]
AFTER = [("retention", "0011_campaign_history")]
AT = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_existing_campaigns_get_their_created_row():
    author = UserFactory.create(username="author")
    try:
        old = migrate(BEFORE)
        template = old.get_model("offers", "OfferTemplate").objects.create(
            code="loyal-5", kind="fixed_discount", amount=5, months=12
        )
        Campaign = old.get_model("retention", "OutreachCampaign")
        running = Campaign.objects.create(
            name="Old",
            created_by_id=author.pk,
            created_at=AT,
            state="running",
            launched_at=AT,
            template=template,
            channel="sms",
            body_lv="x",
            body_ru="x",
            body_en="x",
        )
        new = migrate(AFTER)
        History = new.get_model("retention", "CampaignHistory")
        rows = list(
            History.objects.values_list("campaign_id", "actor_id", "at", "action", "to_status")
        )
        assert rows == [(running.pk, author.pk, AT, "created", "draft")]
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
