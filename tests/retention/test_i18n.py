"""The Latvian and Russian catalogues are complete, and compiled from their current .po files."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale"
# msgid "..." followed by continuation lines "...", up to the next keyword.
MSGID = re.compile(r'^msgid ((?:"(?:[^"\\]|\\.)*"\s*)+)', re.MULTILINE)


def po_msgids(po: Path) -> set[str]:
    ids = set()
    for match in MSGID.finditer(po.read_text(encoding="utf-8")):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1))
        text = "".join(ast.literal_eval(f'"{part}"') for part in parts)
        if text:  # the empty msgid is the header
            ids.add(text)
    return ids


@pytest.mark.parametrize("language", ["lv", "ru"])
def test_every_message_is_translated_and_compiled(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    with po.with_suffix(".mo").open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    # Keys of entries with a context are "context\x04msgid"; the .po side reads msgids alone.
    compiled = {
        (key[0] if isinstance(key, tuple) else key).split("\x04")[-1]
        for key, text in catalog.items()
        if text
    }
    msgids = po_msgids(po)
    assert len(msgids) > 100
    # msgfmt leaves out fuzzy and untranslated entries, so a gap here is one of those, or a
    # .po edited without `make messages`.
    assert sorted(msgids - compiled) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [("lv", "Notikumu vēsture"), ("ru", "История событий"), ("en", "Timeline")],
)
def test_compiled_catalogues_are_used(language, text):
    with translation.override(language):
        assert translation.gettext("Timeline") == text


@pytest.mark.django_db
def test_the_language_switcher_changes_the_interface(agent_client):
    response = agent_client.post(
        reverse("set_language"), {"language": "ru", "next": "/subscribers/"}
    )
    assert response.status_code == 302
    html = agent_client.get(reverse("subscribers:search")).content.decode()
    assert 'lang="ru"' in html
