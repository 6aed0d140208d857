"""The API token's principal (user, roles, scope, rights) is cached; its liveness and rights changes are not."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.core import principals
from guanxi.core.models import ApiToken, OrgUnit
from guanxi.core.services import BadCredentials, token_issue, token_revoke
from tests.conftest import PASSWORD, Api

pytestmark = pytest.mark.django_db


def bearer(user) -> Api:
    _token, clear = token_issue(username=user.username, password=PASSWORD, client="127.0.0.1")
    return Api(token=clear)


def tables_read(client: Api, path: str) -> tuple[int, str]:
    """The status and the main table of every statement the request ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    mains = [re.search(r'(?:FROM|UPDATE|INTO) "(\w+)"', query["sql"]).group(1) for query in queries.captured_queries]
    return response.status_code, " ".join(mains)


def test_a_known_token_costs_no_statement_for_auth_and_scope(users, customers):
    client = bearer(users.lead1)  # a team scope: roles, permissions and the team's subtree to resolve
    status, first = tables_read(client, f"/customers/{customers.c1.pk}")
    assert status == 200
    assert "auth_group" in first and "core_orgunit" in first
    status, second = tables_read(client, f"/customers/{customers.c1.pk}")
    assert status == 200
    assert "auth_group" not in second and "auth_permission" not in second and "core_orgunit" not in second
    assert "core_apitoken" not in second


def test_a_revoked_token_is_refused_at_once(users, customers):
    token, clear = token_issue(username="am1", password=PASSWORD, client="127.0.0.1")
    client = Api(token=clear)
    assert client.get(f"/customers/{customers.c1.pk}").status_code == 200
    token_revoke(actor=users.admin, token=ApiToken.objects.get(pk=token.pk))  # another process's copy of the token
    assert client.get(f"/customers/{customers.c1.pk}").status_code == 401


def test_revoking_through_the_api_ends_the_cached_token(users, customers):
    client = bearer(users.am1)
    assert client.get("/me").status_code == 200
    assert client.post("/auth/token/revoke").status_code == 204
    assert client.get("/me").status_code == 401


def test_a_deactivated_user_is_refused_at_once(users, customers):
    client = bearer(users.am1)
    assert client.get(f"/customers/{customers.c1.pk}").status_code == 200
    users.am1.is_active = False
    users.am1.save(update_fields=["is_active"])
    assert client.get(f"/customers/{customers.c1.pk}").status_code == 401


def test_a_new_role_counts_on_the_next_request(users, customers):
    client = bearer(users.am1)
    assert client.get(f"/customers/{customers.c2.pk}").status_code == 404  # am2's customer
    users.am1.groups.add(Group.objects.get(name="branch_manager"))
    assert client.get(f"/customers/{customers.c2.pk}").status_code == 200
    users.am1.groups.remove(Group.objects.get(name="branch_manager"))
    assert client.get(f"/customers/{customers.c2.pk}").status_code == 404


def test_moving_a_user_to_another_unit_changes_their_scope_on_the_next_request(users, customers):
    client = bearer(users.lead1)  # team B01-T1: sees am1's customer, not am2's (B01-T2)
    assert client.get(f"/customers/{customers.c2.pk}").status_code == 404
    profile = users.lead1.profile
    profile.org_unit = OrgUnit.objects.get(code="B01-T2")
    profile.save(update_fields=["org_unit"])
    assert client.get(f"/customers/{customers.c2.pk}").status_code == 200
    assert client.get(f"/customers/{customers.c1.pk}").status_code == 404


def test_a_token_revoked_where_this_process_cannot_see_it_is_refused_after_the_recheck_interval(users, customers):
    """Another process with its own cache revokes the token: this one notices at its next database re-check."""
    token, clear = token_issue(username="am1", password=PASSWORD, client="127.0.0.1")
    client = Api(token=clear)
    assert client.get(f"/customers/{customers.c1.pk}").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # no signal, no cache entry dropped

    assert client.get(f"/customers/{customers.c1.pk}").status_code == 200  # within RECHECK_SECONDS
    later = timezone.now() + timedelta(seconds=principals.RECHECK_SECONDS + 1)
    with mock.patch("guanxi.core.services.timezone.now", return_value=later):
        assert client.get(f"/customers/{customers.c1.pk}").status_code == 401


def test_with_redis_down_the_api_serves_and_nothing_raises(users, customers, settings):
    """core.cache: an unreachable Redis is a miss (principal, throttle counters) and a skipped write (generation)."""
    settings.CACHES = {
        "default": {"BACKEND": "guanxi.core.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:1"}
    }
    client = bearer(users.am1)  # throttle.check/succeeded against the dead cache
    assert client.get(f"/customers/{customers.c1.pk}").status_code == 200
    assert client.get(f"/customers/{customers.c1.pk}").status_code == 200  # rebuilt: nothing was cached
    users.am1.groups.add(Group.objects.get(name="branch_manager"))  # principals.forget_all: incr on the dead cache
    with pytest.raises(BadCredentials):
        token_issue(username="am1", password="wrong", client="127.0.0.1")  # throttle.failed: add and incr
