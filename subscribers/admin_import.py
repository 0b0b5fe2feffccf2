"""Upload a CSV in Django admin: subscribers (the same service as ``manage.py
import_subscribers``) and usage months (``manage.py import_usage``), one page for both.

SubscriberAdmin mounts it ahead of its own URLs (the change view's catch-all pattern would
otherwise take ``import/`` for an object id)::

    def get_urls(self):
        return [*subscriber_import_urls(self), *super().get_urls()]

The import runs inside the request, which suits files of tens of thousands of rows; the command
is the tool for a full million-row load. UsageAdmin mounts ``usage_import_urls`` the same way.
"""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

from django import forms
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from subscribers.importing import ImportFileError, ImportReport, import_subscribers_csv
from subscribers.importing_columns import COLUMNS, Column
from subscribers.usage_import import COLUMNS as USAGE_COLUMNS
from subscribers.usage_import import import_usage_csv

# Bad rows listed on the page; the report's count covers the rest.
SHOWN_ERRORS = 500
TEMPLATE = "admin/subscribers/subscriber/import_csv.html"


class SubscriberImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        validators=[FileExtensionValidator(allowed_extensions=["csv"])],
        help_text=_(
            "UTF-8 (with or without BOM), comma-separated, first line naming the columns listed "
            "below. Rows are matched on account_number: new ones are created, existing ones "
            "updated."
        ),
    )
    skip_invalid = forms.BooleanField(
        label=_("Skip invalid rows"),
        label_suffix="",
        required=False,
        help_text=_(
            "Import the valid rows and list the invalid ones. Without this, a file with any "
            "invalid row imports nothing."
        ),
    )


class UsageImportForm(SubscriberImportForm):
    file = forms.FileField(
        label=_("CSV file"),
        validators=[FileExtensionValidator(allowed_extensions=["csv"])],
        help_text=_(
            "UTF-8 (with or without BOM), comma-separated, first line naming the columns listed "
            "below. Rows are matched on account_number and period: a new month is created, a "
            "month already stored is replaced by the file's figures."
        ),
    )


@dataclass(frozen=True)
class ImportPage:
    """What differs between the import pages: the service, its form and columns, the words."""

    run: Callable[..., ImportReport]  # (file=, skip_invalid=) -> report
    form: type[forms.Form]
    columns: Sequence[Column]
    title: str | Promise
    template: str
    # Whether the user may import: the import writes the model's rows.
    permitted: Callable[[HttpRequest, ModelAdmin], bool]


def _may_add_and_change(request: HttpRequest, model_admin: ModelAdmin) -> bool:
    # Importing creates and changes subscribers, so it takes both permissions.
    return model_admin.has_add_permission(request) and model_admin.has_change_permission(request)


def _may_import_usage(request: HttpRequest, model_admin: ModelAdmin) -> bool:
    # The usage admin is read-only (the figures come from network systems), so its own
    # permissions say no: the model's add and change permissions let a user load them.
    return request.user.has_perms(["subscribers.add_usage", "subscribers.change_usage"])


SUBSCRIBER_IMPORT = ImportPage(
    run=import_subscribers_csv,
    form=SubscriberImportForm,
    columns=COLUMNS,
    title=_("Import subscribers from CSV"),
    template=TEMPLATE,
    permitted=_may_add_and_change,
)
USAGE_IMPORT = ImportPage(
    run=import_usage_csv,
    form=UsageImportForm,
    columns=USAGE_COLUMNS,
    title=_("Import usage months from CSV"),
    template="admin/subscribers/usage/import_csv.html",
    permitted=_may_import_usage,
)


def _import_upload(page: ImportPage, upload: UploadedFile, *, skip_invalid: bool) -> ImportReport:
    upload.open("rb")
    # newline="" lets the csv module see line endings inside quoted cells as they are.
    text = io.TextIOWrapper(cast(IO[bytes], upload.file), encoding="utf-8-sig", newline="")
    try:
        return page.run(file=text, skip_invalid=skip_invalid)
    finally:
        text.detach()  # the upload's own file stays open for Django to close and delete


@require_http_methods(["GET", "POST"])
def import_view(
    request: HttpRequest, model_admin: ModelAdmin, page: ImportPage = SUBSCRIBER_IMPORT
) -> HttpResponse:
    """The upload page; the import itself is POST-only. Wrap in ``admin_site.admin_view``."""
    if not page.permitted(request, model_admin):
        raise PermissionDenied
    request.current_app = model_admin.admin_site.name
    report = None
    if request.method == "POST":
        form = page.form(request.POST, request.FILES)
        if form.is_valid():
            try:
                report = _import_upload(
                    page,
                    form.cleaned_data["file"],
                    skip_invalid=form.cleaned_data["skip_invalid"],
                )
            except ImportFileError as exc:
                nothing = _("Nothing was imported.")
                form.add_error("file", f"{exc} {nothing}")
    else:
        form = page.form()
    opts = model_admin.model._meta
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "title": page.title,
        "opts": opts,
        "app_label": opts.app_label,
        "has_view_permission": model_admin.has_view_permission(request),
        "form": form,
        "columns": page.columns,
        "report": report,
        # The report is shown in the response to the POST (no redirect): it is the result the
        # user is waiting for, and sending the same file again is harmless (it is an upsert).
        "shown_errors": report.errors[:SHOWN_ERRORS] if report else [],
        "shown_errors_limit": SHOWN_ERRORS,
    }
    return TemplateResponse(request, page.template, context)


def subscriber_import_urls(model_admin: ModelAdmin) -> list[URLPattern]:
    """The URLs to put first in ``SubscriberAdmin.get_urls()``.

    Named ``admin:subscribers_subscriber_import``.
    """
    return _import_urls(model_admin, SUBSCRIBER_IMPORT)


def usage_import_urls(model_admin: ModelAdmin) -> list[URLPattern]:
    """The URLs to put first in ``UsageAdmin.get_urls()``: ``admin:subscribers_usage_import``."""
    return _import_urls(model_admin, USAGE_IMPORT)


def _import_urls(model_admin: ModelAdmin, page: ImportPage) -> list[URLPattern]:
    opts = model_admin.model._meta

    def view(request: HttpRequest) -> HttpResponse:
        return import_view(request, model_admin, page)

    return [
        path(
            "import/",
            model_admin.admin_site.admin_view(view),
            name=f"{opts.app_label}_{opts.model_name}_import",
        )
    ]
