from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

import retention.billing.api
import retention.cases.api  # noqa: F401  registers /api/v1/cancellations
from retention.cases.views import (
    case_claim,
    case_open,
    case_release,
    claim_next,
    my_cases,
    reassign,
)
from retention.dashboard import views as dashboard_views
from retention.experiments import views as experiment_views
from retention.hardship import views as hardship_views
from retention.notifications.views import (
    notification_read,
    notifications,
    notifications_count,
    notifications_read_all,
)
from retention.outreach.views import (
    CAMPAIGN_ACTIONS,
    campaign_action,
    campaign_create,
    campaign_detail,
    campaign_edit,
    campaign_launch,
    campaign_test,
    campaigns,
    outreach_link,
    outreach_stop,
    outreach_stop_one_click,
)
from retention.queue import views as queue_views
from retention.risk.views import risk_model
from retention.saves import views as save_views
from retention.saves.services import Decision
from retention.system.views import health, home, preferences
from retention.workspace.views import (
    CASE_ACTIONS,
    STEP_FORMS,
    case_action,
    case_compose,
    case_detail,
    offer_step,
)
from subscribers.api import api_urls

# Every URL needs a logged-in user (LoginRequiredMiddleware) except the ones below, which are
# marked open here and nowhere else; tests/retention/test_urls.py walks the URL configuration
# and holds this list to account.
OPEN_URL_NAMES = frozenset(
    {
        "login",
        "health",
        "set_language",
        "outreach_link",
        "outreach_stop",
        "outreach_stop_one_click",
        "api-1.0.0:*",
    }
)

# Refusals and failures in the desk's layout (retention.core.error_pages).
handler400 = "retention.core.error_pages.bad_request"
handler403 = "retention.core.error_pages.permission_denied"
handler404 = "retention.core.error_pages.page_not_found"
handler500 = "retention.core.error_pages.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("health/", login_not_required(health), name="health"),
    path(
        "accounts/login/",
        login_not_required(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/preferences/", preferences, name="preferences"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # The API authenticates every call with a billing-system token instead of a session.
    path("api/v1/", api_urls()),
    path("queue/", queue_views.queue, name="queue"),
    path("queue/views/", queue_views.queue_views_list, name="queue_views"),
    path("queue/views/save/", queue_views.saved_view_create, name="saved_view_create"),
    path("queue/views/<int:pk>/rename/", queue_views.saved_view_rename, name="saved_view_rename"),
    path("queue/views/<int:pk>/update/", queue_views.saved_view_update, name="saved_view_update"),
    path("queue/views/<int:pk>/delete/", queue_views.saved_view_delete, name="saved_view_delete"),
    path("queue/bulk/", queue_views.queue_bulk, name="queue_bulk"),
    path("queue/callbacks/", queue_views.callbacks, name="callbacks"),
    path("queue/claim-next/", claim_next, name="claim_next"),
    path("queue/reassign/", reassign, name="reassign"),
    path("my-cases/", my_cases, name="my_cases"),
    path("cases/open/<int:subscriber_pk>/", case_open, name="case_open"),
    path("cases/<int:pk>/", case_detail, name="case"),
    path("cases/<int:pk>/claim/", case_claim, name="case_claim"),
    path("cases/<int:pk>/release/", case_release, name="case_release"),
    path("cases/<int:pk>/compose/", case_compose, name="case_compose"),
    # Routine actions on a case: one view, the action named here (see CASE_ACTIONS).
    *(
        path(
            f"cases/<int:pk>/{action}/",
            case_action,
            {"action": action},
            name=f"case_{action}",
        )
        for action in CASE_ACTIONS
    ),
    # The save workflow: approvals, delegation, proactive offers, the steps of an offer.
    path("approvals/", save_views.approvals, name="approvals"),
    *(
        path(
            f"approvals/<int:pk>/{decision}/",
            save_views.offer_decide,
            {"decision": decision},
            name=f"offer_{decision}",
        )
        for decision in Decision
    ),
    path("approvals/<int:pk>/amend/form/", save_views.offer_amend_form, name="offer_amend_form"),
    path("approvals/delegation/", save_views.delegation, name="delegation"),
    path("approvals/delegation/<int:pk>/end/", save_views.delegation_end, name="delegation_end"),
    path(
        "subscribers/<int:subscriber_pk>/offers/",
        save_views.subscriber_offers,
        name="subscriber_offers",
    ),
    path(
        "subscribers/<int:subscriber_pk>/hardship/",
        hardship_views.subscriber_hardship,
        name="subscriber_hardship",
    ),
    path(
        "subscribers/<int:subscriber_pk>/offers/pause-price/",
        save_views.subscriber_pause_price,
        name="subscriber_pause_price",
    ),
    path(
        "subscribers/<int:subscriber_pk>/offers/propose/",
        save_views.subscriber_offer_propose,
        name="subscriber_offer_propose",
    ),
    *(
        path(f"offers/<int:pk>/{step}/", offer_step, {"step": step}, name=f"offer_{step}")
        for step in STEP_FORMS
    ),
    # Background work: notifications and the bell, outreach campaigns.
    path("notifications/", notifications, name="notifications"),
    path("notifications/count/", notifications_count, name="notifications_count"),
    path(
        "notifications/<int:pk>/read/",
        notification_read,
        name="notification_read",
    ),
    path(
        "notifications/read-all/",
        notifications_read_all,
        name="notifications_read_all",
    ),
    path("dashboard/", dashboard_views.dashboard_page, name="dashboard"),
    path("dashboard/cases/", dashboard_views.dashboard_cases, name="dashboard_cases"),
    path(
        "dashboard/export/<slug:name>.csv",
        dashboard_views.dashboard_export,
        name="dashboard_export",
    ),
    path(
        "dashboard/tariff-fit/<slug:verdict>/",
        dashboard_views.tariff_fit_list,
        name="dashboard_tariff_fit",
    ),
    path("dashboard/risk-model/", risk_model, name="risk_model"),
    path("dashboard/experiments/", experiment_views.experiments, name="experiments"),
    path("dashboard/experiments/new/", experiment_views.experiment_start, name="experiment_start"),
    path("dashboard/experiments/<int:pk>/", experiment_views.experiment_detail, name="experiment"),
    path(
        "dashboard/experiments/<int:pk>/stop/",
        experiment_views.experiment_stop,
        name="experiment_stop",
    ),
    path("dashboard/me/", dashboard_views.agent_figures, name="my_figures"),
    path("dashboard/agents/<int:pk>/", dashboard_views.agent_figures, name="agent_figures"),
    path("outreach/", campaigns, name="campaigns"),
    path("outreach/new/", campaign_create, name="campaign_create"),
    path("outreach/<int:pk>/", campaign_detail, name="campaign"),
    path("outreach/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("outreach/<int:pk>/launch/", campaign_launch, name="campaign_launch"),
    path("outreach/<int:pk>/test/", campaign_test, name="campaign_test"),
    *(
        path(
            f"outreach/<int:pk>/{action}/",
            campaign_action,
            {"action": action},
            name=f"campaign_{action}",
        )
        for action in CAMPAIGN_ACTIONS
    ),
    # The subscriber's personal link from an outreach message: the signed token is the key.
    path("o/<str:token>/", login_not_required(outreach_link), name="outreach_link"),
    # "Stop contacting me" from any outreach message, and the e-mail's one-click unsubscribe.
    path("stop/<str:token>/", login_not_required(outreach_stop), name="outreach_stop"),
    path(
        "stop/<str:token>/one-click/",
        login_not_required(outreach_stop_one_click),
        name="outreach_stop_one_click",
    ),
    path("subscribers/", include("subscribers.urls")),
    path("admin/", admin.site.urls),
]
