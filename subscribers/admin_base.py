"""What every admin of the desk builds on: big tables without full counts, bounds from the
database's constraints, histories that are read only, models written only by a service.

Imported by subscribers/admin.py (which names them for the other apps' admins, as before) and
subscribers/admin_usage.py.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import QuerySet
from django.forms import BaseForm, BaseInlineFormSet, BaseModelFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise, cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import capfirst

from retention.core.roles import Role, has_role

# Above this many rows an unfiltered changelist shows the planner's estimate instead of an
# exact count: COUNT(*) over 20,000,000 timeline rows takes seconds.
EXACT_COUNT_LIMIT = 10_000


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if (
            connection.vendor == "postgresql"
            and isinstance(queryset, QuerySet)
            and not queryset.query.where
        ):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            estimate = int(row[0]) if row else -1
            if estimate > EXACT_COUNT_LIMIT:
                return estimate
        return super().count


class BoundedFieldsMixin:
    """The limits the database's check constraints hold, given to the form fields too, so a
    mistake reads "Ensure this value is greater than or equal to 0." on its field instead of
    "Constraint “plan_price_gte_0” is violated." above the form."""

    field_bounds: dict[str, dict[str, int]] = {}

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.update(self.field_bounds.get(db_field.name, {}))
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]


class ColumnNamedFieldsMixin:
    """A table of forms (a tabular inline, a list's editable columns) names each field once, in
    its column's heading, and gives the inputs in the rows no <label>: a screen reader announced
    an unnamed field. Each input is named after its column (its "Delete" box too)."""

    def add_fields(self, form: BaseForm, index: int | None) -> None:
        super().add_fields(form, index)  # type: ignore[misc]
        for field in form.fields.values():
            if field.label and not field.widget.is_hidden:
                field.widget.attrs.setdefault("aria-label", capfirst(field.label))


class ColumnNamedInlineFormSet(ColumnNamedFieldsMixin, BaseInlineFormSet):
    pass


class ColumnNamedModelFormSet(ColumnNamedFieldsMixin, BaseModelFormSet):
    pass


class TabularInline(admin.TabularInline):
    """The admin's tabular inline with its inputs named (ColumnNamedFieldsMixin)."""

    formset = ColumnNamedInlineFormSet


class ListEditableNamedMixin:
    """A list with editable columns (list_editable) names its inputs (ColumnNamedFieldsMixin)."""

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("formset", ColumnNamedModelFormSet)
        return super().get_changelist_formset(request, **kwargs)  # type: ignore[misc]


class LargeTableAdmin(admin.ModelAdmin):
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50


def admin_actor(request: HttpRequest) -> AbstractUser:
    """The administrator a save in the admin is recorded as (the admin lets in only users)."""
    user = request.user
    if not isinstance(user, AbstractUser):
        raise PermissionDenied
    return user


class HistoryAdmin(admin.ModelAdmin):
    """A history written only by services: read, never added, changed or deleted here."""

    show_full_result_count = False  # one COUNT(*) per page is enough for a growing table

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceWrittenAdmin(admin.ModelAdmin):
    """A model written only by a service that records each write: only admins are offered the
    forms (others may read), and every deletion, one or several from the list, is one call of
    ``delete_one`` (the service), all or none."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and has_role(request.user, Role.ADMIN)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and has_role(request.user, Role.ADMIN)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and has_role(request.user, Role.ADMIN)

    def delete_one(self, obj: Any, actor: AbstractUser) -> None:
        raise NotImplementedError

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete_one(obj, admin_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        actor = admin_actor(request)
        with transaction.atomic():
            for obj in queryset:
                self.delete_one(obj, actor)


def history_link(url_name: str, text: str | Promise, **filters: int | str) -> str:
    """A link from an object's page to its history, filtered to it; no query."""
    url = f"{reverse(url_name)}?{urlencode(filters)}" if filters else reverse(url_name)
    return format_html('<a href="{}">{}</a>', url, text)
