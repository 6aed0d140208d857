"""Production settings: `guanxi check --deploy` has nothing to say, the development key is refused, and the security
headers (CSP, frame options, referrer policy, nosniff, COOP) are on every page."""

import os
import re
import secrets
import subprocess  # noqa: S404 (runs our own command)
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

GUANXI = [sys.executable, "-m", "guanxi.cli"]


def _guanxi(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GUANXI_")
        # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests' conftest for Playwright, not part of a deployment
        and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    environ.update(GUANXI_HOME=str(tmp_path), **env)
    return subprocess.run(  # noqa: S603 (fixed command, our own arguments)
        [*GUANXI, *args], env=environ, capture_output=True, text=True, timeout=120, check=False
    )


def _production(**extra: str) -> dict[str, str]:
    return {
        "GUANXI_ENV": "production",
        "GUANXI_SECRET_KEY": secrets.token_urlsafe(50),
        "GUANXI_ALLOWED_HOSTS": "crm.example.cn",
        **extra,
    }


def test_check_deploy_is_silent_in_production(tmp_path):
    result = _guanxi(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **_production())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_is_silent_behind_a_tls_proxy(tmp_path):
    env = _production(GUANXI_PROXY_SSL_HEADER="X-Forwarded-Proto")
    result = _guanxi(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_does_warn_about_development_settings(tmp_path):
    """The test above can fail: without GUANXI_ENV=production the same check has warnings."""
    result = _guanxi(tmp_path, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS


@pytest.mark.parametrize(
    "env",
    [
        {"GUANXI_SECRET_KEY": ""},  # unset: the development default
        {"GUANXI_SECRET_KEY": "guanxi-insecure-development-key-change-me"},
        {"GUANXI_SECRET_KEY": "too-short"},
        {"GUANXI_DEBUG": "1"},
        {"GUANXI_FAST_PASSWORD_HASHER": "1"},
    ],
)
def test_production_refuses_to_start_with_unsafe_settings(tmp_path, env):
    settings = _production(**env)
    if not settings["GUANXI_SECRET_KEY"]:
        del settings["GUANXI_SECRET_KEY"]

    result = _guanxi(tmp_path, "check", **settings)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_production_settings_values():
    """The production block, evaluated in a fresh interpreter (the test process runs development settings)."""
    code = (
        "from django.conf import settings as s; import django; django.setup();"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_PROXY_SSL_HEADER, s.PASSWORD_HASHERS[0].rsplit('.', 1)[1])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    env.update(_production(GUANXI_PROXY_SSL_HEADER="X-Forwarded-Proto"), DJANGO_SETTINGS_MODULE="guanxi.settings")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "31536000",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "Argon2PasswordHasher",
    ], result.stderr


def test_every_page_carries_the_security_headers(users):
    client = Client()
    client.force_login(users.am1)
    for url in ("/login/", "/customers/", "/api/v1/me", "/api/v1/docs"):
        response = client.get(url)
        csp = response.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp, url
        assert re.search(r"script-src 'self'( 'nonce-[^']+')?(;|$)", csp), csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
        assert "'unsafe-eval'" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
