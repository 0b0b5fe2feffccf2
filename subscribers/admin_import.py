"""Upload a subscribers CSV in Django admin: the same service as ``manage.py import_subscribers``.

SubscriberAdmin mounts it ahead of its own URLs (the change view's catch-all pattern would
otherwise take ``import/`` for an object id)::

    def get_urls(self):
        return [*subscriber_import_urls(self), *super().get_urls()]

The import runs inside the request, which suits files of tens of thousands of rows; the command
is the tool for a full million-row load.
"""

import io
from typing import IO, cast

from django import forms
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from subscribers.importing import ImportFileError, ImportReport, import_subscribers_csv
from subscribers.importing_columns import COLUMNS

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


def _import_upload(upload: UploadedFile, *, skip_invalid: bool) -> ImportReport:
    upload.open("rb")
    # newline="" lets the csv module see line endings inside quoted cells as they are.
    text = io.TextIOWrapper(cast(IO[bytes], upload.file), encoding="utf-8-sig", newline="")
    try:
        return import_subscribers_csv(file=text, skip_invalid=skip_invalid)
    finally:
        text.detach()  # the upload's own file stays open for Django to close and delete


@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest, model_admin: ModelAdmin) -> HttpResponse:
    """The upload page; the import itself is POST-only. Wrap in ``admin_site.admin_view``."""
    # Importing creates and changes subscribers, so it takes both permissions.
    if not (model_admin.has_add_permission(request) and model_admin.has_change_permission(request)):
        raise PermissionDenied
    request.current_app = model_admin.admin_site.name
    report = None
    if request.method == "POST":
        form = SubscriberImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                report = _import_upload(
                    form.cleaned_data["file"], skip_invalid=form.cleaned_data["skip_invalid"]
                )
            except ImportFileError as exc:
                nothing = _("Nothing was imported.")
                form.add_error("file", f"{exc} {nothing}")
    else:
        form = SubscriberImportForm()
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Import subscribers from CSV"),
        "opts": opts,
        "app_label": opts.app_label,
        "has_view_permission": model_admin.has_view_permission(request),
        "form": form,
        "columns": COLUMNS,
        "report": report,
        # The report is shown in the response to the POST (no redirect): it is the result the
        # user is waiting for, and sending the same file again is harmless (it is an upsert).
        "shown_errors": report.errors[:SHOWN_ERRORS] if report else [],
        "shown_errors_limit": SHOWN_ERRORS,
    }
    return TemplateResponse(request, TEMPLATE, context)


def subscriber_import_urls(model_admin: ModelAdmin) -> list[URLPattern]:
    """The URLs to put first in ``SubscriberAdmin.get_urls()``.

    Named ``admin:subscribers_subscriber_import``.
    """
    opts = model_admin.model._meta

    def view(request: HttpRequest) -> HttpResponse:
        return import_view(request, model_admin)

    return [
        path(
            "import/",
            model_admin.admin_site.admin_view(view),
            name=f"{opts.app_label}_{opts.model_name}_import",
        )
    ]
