"""API authentication: bearer tokens (hashed, revocable, last-used), login throttling, sessions with CSRF, 401."""

import hashlib
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from guanxi.core.models import ApiToken, AuditLog
from tests.conftest import PASSWORD, Api


def _login(api, username, password=PASSWORD, **extra):
    return api().post("/auth/token", {"username": username, "password": password}, **extra)


def test_it_issues_a_token_for_good_credentials(users, api):
    response = _login(api, "am1")

    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("gx_") and len(body["token"]) > 40
    assert body["prefix"] == body["token"][:8]
    me = Api(token=body["token"]).get("/me")
    assert me.status_code == 200 and me.json()["username"] == "am1"


def test_it_stores_only_the_hash_of_a_token(users, api):
    clear = _login(api, "am1").json()["token"]

    token = ApiToken.objects.get(user=users.am1)
    assert token.key_hash == hashlib.sha256(clear.encode()).hexdigest()
    assert clear not in (token.key_hash, token.prefix, token.name)
    assert not ApiToken.objects.filter(key_hash=clear).exists()
    entry = AuditLog.objects.get(action="token_issue")
    assert entry.actor_id == users.am1.pk and clear not in str(entry.changes) + entry.object_repr


@pytest.mark.parametrize(
    "username, password",
    [("am1", "wrong-password"), ("AM1", PASSWORD), ("nobody", PASSWORD), ("am1", PASSWORD.upper())],
)
def test_it_answers_401_to_bad_credentials(users, api, username, password):
    response = _login(api, username, password)

    assert response.status_code == 401
    assert response.json()["detail"]
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()


def test_it_refuses_a_token_to_an_inactive_user(users, api):
    users.am1.is_active = False
    users.am1.save()

    assert _login(api, "am1").status_code == 401


def test_it_answers_422_to_a_malformed_login(users, api):
    response = api().post("/auth/token", {"username": "", "password": PASSWORD})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "username"


def test_it_records_when_a_token_was_last_used(users, api):
    clear = _login(api, "am1").json()["token"]
    assert ApiToken.objects.get().last_used_at is None

    Api(token=clear).get("/me")
    first = ApiToken.objects.get().last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)

    Api(token=clear).get("/me")  # within a minute: no write on every request
    assert ApiToken.objects.get().last_used_at == first

    later = first + timedelta(minutes=2)
    with mock.patch("guanxi.core.services.timezone.now", return_value=later):
        Api(token=clear).get("/me")
    assert ApiToken.objects.get().last_used_at == later


def test_it_rejects_a_revoked_token(users, api):
    clear = _login(api, "am1").json()["token"]
    other = _login(api, "am1").json()["token"]
    client = Api(token=clear)

    assert client.post("/auth/token/revoke").status_code == 204

    assert client.get("/me").status_code == 401
    assert client.get("/customers").status_code == 401
    assert ApiToken.objects.get(key_hash=hashlib.sha256(clear.encode()).hexdigest()).revoked_at is not None
    assert Api(token=other).get("/me").status_code == 200  # only the one token is revoked
    assert AuditLog.objects.filter(action="token_revoke", actor=users.am1).count() == 1


def test_it_rejects_the_token_of_a_deactivated_user(users, api):
    clear = _login(api, "am1").json()["token"]
    users.am1.is_active = False
    users.am1.save()

    assert Api(token=clear).get("/me").status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer gx_not-a-real-token", "Bearer ", "Token abc", "Basic YW0xOnBhc3M=", "gx_abc"],
)
def test_it_answers_401_to_an_unknown_or_malformed_token(users, header):
    response = Client().get("/api/v1/customers", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/customers"),
        ("post", "/customers"),
        ("get", "/customers/1"),
        ("patch", "/customers/1"),
        ("delete", "/customers/1"),
        ("get", "/customers/1/contacts"),
        ("get", "/contacts/1"),
        ("post", "/customers/transfer"),
        ("get", "/audit?object_type=customers.customer&object_id=1"),
        ("get", "/me"),
        ("get", "/categories"),
        ("get", "/regions"),
        ("post", "/auth/token/revoke"),
    ],
)
def test_it_answers_401_without_credentials(db, method, path):
    response = getattr(Api(), method)(path)

    assert response.status_code == 401
    assert response.json() == {"detail": response.json()["detail"], "errors": []}


def test_it_throttles_repeated_failures_even_with_the_right_password(users, api):
    limit = settings.GUANXI_LOGIN_MAX_FAILURES
    for _attempt in range(limit):
        assert _login(api, "am1", "wrong").status_code == 401

    throttled = _login(api, "am1")

    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) == settings.GUANXI_LOGIN_WINDOW_SECONDS > 0
    assert throttled.json()["detail"]
    assert not ApiToken.objects.exists()
    assert _login(api, "am1", "wrong").status_code == 429
    assert _login(api, "am2").status_code == 200  # other accounts are not locked out


def test_it_throttles_with_a_smaller_configured_limit(users, api, settings):
    settings.GUANXI_LOGIN_MAX_FAILURES = 2
    _login(api, "am1", "wrong")
    _login(api, "am1", "wrong")

    assert _login(api, "am1").status_code == 429


def test_it_throttles_a_username_in_any_letter_case(users, api):
    for _attempt in range(settings.GUANXI_LOGIN_MAX_FAILURES):
        _login(api, "AM1", "wrong")

    assert _login(api, "am1").status_code == 429


def test_it_forgets_failures_after_a_successful_login(users, api):
    for _attempt in range(settings.GUANXI_LOGIN_MAX_FAILURES - 1):
        _login(api, "am1", "wrong")
    assert _login(api, "am1").status_code == 200

    for _attempt in range(settings.GUANXI_LOGIN_MAX_FAILURES - 1):
        _login(api, "am1", "wrong")
    assert _login(api, "am1").status_code == 200


def test_it_lets_bearer_requests_write_without_a_csrf_token(users, api):
    clear = _login(api, "am1").json()["token"]
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/v1/customers",
        {"name": "令牌客户", "kind": "organisation"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {clear}",
    )

    assert response.status_code == 201


def test_it_demands_a_csrf_token_from_session_writes(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users.am1)

    assert client.get("/api/v1/customers").status_code == 200  # safe methods need no token
    refused = client.post(
        "/api/v1/customers", {"name": "会话客户", "kind": "organisation"}, content_type="application/json"
    )
    assert refused.status_code == 403

    client.get("/login/")  # any page that sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/customers",
        {"name": "会话客户", "kind": "organisation"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 201
