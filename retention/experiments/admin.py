"""Experiments in the administration: read only. They are started and stopped on the
dashboard's experiments pages, whose services keep the history and the one-slot rule."""

from django.contrib import admin
from django.http import HttpRequest

from retention.models import Experiment, ExperimentArm, ExperimentAssignment, ExperimentHistory


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ArmInline(_ReadOnly, admin.TabularInline):
    model = ExperimentArm
    fields = ("position", "template", "weight")
    readonly_fields = fields
    extra = 0


class HistoryInline(_ReadOnly, admin.TabularInline):
    model = ExperimentHistory
    fields = ("at", "action", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    extra = 0


@admin.register(Experiment)
class ExperimentAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("name", "status", "reason_category", "started_at", "started_by", "stopped_at")
    list_filter = ("status", "reason_category")
    list_select_related = ("started_by",)
    inlines = (ArmInline, HistoryInline)


@admin.register(ExperimentAssignment)
class ExperimentAssignmentAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = (
        "experiment",
        "key",
        "arm",
        "draw",
        "assigned_at",
        "offered_template",
        "followed",
    )
    list_filter = ("experiment", "followed")
    list_select_related = ("experiment", "arm__template", "offered_template")
    search_fields = ("key",)
    raw_id_fields = ("case", "subscriber")
    show_full_result_count = False
