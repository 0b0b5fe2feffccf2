"""Churn-risk model versions in the admin: read only (only training writes them, and a version's
figures are what it was measured at), with one button that asks the workers to train a new
one, as ``manage.py risk_train`` does from a shell."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from retention.core import broker
from retention.core.roles import Role, has_role
from retention.models import RiskModel
from subscribers.admin import HistoryAdmin, admin_actor

TRAIN_TASK = "retention.tasks.risk_train"


@admin.register(RiskModel)
class RiskModelAdmin(HistoryAdmin):
    """Every version, newest first. Nothing is added, changed or deleted here: a version scores
    subscribers as it was trained, and the model card compares it with the one before."""

    list_display = (
        "version",
        "kind",
        "is_active",
        "trained_at",
        "held_out_auc",
        "held_out_precision",
        "rows_train",
    )
    list_filter = ("kind", "is_active")
    list_select_related = ("trained_by",)
    date_hierarchy = "trained_at"
    fieldsets = (
        (
            None,
            {"fields": ("version", "kind", "is_active", "trained_at", "trained_by", "seconds")},
        ),
        (
            gettext_lazy("What it learned from and was measured on"),
            {
                "fields": (
                    ("train_from", "train_to"),
                    ("rows_train", "positives_train"),
                    ("test_from", "test_to"),
                    ("rows_test", "positives_test"),
                )
            },
        ),
        (
            gettext_lazy("Figures on the held-out months"),
            {
                "fields": (
                    ("auc", "rules_auc"),
                    ("precision_top10", "rules_precision_top10"),
                    "calibration",
                )
            },
        ),
        (gettext_lazy("Weights and note"), {"fields": ("weights", "note")}),
    )

    @admin.display(description=gettext_lazy("AUC, held out"), ordering="auc")
    def held_out_auc(self, obj: RiskModel) -> str | None:
        return None if obj.auc is None else f"{obj.auc:.3f}"  # None: the admin's empty value

    @admin.display(
        description=gettext_lazy("precision in the top 10 %, held out"), ordering="precision_top10"
    )
    def held_out_precision(self, obj: RiskModel) -> str | None:
        return None if obj.precision_top10 is None else f"{obj.precision_top10 * 100:.1f} %"

    def get_urls(self) -> list[URLPattern]:
        # Ahead of the admin's own: its change view's catch-all pattern would take "train/".
        train = path(
            "train/",
            self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.train_view)),
            name="retention_riskmodel_train",
        )
        return [train, *super().get_urls()]

    def may_train(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request) and has_role(request.user, Role.ADMIN)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "may_train": self.may_train(request)}
        return super().changelist_view(request, extra_context)

    def train_view(self, request: HttpRequest) -> HttpResponse:
        """GET: what training does, and the button; POST: queue it for the workers."""
        if not self.may_train(request):
            raise PermissionDenied
        if request.method == "POST":
            actor = admin_actor(request)
            with transaction.atomic():
                # Published only once the request's work is committed: a worker never starts
                # on a request that was rolled back.
                transaction.on_commit(lambda: broker.enqueue(TRAIN_TASK, actor.pk))
            self.message_user(
                request,
                _(
                    "Training a new model is queued; the new version appears here when the "
                    "workers have trained it. From a shell, manage.py risk_train does the same."
                ),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:retention_riskmodel_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Train a new churn risk model"),
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/retention/riskmodel/train.html", context)
