"""The admin reads arrangements, with their instalments, payments and history; it writes none."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from offers.models import OfferKind
from retention.core.roles import Role
from retention.models import HardshipArrangement
from tests.factories import offer_template, user_with_role
from tests.retention.hardship.helpers import accepted

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), tick=False)
def test_the_admin_shows_an_arrangement_read_only_with_its_history(
    client, admin_user, agent, tiers
):
    lead = user_with_role(Role.MANAGER, tiers["lead"].group, username="lead")
    template = offer_template("split-3", OfferKind.SPLIT_PAYMENT, months=3)
    _, offer = accepted(agent, lead, template, balance=Decimal("100.00"))
    arrangement = HardshipArrangement.objects.get(offer=offer)
    client.force_login(admin_user)
    listing = client.get(reverse("admin:retention_hardshiparrangement_changelist"))
    assert listing.status_code == 200
    page = client.get(reverse("admin:retention_hardshiparrangement_change", args=[arrangement.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "33.34" in html and "Started" in html
    assert "Payment arrangement: €100.00 in 3 monthly instalments" in html
    assert 'name="_save"' not in html
    add = client.get(reverse("admin:retention_hardshiparrangement_add"))
    assert add.status_code == 403
    response = client.post(
        reverse("admin:retention_hardshiparrangement_change", args=[arrangement.pk]),
        {"status": "completed"},
    )
    assert response.status_code == 403
    arrangement.refresh_from_db()
    assert arrangement.status == "kept"
