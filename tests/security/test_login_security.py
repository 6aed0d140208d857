"""Passwords (Argon2, Django's validators), login throttling per account and per IP on the web login and the token
endpoint, and sessions that expire."""

import importlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, Api

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = importlib.import_module("guanxi.settings").PASSWORD_HASHERS


def _token_login(username, password=PASSWORD, ip="10.0.0.1"):
    return Api(ip=ip).post("/auth/token", {"username": username, "password": password})


def _web_login(username, password=PASSWORD, ip="10.0.0.1"):
    client = Client(REMOTE_ADDR=ip)
    return client, client.post("/login/", {"username": username, "password": password})


# --- passwords ----------------------------------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2(users, settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS  # the tests' autouse fixture switches to MD5 for speed
    user = users.am1
    user.set_password("Another-s3cret-pass")
    user.save()

    stored = get_user_model().objects.get(pk=user.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert _web_login("am1", "Another-s3cret-pass")[1].status_code == 302


def test_an_old_pbkdf2_hash_still_logs_in_and_is_upgraded(users, settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    from django.contrib.auth.hashers import make_password

    get_user_model().objects.filter(pk=users.am1.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))

    assert _token_login("am1").status_code == 200
    assert get_user_model().objects.get(pk=users.am1.pk).password.startswith("argon2$")


@pytest.mark.parametrize("weak", ["short1", "password123", "12345678901", "qwertyuiop"])
def test_weak_passwords_are_refused(users, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=users.am1)


def test_the_password_change_page_applies_the_validators(users):
    client = Client()
    client.force_login(users.am1)
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )

    assert response.status_code == 200  # the form again, with errors
    users.am1.refresh_from_db()
    assert users.am1.check_password(PASSWORD)


# --- throttling ---------------------------------------------------------------------------------------------------


def test_the_token_endpoint_throttles_an_account_from_any_address(users, settings):
    for n in range(settings.GUANXI_LOGIN_MAX_FAILURES):
        assert _token_login("am1", "wrong", ip=f"10.0.1.{n}").status_code == 401

    response = _token_login("am1", ip="10.0.2.1")  # right password, new address

    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.GUANXI_LOGIN_WINDOW_SECONDS
    assert _token_login("am2", ip="10.0.2.1").status_code == 200  # other accounts are not locked


def test_the_token_endpoint_throttles_an_address_trying_many_accounts(users, settings):
    settings.GUANXI_LOGIN_MAX_FAILURES_PER_IP = 6
    names = ["am1", "am2", "am3", "lead1", "lead2", "bm1"]
    for name in names:
        assert _token_login(name, "wrong", ip="10.9.9.9").status_code == 401

    assert _token_login("agent1", ip="10.9.9.9").status_code == 429  # a fresh account, the same address
    assert _token_login("agent1", ip="10.9.9.8").status_code == 200  # another address


def test_a_success_does_not_reset_the_address_count(users, settings):
    settings.GUANXI_LOGIN_MAX_FAILURES_PER_IP = 3
    _token_login("am2", "wrong", ip="10.5.5.5")
    _token_login("am3", "wrong", ip="10.5.5.5")
    assert _token_login("am1", ip="10.5.5.5").status_code == 200  # the attacker's own account

    _token_login("lead1", "wrong", ip="10.5.5.5")

    assert _token_login("lead2", ip="10.5.5.5").status_code == 429


def test_the_web_login_throttles_per_account(users, settings):
    for n in range(settings.GUANXI_LOGIN_MAX_FAILURES):
        assert _web_login("am1", "wrong", ip=f"10.0.3.{n}")[1].status_code == 200  # the form with its error

    client, response = _web_login("am1", ip="10.0.4.1")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/customers/").status_code == 302  # still signed out
    assert _web_login("am2", ip="10.0.4.1")[1].status_code == 302


def test_the_web_login_throttles_per_address_and_shares_counts_with_the_api(users, settings):
    settings.GUANXI_LOGIN_MAX_FAILURES_PER_IP = 4
    _token_login("am1", "wrong", ip="10.7.7.7")
    _token_login("am2", "wrong", ip="10.7.7.7")
    _web_login("am3", "wrong", ip="10.7.7.7")
    _web_login("lead1", "wrong", ip="10.7.7.7")

    assert _web_login("lead2", ip="10.7.7.7")[1].status_code == 429
    assert _token_login("lead2", ip="10.7.7.7").status_code == 429


def test_the_throttled_message_is_translated(users, settings):
    settings.GUANXI_LOGIN_MAX_FAILURES = 1
    _web_login("am1", "wrong")
    client = Client(REMOTE_ADDR="10.0.0.1", HTTP_ACCEPT_LANGUAGE="zh-hans")

    response = client.post("/login/", {"username": "am1", "password": PASSWORD})

    assert response.status_code == 429
    assert "失败次数过多" in response.content.decode()


# --- sessions -----------------------------------------------------------------------------------------------------


def test_sessions_expire(users, settings):
    client, response = _web_login("am1")
    assert response.status_code == 302
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and not cookie["max-age"] and not cookie["expires"]
    session = Session.objects.get()
    remaining = session.expire_date - timezone.now()
    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert age - timedelta(seconds=60) < remaining <= age
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert client.get("/customers/").status_code == 200

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))

    assert client.get("/customers/").status_code == 302
    assert Api(token=None).client.get("/api/v1/me").status_code == 401


def test_the_session_lifetime_is_configurable(users, settings):
    settings.SESSION_COOKIE_AGE = 600
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = False
    client, _response = _web_login("am1")

    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 600
    assert Session.objects.get().expire_date - timezone.now() <= timedelta(seconds=600)
