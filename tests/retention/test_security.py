import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_login_works_and_logout_is_post_only(client):
    UserFactory.create(username="ilze", password="a long pass phrase")
    response = client.post(reverse("login"), {"username": "ilze", "password": "a long pass phrase"})
    assert response.status_code == 302
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302


def test_repeated_failed_logins_lock_the_account(client, settings):
    UserFactory.create(username="ilze", password="a long pass phrase")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "ilze", "password": "wrong"})
    # Even the right password is refused while locked out.
    response = client.post(reverse("login"), {"username": "ilze", "password": "a long pass phrase"})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_pages_carry_a_nonce_csp_without_unsafe_inline_or_eval(agent_client):
    response = agent_client.get(reverse("subscribers:search"))
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    match = re.search(r"'nonce-([^']+)'", policy)
    assert match, policy
    nonce = match.group(1)
    html = response.content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert " style=" not in html and "<style" not in html


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "TESTING"}}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    # DJANGO_ALLOW_ASYNC_UNSAFE is for the browser tests' live server; production never sets it.
    unset = {"DEBUG", "TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        DEBUG="false",
        SECRET_KEY="k" * 20 + "-production-like-secret-" + "z9" * 10,
        ALLOWED_HOSTS="desk.example.lv",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
