"""API fuzzing: Schemathesis generates requests for EVERY operation of /api/v1/openapi.json (valid and invalid ones)
and checks the answers: no 5xx, each response conforms to the documented schema, each status code and content type
is one the operation documents, invalid input is rejected.

It runs inside pytest through the WSGI app (the test database, no server), signed in by bearer token as two roles
with different scopes: admin (everything) and account_manager (own customers). New routers are picked up by
themselves: the operations come from the schema. Examples per operation and role: GUANXI_FUZZ_EXAMPLES (default 10),
half valid (positive) and half invalid (negative) requests. One test per role loops over the operations, so the data
is built once per role, and reports every operation that failed.

Path ids: an even generated id is replaced by a real record's id (so the handlers' real paths run, not only 404s),
an odd one is kept (absent records).

Bounded and deterministic (derandomized, fixed examples): marked `fuzz`, left out of the default `pytest` run and run
by .ci/run as its own step (`pytest -m fuzz tests/fuzz`, about 3 minutes on SQLite; see docs/operations.md).
"""

import logging
import os
import warnings

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

from guanxi.core import services as core_services
from guanxi.wsgi import application
from tests.conftest import fresh, make_contact, make_customer

EXAMPLES = int(os.environ.get("GUANXI_FUZZ_EXAMPLES", "10"))
ROLES = {"admin": "admin", "account_manager": "am1"}

# positive_data_acceptance expects every schema-valid request to succeed; Guanxi answers 422 to requests that are
# well-formed but break a domain rule (a customer that does not exist, an end before the start, a stale cursor): that
# 422 is documented on every such operation, so the check is left out (every other default check runs).
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

# Failures of operations that were being built while this run went into CI, reported to their authors instead of
# being fixed here: printed as warnings, not counted. Every other operation must pass. Remove an entry once fixed.
REPORTED: dict[str, str] = {}


def _real_ids(users, customers) -> dict[str, list[int]]:
    """Path parameter name → ids of real records, in and out of the role's scope."""
    from guanxi.imports.models import ImportJob

    twin = make_customer(users.am1, name=customers.c1.name + "分公司", address="北京市朝阳区")
    contacts = [make_contact(users.am1, customers.c1, mobile="13800138000"), make_contact(users.am3, customers.c3)]
    job = ImportJob.objects.create(kind="customers", format="csv", original_name="a.csv", created_by=users.am1)
    return {
        "customer_id": [customers.c1.pk, customers.c3.pk, twin.pk, customers.sensitive.pk],
        "contact_id": [c.pk for c in contacts],
        "job_id": [job.pk],
    }


pytestmark = pytest.mark.fuzz


def _date_parameters(operation) -> set[str]:
    """Query and path parameters documented as a date or date-time."""
    found = set()
    for parameter in operation.definition.raw.get("parameters", []):
        schema = parameter.get("schema", {})
        formats = {schema.get("format")} | {option.get("format") for option in schema.get("anyOf", [])}
        if formats & {"date", "date-time"}:
            found.add(parameter["name"])
    return found


def _only_tolerated_mutations(case, date_parameters: set[str]) -> bool:
    """Whether every invalid part of a negative case is one the API tolerates on purpose, so accepting it is no
    finding: the Authorization header (replaced by the role's real token before sending) and a number where a
    parameter takes a date (pydantic reads it as Unix time, e.g. ?date_to=1700000000; every other malformed date is
    a 422)."""
    mutations = getattr(getattr(getattr(case.meta, "phase", None), "data", None), "mutations", ())
    if not mutations:
        return False
    for mutation in mutations:
        if mutation.parameter_location == ParameterLocation.HEADER and mutation.parameter == "Authorization":
            continue
        if mutation.parameter in date_parameters and isinstance(mutation.new_value, int | float):
            continue
        return False
    return True


@pytest.fixture(autouse=True)
def _eager_celery():
    """Import jobs run in-process instead of waiting on a broker."""
    from guanxi.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def wsgi_transactions():
    """Keep the test's transaction across WSGI calls: Django closes 'old' connections around each request, which
    would end the test transaction (the test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # every 4xx would be logged as a warning, every 5xx as an error
    yield
    logger.setLevel(level)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _token(user) -> str:
    from tests.conftest import PASSWORD

    _token_obj, clear = core_services.token_issue(username=user.username, password=PASSWORD, client="fuzz")
    return clear


def _summary(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return " | ".join(lines[:12])[:1500]


def _checker(operation, headers: dict, real_ids: dict):
    """A Hypothesis test of one operation: valid and invalid requests, each answer validated."""
    date_parameters = _date_parameters(operation)

    @given(
        case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    )
    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        # An even generated id becomes a real record's id (in or out of scope), an odd one stays (absent).
        for name, value in list((case.path_parameters or {}).items()):
            ids = real_ids.get(name)
            if ids and isinstance(value, int) and value % 2 == 0:
                case.path_parameters[name] = ids[(value // 2) % len(ids)]
        excluded = EXCLUDED_CHECKS
        if _only_tolerated_mutations(case, date_parameters):
            excluded = [*EXCLUDED_CHECKS, schemathesis.checks.negative_data_rejection]
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    return check


@pytest.mark.parametrize("role", sorted(ROLES))
def test_api_conforms_to_its_schema(role, users, customers, wsgi_transactions):
    user = fresh(getattr(users, ROLES[role]))
    real_ids = _real_ids(users, customers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30  # the whole API, not an empty schema
    failures = []
    for operation in operations:
        headers = {"Authorization": f"Bearer {_token(user)}", "Accept-Language": "en"}  # revoke may end the last
        try:
            _checker(operation, headers, real_ids)()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (collected, reported together below)
            if operation.label in REPORTED:
                warnings.warn(f"{operation.label} ({REPORTED[operation.label]}): {_summary(exc)}", stacklevel=1)
                continue
            failures.append(f"{operation.label}: {_summary(exc)}")
    assert failures == [], f"{len(failures)} of {len(operations)} operations failed:\n" + "\n\n".join(failures)
