"""Shared fixtures: a small organisation with one named user per role, API clients and customer factories.

Organisation (codes as in the demo):

    GX company ─┬─ B01 branch ── B01-KF department ─┬─ B01-T1 team  (lead1, am1)
                │                                   ├─ B01-T2 team  (lead2, am2)
                │                                   └─ B01-T3 team  (agent1)
                │   bm1 and analyst1 sit on B01 itself
                └─ B02 branch ── B02-KF department ─┬─ B02-T1 team  (lead3, am3)
                                                    └─ B02-T3 team  (agent2)
                    bm2 and analyst2 sit on B02 itself
    admin and exec1 sit on GX.
"""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from stdnum.cn import ric, uscc

from guanxi.core.models import AuditLog, OrgUnit
from guanxi.core.services import user_create
from guanxi.customers import services as customer_services
from guanxi.customers.models import Contact, Customer

PASSWORD = "s3cret-Guanxi!"

# username → (role, org unit code)
USERS = {
    "admin": ("admin", "GX"),
    "exec1": ("executive", "GX"),
    "bm1": ("branch_manager", "B01"),
    "bm2": ("branch_manager", "B02"),
    "lead1": ("team_lead", "B01-T1"),
    "lead2": ("team_lead", "B01-T2"),
    "lead3": ("team_lead", "B02-T1"),
    "am1": ("account_manager", "B01-T1"),
    "am2": ("account_manager", "B01-T2"),
    "am3": ("account_manager", "B02-T1"),
    "agent1": ("service_agent", "B01-T3"),
    "agent2": ("service_agent", "B02-T3"),
    "analyst1": ("analyst", "B01"),
    "analyst2": ("analyst", "B02"),
}


def pytest_configure(config):
    config.addinivalue_line("markers", "postgresql: needs PostgreSQL (row locks, real concurrency)")


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="concurrency is only meaningful on PostgreSQL (set DATABASE_URL)")
    if connection.vendor != "postgresql":
        for item in items:
            if "postgresql" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    """Login throttling counts failures in the cache: every test starts and ends with none."""
    cache.clear()
    yield
    cache.clear()


# --- organisation and users ---------------------------------------------------------------------------------


def build_org() -> dict[str, OrgUnit]:
    units: dict[str, OrgUnit] = {}

    def unit(code, kind, parent=None, name=None):
        units[code] = OrgUnit.objects.create(code=code, name=name or code, kind=kind, parent=parent)
        return units[code]

    company = unit("GX", OrgUnit.Kind.COMPANY, name="示范市供电公司")
    for branch_code, teams in (("B01", ("T1", "T2", "T3")), ("B02", ("T1", "T3"))):
        branch = unit(branch_code, OrgUnit.Kind.BRANCH, company)
        dept = unit(f"{branch_code}-KF", OrgUnit.Kind.DEPARTMENT, branch)
        for team in teams:
            unit(f"{branch_code}-{team}", OrgUnit.Kind.TEAM, dept)
    return units


def build_users() -> dict:
    return {
        name: user_create(username=name, password=PASSWORD, role=role, org_unit_code=unit, full_name=name.upper())
        for name, (role, unit) in USERS.items()
    }


@pytest.fixture
def org(db):
    return SimpleNamespace(**{code.replace("-", "_"): unit for code, unit in build_org().items()})


@pytest.fixture
def users(org):
    """Every named user of USERS (a SimpleNamespace: users.am1, users.bm2 …)."""
    return SimpleNamespace(**build_users())


def fresh(user):
    """The user re-read from the database (scope and permission caches live on the object)."""
    return get_user_model().objects.get(pk=user.pk)


# --- API clients ----------------------------------------------------------------------------------------------


class Api:
    """A django.test.Client speaking JSON to /api/v1, signed in by session or by bearer token."""

    prefix = "/api/v1"

    def __init__(self, user=None, *, token: str | None = None, lang: str | None = None, ip: str | None = None):
        self.client = Client()
        self.extra: dict[str, str] = {}
        if user is not None:
            self.client.force_login(user)
        if token:
            self.extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if lang:
            self.extra["HTTP_ACCEPT_LANGUAGE"] = lang
        if ip:
            self.extra["REMOTE_ADDR"] = ip

    def _url(self, path: str) -> str:
        return path if path.startswith(self.prefix) else self.prefix + path

    def get(self, path, params=None, **extra):
        return self.client.get(self._url(path), params or {}, **self.extra, **extra)

    def post(self, path, json=None, **extra):
        return self.client.post(
            self._url(path), json if json is not None else {}, content_type="application/json", **self.extra, **extra
        )

    def patch(self, path, json=None, **extra):
        return self.client.patch(self._url(path), json or {}, content_type="application/json", **self.extra, **extra)

    def delete(self, path, **extra):
        return self.client.delete(self._url(path), **self.extra, **extra)


@pytest.fixture
def api():
    """api(user) → an Api signed in as `user` (session); api() → anonymous; keyword args as for Api."""
    return lambda user=None, **kwargs: Api(user, **kwargs)


# --- valid identifiers ------------------------------------------------------------------------------------------

_serial = itertools.count(1)


def credit_code(serial: int | None = None, region: str = "110105") -> str:
    """A valid 统一社会信用代码 (GB 32100): 9 1 <region> <9-character organisation code> <check>."""
    serial = next(_serial) if serial is None else serial
    body = f"91{region}{serial:08d}X"
    return body + uscc.calc_check_digit(body)


def id_number(serial: int | None = None, birth: str = "19800101", region: str = "110101") -> str:
    """A valid 居民身份证号码 (GB 11643) with a real birth date and place."""
    serial = next(_serial) if serial is None else serial
    body = f"{region}{birth}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check character


# --- customers ----------------------------------------------------------------------------------------------------

_names = itertools.count(1)


def make_customer(actor, **data) -> Customer:
    """A customer created through the service, as `actor` (defaults: an organisation with a unique name)."""
    data.setdefault("name", f"测试客户{next(_names):04d}")
    data.setdefault("kind", "organisation")
    return customer_services.customer_create(actor=fresh(actor), data=data)


def make_contact(actor, customer, **data) -> Contact:
    data.setdefault("name", f"联系人{next(_names):04d}")
    return customer_services.contact_create(actor=fresh(actor), customer_id=customer.pk, data=data)


@pytest.fixture
def customers(users):
    """One customer per account manager (am1: B01-T1, am2: B01-T2, am3: B02-T1), plus a sensitive one of am1's."""
    return SimpleNamespace(
        c1=make_customer(users.am1, name="甲一电力客户"),
        c2=make_customer(users.am2, name="乙二电力客户"),
        c3=make_customer(users.am3, name="丙三电力客户"),
        sensitive=make_customer(users.bm1, name="敏感客户", owner_id=users.am1.pk, sensitive=True),
    )


def audit_count(**filters) -> int:
    return AuditLog.objects.filter(**filters).count()


def errors_by_field(response) -> dict[str, list[str]]:
    """{field: [message, …]} from a 4xx JSON body."""
    found: dict[str, list[str]] = {}
    for error in response.json().get("errors", []):
        found.setdefault(error["field"], []).append(error["message"])
    return found


def race(*works):
    """Run the works on one thread each, released together by a barrier (each with its own database connection, closed
    after); return their results or the exceptions they raised, in order. For PostgreSQL race tests."""
    barrier = threading.Barrier(len(works))

    def run(work):
        try:
            barrier.wait(timeout=30)
            return work()
        except Exception as exc:  # noqa: BLE001 - each racer's outcome is what the test inspects
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(works)) as pool:
        return list(pool.map(run, works))
