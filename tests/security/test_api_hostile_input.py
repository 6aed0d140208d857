"""Hostile or broken API input gets the usual error shape in the request's language: never a 500, never an English-only
400, never a CSRF 403 instead of a 401 (all found by the fuzzing in tests/fuzz)."""

import pytest
from django.test import Client

from tests.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lang, message", [("en", "The request body is not valid JSON."), ("zh-hans", "JSON")])
@pytest.mark.parametrize("body", [b"{not json", b"\x00", b"\xff\xfe", b'{"name": "x"'])
def test_a_broken_json_body_is_a_translated_422(users, lang, message, body):
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(users.am1)

    response = client.post("/api/v1/customers", body, content_type="application/json")

    assert response.status_code == 422
    payload = response.json()
    assert set(payload) == {"detail", "errors"}
    assert message in payload["errors"][0]["message"]
    if lang == "zh-hans":
        assert payload["detail"] == "部分字段无效。"


@pytest.mark.parametrize("body", [b"false", b"[]", b'"zh-hans"', b"0", b"null"])
def test_a_json_body_that_is_not_an_object_is_a_422_and_changes_nothing(users, body):
    # PATCH /me has only optional fields: ninja read them as attributes of `false` and answered 200 (found by fuzzing)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(users.am1)
    client.patch("/api/v1/me", {"language": "en", "phone": "13800138000"}, content_type="application/json")

    response = client.patch("/api/v1/me", body, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "__all__", "message": "Enter an object."}]
    assert client.get("/api/v1/me").json()["language"] == "en"


@pytest.mark.parametrize(
    "path",
    ["/regions?parent=1180591620717411303424", "/customers/1180591620717411303424", "/contacts/99999999999999999999"],
)
def test_numbers_too_large_for_the_database_are_invalid_input(users, path):
    response = Api(users.admin).get(path)

    # SQLite cannot hold the number (422); PostgreSQL compares it as a numeric and finds nothing (200 [] or 404).
    assert response.status_code in (200, 404, 422)
    if response.status_code != 200:
        assert set(response.json()) == {"detail", "errors"}


@pytest.mark.parametrize(
    "method, path",
    [("post", "/customers"), ("post", "/auth/token/revoke"), ("patch", "/me"), ("delete", "/contacts/1")],
)
def test_a_write_without_credentials_is_401_not_a_csrf_failure(db, method, path):
    response = getattr(Client(), method)("/api/v1" + path, "{}", content_type="application/json")

    assert response.status_code == 401
    bad_token = getattr(Client(HTTP_AUTHORIZATION="Bearer gx_revoked"), method)(
        "/api/v1" + path, "{}", content_type="application/json"
    )
    assert bad_token.status_code == 401


def test_a_session_write_still_needs_the_csrf_token(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users.am1)

    response = client.patch("/api/v1/me", {"language": "en"}, content_type="application/json")

    assert response.status_code == 403


NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "某公司\x00", "kind": "organisation"}, "name"),
        ({"name": "某公司", "kind": "organisation", "tags": ["医院", "a\x00b"]}, "tags.1"),
    ],
)
def test_a_nul_character_in_a_json_body_is_a_422_naming_the_field_and_nothing_is_written(users, body, field):
    # PostgreSQL cannot store NUL in text: the driver raised, and the API answered "A value is out of range" (DataError)
    # or a 500; refused before any handler runs, on both databases alike.
    from guanxi.customers.models import Customer

    before = Customer.objects.count()

    response = Api(users.am1, lang="en").post("/customers", body)

    assert response.status_code == 422, response.content
    assert response.json() == {
        "detail": "Some fields are invalid.",
        "errors": [{"field": field, "message": NUL_MESSAGE}],
    }
    assert Customer.objects.count() == before


def test_a_nul_character_in_a_query_parameter_is_a_422_naming_it(users):
    response = Api(users.am1, lang="zh-hans").get("/customers", {"q": "某\x00公司", "limit": 10})

    assert response.status_code == 422, response.content
    assert response.json()["errors"] == [{"field": "q", "message": "文本不能包含 NUL 字符（U+0000）。"}]


def test_a_nul_character_in_an_update_changes_nothing(users, customers):
    client = Api(users.am1, lang="en")
    before = client.get(f"/customers/{customers.c1.pk}").json()

    response = client.patch(f"/customers/{customers.c1.pk}", {"version": before["version"], "address": "解放路\x00"})

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "address", "message": NUL_MESSAGE}]
    after = client.get(f"/customers/{customers.c1.pk}").json()
    assert (after["address"], after["version"]) == (before["address"], before["version"])
