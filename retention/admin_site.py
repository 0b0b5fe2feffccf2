"""The desk's Django admin site: Django's own, with the admin's JavaScript catalogue completed.

Django 6.1's Latvian and Russian catalogues of the admin's JavaScript (``djangojs``) lack the
date fields' accessible names, which its date shortcuts and calendar say aloud: a Latvian
admin's "Šodien" link is named "Today (6 December 2026)", in English. The desk says them in its
own catalogue (``locale/``, the ``django`` domain that ``make messages`` keeps), and the
admin's catalogue takes them from there, in the admin user's language, wherever Django's has
no translation of its own.
"""

from typing import cast

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_noop
from django.views.i18n import JavaScriptCatalog

# The admin's JavaScript says these with Django's msgids, placeholders as they are.
MISSING_FROM_DJANGO = (
    # Translators: the name a screen reader says for the "Today" link of a date field in the
    # admin, e.g. "Today (6 December 2026)"; %(date)s is written by the next message.
    gettext_noop("Today (%(date)s)"),
    gettext_noop("Yesterday (%(date)s)"),
    gettext_noop("Tomorrow (%(date)s)"),
    # Translators: a date in the admin's calendar, e.g. "December 6, 2026"; %(month)s is the
    # month's name as the calendar heads its page (Django's translation of "December").
    gettext_noop("%(month)s %(day)s, %(year)s"),
    # Translators: the admin calendar's buttons to the month before and after, e.g.
    # "Previous (November 2026)".
    gettext_noop("Previous (%(month)s %(year)s)"),
    gettext_noop("Next (%(month)s %(year)s)"),
    # Translators: a day of the admin's calendar, said by a screen reader; %s is its date.
    gettext_noop("%s (today, current selection)"),
    gettext_noop("%s (today)"),
    gettext_noop("%s (current selection)"),
    # Translators: in the admin's "Note: You are 2 hours ahead of server time.", when the
    # server's time zone has no name.
    gettext_noop("server"),
)


class AdminCatalogue(JavaScriptCatalog):
    def get_catalog(self) -> dict[str, str | list[str]]:
        catalog: dict[str, str | list[str]] = super().get_catalog()
        for msgid in MISSING_FROM_DJANGO:
            # Django's own translation wins once its catalogue has one.
            catalog.setdefault(msgid, gettext(msgid))
        return catalog


class DeskAdminSite(admin.AdminSite):
    def i18n_javascript(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        # As Django's own: a JavaScriptCatalog answers with a plain HttpResponse.
        view = AdminCatalogue.as_view(packages=["django.contrib.admin"])
        return cast(HttpResponse, view(request))


class DeskAdminConfig(AdminConfig):
    """Django's admin (in INSTALLED_APPS for django.contrib.admin), on the desk's site:
    ``admin.site`` is a DeskAdminSite."""

    default_site = "retention.admin_site.DeskAdminSite"
