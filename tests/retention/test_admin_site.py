"""The admin's JavaScript catalogue, in the admin user's language: the date fields' "Today (…)"
shortcut and the calendar's other accessible names, which Django 6.1's own Latvian and Russian
catalogues lack, are said by the desk's catalogue (retention.admin_site)."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from retention import admin_site
from retention.admin_site import MISSING_FROM_DJANGO

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def admin_catalogue(client, language: str) -> dict[str, str | list[str]]:
    """The admin's JavaScript catalogue as the admin's pages load it, in ``language``."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("admin:jsi18n"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    return response.context["catalog"]


@pytest.mark.parametrize("language", ["lv", "ru"])
def test_the_today_shortcut_is_named_by_the_desk_s_catalogue_in_the_admin_s_language(
    admin_client, language
):
    catalogue = admin_catalogue(admin_client, language)
    with translation.override(language):
        for msgid in MISSING_FROM_DJANGO:
            assert catalogue[msgid] == translation.gettext(msgid), msgid
        # The visible word is Django's own translation, as before.
        assert catalogue["Today"] == translation.gettext("Today") != "Today"


def test_each_admin_hears_their_own_language(admin_client, monkeypatch):
    # A stand-in for the translations to come: it says which language it was asked in.
    monkeypatch.setattr(
        admin_site, "gettext", lambda msgid: f"[{translation.get_language()}] {msgid}"
    )
    assert admin_catalogue(admin_client, "lv")["Today (%(date)s)"] == "[lv] Today (%(date)s)"
    assert admin_catalogue(admin_client, "ru")["Today (%(date)s)"] == "[ru] Today (%(date)s)"


def test_django_s_own_translation_wins_where_it_has_one(admin_client, monkeypatch):
    monkeypatch.setattr(admin_site, "MISSING_FROM_DJANGO", ("Today",))
    monkeypatch.setattr(admin_site, "gettext", lambda msgid: "the desk's")
    assert admin_catalogue(admin_client, "lv")["Today"] == "Šodien"


def test_the_catalogue_is_for_staff_only(client):
    response = client.get(reverse("admin:jsi18n"))
    assert response.status_code == 302 and "/login/" in response["Location"]
