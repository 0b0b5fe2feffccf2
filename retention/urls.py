from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from retention import views
from subscribers.api import api_urls

# Every URL needs a logged-in user (LoginRequiredMiddleware) except the ones below, which are
# marked open here and nowhere else; tests/retention/test_urls.py walks the URL configuration
# and holds this list to account.
OPEN_URL_NAMES = frozenset({"login", "health", "set_language", "api-1.0.0:*"})

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", login_not_required(views.health), name="health"),
    path(
        "accounts/login/",
        login_not_required(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/preferences/", views.preferences, name="preferences"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # The API authenticates every call with a billing-system token instead of a session.
    path("api/v1/", api_urls()),
    path("subscribers/", include("subscribers.urls")),
    path("admin/", admin.site.urls),
]
