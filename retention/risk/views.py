"""The churn-risk model card: what scores the subscribers, and how well, for managers."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from retention.core.http import DeskRequest
from retention.core.roles import Role, role_required
from retention.models import User
from retention.risk.selectors import risk_model_card


@require_GET
@role_required(Role.MANAGER)
def risk_model(request: DeskRequest[User]) -> HttpResponse:
    card = risk_model_card(user=request.user)
    return render(request, "retention/risk_model.html", {"card": card})
