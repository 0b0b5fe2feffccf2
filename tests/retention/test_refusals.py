"""Refusal and error pages: in the desk's layout with a way back, a fragment for htmx, one log
line for an expected refusal and the traceback for a failure.

The views below are served only here (this module is their URL configuration, with the desk's
own URLs and error handlers), to raise what a real view might.
"""

import logging

import pytest
from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import translation

from retention import urls as desk_urls
from retention.core import error_pages as refusals
from retention.core.refusals import NotAllowed, WrongState

NAV_QUEUE = '<a href="/queue/"'
HOME_LINK = '<a href="/" class="button primary">'


def _raises_not_allowed(request: HttpRequest):
    raise NotAllowed("This case belongs to Anna Ozola.")


def _raises_wrong_state(request: HttpRequest):
    raise WrongState("Maris Kalnins decided this offer first.")


def _raises_bad_request(request: HttpRequest):
    raise BadRequest("unreadable cursor")


def _raises_not_found(request: HttpRequest):
    raise Http404("no such table")


def _breaks(request: HttpRequest):
    raise RuntimeError("the view broke")


urlpatterns = [
    *desk_urls.urlpatterns,
    path("test/not-allowed/", _raises_not_allowed),
    path("test/wrong-state/", _raises_wrong_state),
    path("test/bad-request/", _raises_bad_request),
    path("test/not-found/", _raises_not_found),
    path("test/breaks/", _breaks),
]
handler400 = desk_urls.handler400
handler403 = desk_urls.handler403
handler404 = desk_urls.handler404
handler500 = desk_urls.handler500

pytestmark = pytest.mark.urls(__name__)


def request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("django")]


# --- The pages ---------------------------------------------------------------------------------


def test_an_agent_opening_approvals_gets_the_403_page_with_the_navigation_and_a_way_back(
    agent_client, django_assert_num_queries
):
    # The session, the user, the user's roles for the navigation.
    with django_assert_num_queries(3):
        response = agent_client.get("/approvals/", HTTP_REFERER="http://testserver/queue/")
    assert response.status_code == 403
    assert [t.name for t in response.templates][:2] == ["403.html", "base.html"]
    page = response.content.decode()
    assert "You cannot open this page" in page
    assert "It is not part of your role." in page
    assert NAV_QUEUE in page  # the desk's navigation for the agent
    assert 'href="/approvals/"' not in page  # and not the manager's
    assert HOME_LINK in page
    assert '<a href="http://testserver/queue/" class="button">Back to the previous page</a>' in page


def test_the_way_back_leads_only_to_a_page_of_the_desk(agent_client):
    foreign = agent_client.get("/approvals/", HTTP_REFERER="https://evil.example/phish")
    assert "Back to the previous page" not in foreign.content.decode()
    none = agent_client.get("/approvals/")
    assert "Back to the previous page" not in none.content.decode()


def test_the_403_page_speaks_the_users_language(agent_client):
    agent_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "lv"
    response = agent_client.get("/approvals/")
    page = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="lv">' in page
    with translation.override("lv"):
        assert translation.gettext("You cannot open this page") in page
        assert translation.gettext("Go to the start page") in page
        assert f">{translation.gettext('Queue')}</a>" in page
    assert "You cannot open this page" not in page


@pytest.mark.parametrize("language", ["lv", "ru"])
def test_every_refusal_page_is_translated(agent_client, language):
    agent_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url, status, heading in [
        ("/test/bad-request/", 400, "The desk could not read this request"),
        ("/approvals/", 403, "You cannot open this page"),
        ("/no-such-page/", 404, "There is nothing at this address"),
        ("/test/wrong-state/", 409, "This cannot be done now"),
    ]:
        response = agent_client.get(url)
        assert response.status_code == status
        page = response.content.decode()
        with translation.override(language):
            translated = translation.gettext(heading)
        assert translated != heading
        assert translated in page
        assert NAV_QUEUE in page


def test_a_missing_case_gets_the_404_page_without_the_developers_message(agent_client):
    response = agent_client.get("/cases/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is nothing at this address" in page
    assert NAV_QUEUE in page
    assert HOME_LINK in page
    assert "No CancellationCase matches" not in page
    assert "no such table" not in agent_client.get("/test/not-found/").content.decode()


def test_a_bad_request_gets_the_400_page_in_the_layout(agent_client):
    response = agent_client.get("/test/bad-request/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "The desk could not read this request" in page
    assert NAV_QUEUE in page


def test_a_request_for_a_foreign_host_gets_the_400_page_not_a_server_error(client):
    # Refused by a middleware before the session, the user or htmx are known.
    response = client.get("/queue/", HTTP_HOST="evil.example", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "The desk could not read this request" in page
    assert "Back to the previous page" not in page


def test_a_refusal_a_view_let_through_is_a_403_that_says_why(agent_client):
    response = agent_client.get("/test/not-allowed/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "This case belongs to Anna Ozola." in page
    assert "It is not part of your role." not in page


def test_a_wrong_state_a_view_let_through_is_a_409_that_says_why(agent_client, caplog):
    caplog.set_level(logging.INFO)
    response = agent_client.get("/test/wrong-state/")
    assert response.status_code == 409
    page = response.content.decode()
    assert "This cannot be done now" in page
    assert "Maris Kalnins decided this offer first." in page
    assert NAV_QUEUE in page
    fragment = agent_client.get("/test/wrong-state/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div class="message error refusal-body" role="alert"')
    first = request_records(caplog)[0]
    assert (first.getMessage(), first.exc_info) == (
        "GET /test/wrong-state/ 409 user=agent reason=Maris Kalnins decided this offer first.",
        None,
    )


def test_an_htmx_request_gets_the_refusal_as_a_fragment(agent_client):
    response = agent_client.get("/approvals/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    page = response.content.decode()
    assert page.lstrip().startswith('<div class="message error refusal-body" role="alert"')
    assert "<html" not in page
    assert NAV_QUEUE not in page
    assert "It is not part of your role." in page


def test_a_stale_form_gets_the_out_of_date_page_in_the_layout_without_inline_style(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post("/queue/claim-next/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page was out of date" in page
    assert NAV_QUEUE in page
    assert "<style" not in page


# --- The log -----------------------------------------------------------------------------------


def test_an_expected_403_is_logged_as_one_line_without_a_traceback(agent_client, caplog):
    caplog.set_level(logging.INFO)
    agent_client.get("/approvals/")
    [record] = request_records(caplog)
    assert record.name == "django.request"
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == "GET /approvals/ 403 user=agent reason=PermissionDenied"
    assert "\n" not in caplog.text.strip()


def test_a_refusal_logs_its_reason_and_a_404_its_address(agent_client, caplog):
    caplog.set_level(logging.INFO)
    agent_client.get("/test/not-allowed/")
    agent_client.get("/no-such-page/")
    agent_client.get("/cases/999999/")
    agent_client.get("/test/bad-request/")
    assert [(r.getMessage(), r.exc_info) for r in request_records(caplog)] == [
        ("GET /test/not-allowed/ 403 user=agent reason=This case belongs to Anna Ozola.", None),
        ("GET /no-such-page/ 404 user=agent reason=no such address", None),
        (
            "GET /cases/999999/ 404 user=agent reason=No CancellationCase matches the given query.",
            None,
        ),
        ("GET /test/bad-request/ 400 user=agent reason=unreadable cursor", None),
    ]


def test_a_line_break_in_the_address_cannot_forge_a_log_line(agent_client, caplog):
    caplog.set_level(logging.INFO)
    agent_client.get("/no-such-page/%0AERROR fake entry")
    [record] = request_records(caplog)
    assert "\n" not in record.getMessage()
    assert "\\nERROR fake entry" in record.getMessage()


# --- The 500 -----------------------------------------------------------------------------------


def test_a_failing_view_gets_the_500_page_and_its_traceback_is_logged(agent_client, caplog):
    agent_client.raise_request_exception = False
    caplog.set_level(logging.INFO)
    response = agent_client.get("/test/breaks/", HTTP_REFERER="http://testserver/queue/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert HOME_LINK in page
    assert "Back to the previous page" in page
    assert 'class="topbar"' in page
    [record] = request_records(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_the_500_page_needs_neither_the_database_nor_the_request_context(
    db, django_assert_num_queries
):
    request = RequestFactory().get("/queue/")  # no session, no user, no htmx
    with django_assert_num_queries(0), translation.override("ru"):
        response = refusals.server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="ru">' in page
    with translation.override("ru"):
        assert translation.gettext("Something went wrong on our side") in page


def test_the_500_page_falls_back_to_plain_text_when_its_template_breaks(monkeypatch, caplog):
    def broken(name):
        raise RuntimeError("template engine down")

    monkeypatch.setattr(refusals.loader, "get_template", broken)
    response = refusals.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert response.content.decode() == refusals.BARE_500
    assert "500.html could not be rendered" in caplog.text


def test_a_log_line_reaches_the_console_once_also_under_debug():
    """Django's "django" logger brings a console handler of its own for DEBUG and propagates to
    the root's as well: every traceback was printed twice."""
    django_logger = logging.getLogger("django")
    assert django_logger.handlers == []
    assert django_logger.propagate
