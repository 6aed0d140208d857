"""The access-control matrix, generated from the routes.

Every API operation (from the NinjaAPI's OpenAPI document) and every UI page (from the urlpatterns) is called by one
user of each role, on a record in the user's scope and on one outside it; the answer must be what the table below
declares: OK (2xx, or a redirect for a page), DENY (403) or GONE (404). The expectation of each operation is declared
ONCE, in OPERATIONS / PAGES; an operation or page missing from the table fails the test, so every new endpoint must be
declared here (with the rule its code means to enforce).

Records: "in" is a customer of am1 (team B01-T1) and its contact/import job/…, which every chosen user can see
(admin, exec1: all; bm1, agent1, analyst1: branch B01; lead1: team B01-T1; am1: own); "out" is am3's in branch B02,
which only admin and exec1 see. Whatever a role is allowed to read, the out-of-scope customer's name must not appear in
the answer unless the role sees it.

Each call runs in a savepoint that is rolled back: every call starts from the same data.
"""

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from guanxi.api import api
from guanxi.core.models import SavedFilter
from guanxi.imports.models import ImportJob
from tests.conftest import make_contact, make_customer

pytestmark = pytest.mark.django_db

ROLE_USERS = {
    "admin": "admin",
    "executive": "exec1",
    "branch_manager": "bm1",
    "team_lead": "lead1",
    "account_manager": "am1",
    "service_agent": "agent1",
    "analyst": "analyst1",
}
ROLES = list(ROLE_USERS)
SEES_ALL = {"admin", "executive"}
WRITERS = {"admin", "branch_manager", "team_lead", "account_manager"}  # customers.change_customer and friends
TRANSFERRERS = {"admin", "branch_manager", "team_lead"}

OK, DENY, GONE, NOT_ALLOWED, INVALID = "ok", 403, 404, 405, 422
REACHED = "reached"  # past the access checks: 2xx, or 409/422 from the record's state or the input


# --- the rules, as functions of (role, scope) → outcome ----------------------------------------------------------


def anyone(role, scope):
    """Any signed-in user: the answer is scoped (lists) or about the user themself."""
    return OK


def read(role, scope):
    """Reading one record: 404 outside the user's scope."""
    return OK if scope == "in" or role in SEES_ALL else GONE


def write(role, scope):
    """Changing a record: 403 without the right (checked first), then 404 for a record the user cannot see."""
    if role not in WRITERS:
        return DENY
    return OK if scope == "in" or role in SEES_ALL else GONE


def create(role, scope):
    """Creating: 403 without the right; a body naming an out-of-scope record (parent) is invalid input (422)."""
    if role not in WRITERS:
        return DENY
    return OK if scope == "in" or role in SEES_ALL else INVALID


def transfer(role, scope):
    """Transfer to an owner out of the user's scope: 422 on to_user_id."""
    if role not in TRANSFERRERS:
        return DENY
    return OK if scope == "in" or role in SEES_ALL else INVALID


def own_job(role, scope):
    """Import jobs are seen by the user who uploaded them (am1 / am3) and by admins."""
    if role == "admin":
        return OK
    return OK if (scope == "in" and role == "account_manager") else GONE


def own_job_write(role, scope):
    """Acting on an import job: the uploader or an admin get past the access check (the job's state then decides:
    REACHED = 2xx, 409 or 422); anyone else gets 404."""
    return REACHED if own_job(role, scope) == OK else GONE


def admin_only_page(role, scope):
    return OK if role == "admin" else DENY


# --- the table: operation → (rule, request builder) -------------------------------------------------------------


@dataclass
class Op:
    rule: object
    body: object = None  # f(ctx, scope) → JSON body (or a dict of form fields with multipart=True)
    query: object = None  # f(ctx, scope) → query parameters
    multipart: bool = False
    anonymous_ok: bool = False  # answers without signing in (the token endpoint)


def _customer_patch(ctx, scope):
    return {"version": ctx.customer(scope).version, "address": "新地址"}


def _contact_body(ctx, scope):
    return {"name": "新联系人"}


def _contact_patch(ctx, scope):
    return {"version": ctx.contact(scope).version, "title": "经理"}


def _merge_body(ctx, scope):
    survivor, merged = ctx.customer(scope), ctx.twin(scope)
    return {"merged_id": merged.pk, "version": survivor.version, "merged_version": merged.version}


def _transfer_body(ctx, scope):
    owner = ctx.users.am1 if scope == "in" else ctx.users.am3
    return {"to_user_id": owner.pk, "customer_ids": [ctx.customer(scope).pk]}


def _import_upload(ctx, scope):
    return {"kind": "customers", "file": SimpleUploadedFile("c.csv", "客户名称\n矩阵导入公司\n".encode())}


OPERATIONS: dict[str, Op] = {
    "POST /auth/token": Op(
        anyone, body=lambda ctx, scope: {"username": ctx.username, "password": ctx.password}, anonymous_ok=True
    ),
    "POST /auth/token/revoke": Op(anyone),
    "GET /me": Op(anyone),
    "PATCH /me": Op(anyone, body=lambda ctx, scope: {"language": "en"}),
    "GET /audit": Op(  # a record's history: whoever sees the record (core.audit_access)
        read,
        query=lambda ctx, scope: {"object_type": "customers.customer", "object_id": str(ctx.customer(scope).pk)},
    ),
    "GET /search": Op(anyone, query=lambda ctx, scope: {"q": ctx.customer(scope).name}),
    "GET /customers/duplicates": Op(anyone),
    "POST /customers/duplicate-check": Op(anyone, body=lambda ctx, scope: {"name": ctx.customer(scope).name}),
    "POST /customers/{customer_id}/merge": Op(write, body=_merge_body),
    "GET /customers/export": Op(anyone),
    "GET /customers/{customer_id}/contacts.vcf": Op(read),
    "GET /customers": Op(anyone),
    "POST /customers": Op(
        create, body=lambda ctx, scope: {"name": "新客户", "kind": "organisation", "parent_id": ctx.customer(scope).pk}
    ),
    "POST /customers/transfer": Op(transfer, body=_transfer_body),
    "GET /customers/{customer_id}": Op(read),
    "PATCH /customers/{customer_id}": Op(write, body=_customer_patch),
    "DELETE /customers/{customer_id}": Op(write),
    "GET /customers/{customer_id}/overview": Op(read),
    "POST /customers/{customer_id}/restore": Op(write),  # restoring a live customer: 409 would show it was reached
    "GET /customers/{customer_id}/contacts": Op(read),
    "POST /customers/{customer_id}/contacts": Op(write, body=_contact_body),
    "GET /contacts/{contact_id}": Op(read),
    "PATCH /contacts/{contact_id}": Op(write, body=_contact_patch),
    "DELETE /contacts/{contact_id}": Op(write),
    "GET /categories": Op(anyone),
    "GET /regions": Op(anyone),
    "GET /imports/kinds": Op(anyone),
    "GET /imports": Op(anyone),
    "POST /imports": Op(lambda role, scope: OK if role in WRITERS else DENY, body=_import_upload, multipart=True),
    "GET /imports/{job_id}": Op(own_job),
    "POST /imports/{job_id}/mapping": Op(own_job_write, body=lambda ctx, scope: {"mapping": {"客户名称": "name"}}),
    "POST /imports/{job_id}/commit": Op(own_job_write),
    "POST /imports/{job_id}/retry": Op(own_job_write),
    "GET /imports/{job_id}/errors.xlsx": Op(own_job),
    # activities, sales, service (landed during the session): reads, declared from their selectors
    "GET /calendar": Op(
        anyone, query=lambda ctx, scope: {"start": "2026-03-01T00:00:00+08:00", "end": "2026-03-31T00:00:00+08:00"}
    ),
    "GET /activities/{activity_id}/ics": Op(read),
    "GET /reminder-preference": Op(anyone),
    "GET /notifications": Op(anyone),
    "GET /notifications/unread-count": Op(anyone),
    "GET /notification-preferences": Op(anyone),
    "GET /tickets/analysis": Op(anyone),  # needs service.view_ticket: every role has it; figures are scoped
    "GET /activities": Op(anyone),
    "GET /activities/{activity_id}": Op(read),
    "GET /telephony/pops": Op(anyone),
    "GET /visit-plans": Op(anyone),
    "GET /visit-plans/overdue": Op(anyone),
    "GET /visit-plans/rules": Op(anyone),
    "GET /work-reports": Op(anyone),
    "GET /leads": Op(anyone),
    "GET /leads/{lead_id}": Op(read),
    "GET /pipelines": Op(anyone),
    "GET /opportunities": Op(anyone),
    "GET /opportunities/{deal_id}": Op(read),
    "GET /kanban": Op(anyone),
    "GET /forecast": Op(anyone),
    "GET /call-lists": Op(anyone),
    "GET /products": Op(anyone),
    "GET /price-lists": Op(anyone),
    "GET /quotes": Op(anyone),
    "GET /contracts": Op(anyone),
    "GET /contracts/expiring": Op(anyone),
    "GET /contract-templates": Op(anyone),
    "GET /payments": Op(anyone),
    "GET /receivables/overdue": Op(anyone),
    "GET /receivables/ageing": Op(anyone),
    "GET /tickets": Op(anyone),
    "GET /tickets/{ticket_id}": Op(read),
    "GET /tickets/{ticket_id}/messages": Op(read),
    "GET /tickets/{ticket_id}/complaint-handling": Op(read),
    "GET /ticket-types": Op(anyone),
    "GET /holidays": Op(anyone),
    "GET /customers/{customer_id}/timeline": Op(read),
}

# Operations whose access rules are NOT declared yet (writes of the apps that landed during the session: their bodies
# and state machines need fixtures this table does not build yet). They are still called by every role (no 5xx, no
# out-of-scope data, 401 signed out: test_unclassified_api_operations_answer_cleanly). Move them to OPERATIONS.
UNCLASSIFIED: set[str] = {
    "POST /calendar/events/{activity_id}/move",
    "GET /calendar/feed",
    "POST /calendar/feed",
    "DELETE /calendar/feed",
    "PUT /activities/{activity_id}/reminder",
    "PUT /reminder-preference",
    "PUT /notification-preferences",
    "POST /notifications/{notification_id}/read",
    "POST /notifications/read-all",
    "POST /activities",
    "PATCH /activities/{activity_id}",
    "DELETE /activities/{activity_id}",
    "POST /activities/{activity_id}/complete",
    "POST /activities/{activity_id}/cancel",
    "POST /telephony/events",
    "POST /visit-plans/rules",
    "DELETE /visit-plans/rules/{rule_id}",
    "POST /work-reports",
    "GET /work-reports/export",
    "GET /work-reports/{report_id}",
    "PATCH /work-reports/{report_id}",
    "POST /work-reports/{report_id}/submit",
    "POST /work-reports/{report_id}/review",
    "POST /leads",
    "PATCH /leads/{lead_id}",
    "POST /leads/{lead_id}/assign",
    "POST /leads/{lead_id}/convert",
    "POST /opportunities",
    "PATCH /opportunities/{deal_id}",
    "POST /opportunities/{deal_id}/move",
    "POST /opportunities/{deal_id}/won",
    "POST /opportunities/{deal_id}/lost",
    "POST /opportunities/{deal_id}/competitors",
    "DELETE /opportunities/{deal_id}/competitors/{competitor_id}",
    "POST /opportunities/{deal_id}/team",
    "DELETE /opportunities/{deal_id}/team/{member_id}",
    "POST /call-lists",
    "GET /call-lists/{list_id}",
    "GET /call-lists/{list_id}/entries",
    "POST /call-lists/{list_id}/entries/{entry_id}/outcome",
    "POST /products",
    "GET /products/{product_id}",
    "PATCH /products/{product_id}",
    "GET /products/{product_id}/price",
    "POST /price-lists",
    "GET /price-lists/{price_list_id}",
    "PATCH /price-lists/{price_list_id}",
    "POST /quotes",
    "GET /quotes/{quote_id}",
    "PATCH /quotes/{quote_id}",
    "GET /quotes/{quote_id}/pdf",
    "POST /quotes/{quote_id}/request-approval",
    "POST /quotes/{quote_id}/approve",
    "POST /quotes/{quote_id}/reject",
    "POST /quotes/{quote_id}/send",
    "POST /quotes/{quote_id}/accept",
    "POST /quotes/{quote_id}/decline",
    "POST /quotes/{quote_id}/revise",
    "POST /quotes/{quote_id}/contract",
    "POST /contracts",
    "GET /contracts/{contract_id}",
    "PATCH /contracts/{contract_id}",
    "POST /contracts/{contract_id}/sign",
    "POST /contracts/{contract_id}/activate",
    "POST /contracts/{contract_id}/expire",
    "POST /contracts/{contract_id}/terminate",
    "POST /contracts/{contract_id}/attachments",
    "GET /contracts/{contract_id}/attachments/{attachment_id}",
    "DELETE /contracts/{contract_id}/attachments/{attachment_id}",
    "PUT /contracts/{contract_id}/payment-plan",
    "POST /contract-templates",
    "PATCH /contract-templates/{template_id}",
    "POST /payments",
    "POST /tickets",
    "PATCH /tickets/{ticket_id}",
    "POST /tickets/{ticket_id}/accept",
    "POST /tickets/{ticket_id}/start",
    "POST /tickets/{ticket_id}/wait",
    "POST /tickets/{ticket_id}/close",
    "POST /tickets/{ticket_id}/reopen",
    "POST /tickets/{ticket_id}/resolve",
    "POST /tickets/{ticket_id}/handover",
    "POST /tickets/{ticket_id}/handover/accept",
    "POST /tickets/{ticket_id}/handover/decline",
    "POST /holidays",
    "PATCH /holidays/{holiday_id}",
    "DELETE /holidays/{holiday_id}",
    "POST /tickets/{ticket_id}/messages",
    "POST /tickets/{ticket_id}/acceptance",
    "GET /tickets/{ticket_id}/message-attachments/{attachment_id}",  # no message attachment is built here
}

# UI pages: GET of every route. Views that only take POST answer 405 to everyone (their rules are those of the
# service they call, covered through the API above).
POST_ONLY = lambda role, scope: NOT_ALLOWED  # noqa: E731

PAGES: dict[str, object] = {
    "home": anyone,
    "login": anyone,
    "logout": POST_ONLY,
    "password_change": anyone,
    "password_change_done": anyone,
    "language": POST_ONLY,
    "search": anyone,
    "customers:list": anyone,
    "customers:create": lambda role, scope: OK if role in WRITERS else DENY,
    "customers:bulk": POST_ONLY,
    "customers:export": anyone,
    "customers:filter_save": POST_ONLY,
    "customers:filter_delete": POST_ONLY,
    "customers:duplicates": anyone,
    "customers:detail": read,
    "customers:edit": write,
    "customers:archive": POST_ONLY,
    "customers:panels": POST_ONLY,
    "customers:contact_create": write,
    "customers:merge": write,
    "customers:contacts": anyone,
    "customers:contact_edit": write,
    "customers:contact_primary": POST_ONLY,
    "customers:contact_vcard": read,
    "imports:list": anyone,
    "imports:template": lambda role, scope: OK if role in WRITERS else DENY,
    "imports:job": own_job,
    "imports:progress": own_job,
    "imports:map": POST_ONLY,
    "imports:commit": POST_ONLY,
    "imports:retry": POST_ONLY,
    "imports:errors": own_job,
}
PAGES.update({name: read for name in ["activities:detail", "sales:deal_detail", "sales:lead_detail", "service:detail"]})
PAGES.update({"service:thread": read, "service:acceptance": POST_ONLY})
# Pages whose rules are not declared yet (see UNCLASSIFIED): GET by every role, no 5xx, no out-of-scope data.
UNCLASSIFIED_PAGES: set[str] = {
    "activities:home",
    "activities:create",
    "activities:edit",
    "activities:complete",
    "activities:cancel",
    "activities:delete",
    "activities:timeline",
    "activities:screen_pops",
    "activities:screen_pop_dismiss",
    "activities:calendar",
    "activities:calendar_move",
    "activities:calendar_feed_manage",
    "activities:reminder_preference",
    "activities:calendar_feed",
    "activities:activity_ics",
    "activities:notifications",
    "activities:notification_read",
    "activities:notifications_read_all",
    "activities:notification_list",
    "activities:notification_preferences",
    "service:analysis",
    "service:analysis_export",
    "activities:visit_plans",
    "activities:visit_rule_save",
    "activities:reports",
    "activities:report_create",
    "activities:report_export",
    "activities:report_detail",
    "sales:home",
    "sales:lead_list",
    "sales:lead_create",
    "sales:lead_edit",
    "sales:lead_status",
    "sales:lead_assign",
    "sales:lead_convert",
    "sales:deal_list",
    "sales:deal_create",
    "sales:deal_edit",
    "sales:deal_close",
    "sales:deal_competitor",
    "sales:deal_team",
    "sales:kanban",
    "sales:kanban_column",
    "sales:kanban_move",
    "sales:forecast",
    "sales:calllist_list",
    "sales:calllist_create",
    "sales:calllist_detail",
    "sales:calllist_outcome",
    "sales:product_list",
    "sales:product_create",
    "sales:product_edit",
    "sales:pricelist_create",
    "sales:pricelist_detail",
    "sales:pricelist_edit",
    "sales:quote_list",
    "sales:quote_create",
    "sales:quote_detail",
    "sales:quote_edit",
    "sales:quote_pdf",
    "sales:quote_contract",
    "sales:quote_action",
    "sales:contract_list",
    "sales:contract_create",
    "sales:contract_detail",
    "sales:contract_edit",
    "sales:contract_attach",
    "sales:contract_attachment",
    "sales:contract_plan",
    "sales:contract_payment",
    "sales:contract_action",
    "sales:receivable_list",
    "sales:receivable_export",
    "service:home",
    "service:create",
    "service:handover",
    "service:handover_answer",
    "service:action",
    "service:message_attachment",  # no message attachment is built here (tests/service/test_correspondence.py)
}
SECRET_URL_PAGES = {"activities:calendar_feed"}  # the iCalendar feed: its URL carries the user's feed token
PAGE_PREFIXES_NOT_IN_MATRIX = ("admin/", "api/v1/")  # Django's admin (staff only, its own tests); the API above


# --- the records -----------------------------------------------------------------------------------------------


class Records:
    def __init__(self, users, customers):
        self.users = users
        self.c = {"in": customers.c1, "out": customers.c3}
        self.twins = {
            "in": make_customer(users.am1, name=customers.c1.name),
            "out": make_customer(users.am3, name=customers.c3.name),
        }
        self.contacts = {"in": make_contact(users.am1, customers.c1), "out": make_contact(users.am3, customers.c3)}
        self.jobs = {
            scope: ImportJob.objects.create(
                kind="customers", format="csv", original_name="a.csv", created_by=owner, state="failed"
            )
            for scope, owner in (("in", users.am1), ("out", users.am3))
        }
        self.filters = {
            scope: SavedFilter.objects.create(user=owner, page="customers", name="f", query="q=1")
            for scope, owner in (("in", users.am1), ("out", users.am3))
        }
        self.username, self.password = "", ""
        self.extra = _extra_records(users, customers)

    def customer(self, scope):
        self.c[scope].refresh_from_db()
        return self.c[scope]

    def twin(self, scope):
        return self.twins[scope]

    def contact(self, scope):
        self.contacts[scope].refresh_from_db()
        return self.contacts[scope]

    def path_value(self, name: str, scope: str):
        values = {
            "customer_id": lambda: self.c[scope].pk,
            "other_id": lambda: self.twins[scope].pk,
            "contact_id": lambda: self.contacts[scope].pk,
            "job_id": lambda: self.jobs[scope].pk,
            "filter_id": lambda: self.filters[scope].pk,
            "kind": lambda: "customers",
        }
        if name in values:
            return values[name]()
        if name in self.extra:
            return self.extra[name][scope]
        return None  # no record of this kind is built yet: only UNCLASSIFIED operations may use it (a ghost id)


def _extra_records(users, customers) -> dict[str, dict[str, int]]:
    """In- and out-of-scope records of the apps built on customers (their own test factories)."""
    from tests.activities.factories import make_activity
    from tests.sales.pipeline_factories import make_deal, make_lead
    from tests.service.factories import make_ticket

    def pair(factory, *args):
        return {
            "in": factory(users.am1, *([customers.c1] if args else [])).pk,
            "out": factory(users.am3, *([customers.c3] if args else [])).pk,
        }

    return {
        "activity_id": pair(make_activity, True),
        "ticket_id": pair(make_ticket, True),
        "lead_id": pair(make_lead),
        "deal_id": pair(make_deal, True),
    }


GHOST_ID = 987654321  # for path parameters without records: the operation must still answer cleanly


@pytest.fixture
def clients(users):
    """One signed-in client per role (sessions outside the per-call savepoints)."""
    found = {}
    for role, username in ROLE_USERS.items():
        found[role] = Client()
        found[role].force_login(getattr(users, username))
    return found


@pytest.fixture
def ctx(users, customers):
    from tests.conftest import PASSWORD

    records = Records(users, customers)
    records.password = PASSWORD
    return records


def _operations() -> list[tuple[str, str, list[str]]]:
    schema = api.get_openapi_schema()
    prefix = "/api/v1"
    found = []
    for path, methods in schema["paths"].items():
        for method, spec in methods.items():
            params = [p["name"] for p in spec.get("parameters", []) if p.get("in") == "path"]
            found.append((method.upper(), path.removeprefix(prefix), params))
    return found


def _matches(expected, status: int) -> bool:
    if expected == OK:
        return 200 <= status < 300
    if expected == REACHED:
        return 200 <= status < 300 or status in (409, 422)
    return status == expected


def _in_savepoint(call):
    with transaction.atomic():
        response = call()
        transaction.set_rollback(True)
    return response


def _assert_no_foreign_data(ctx, role, response, label, problems):
    if role in SEES_ALL or response.status_code >= 300 or response.get("Content-Disposition"):
        return
    body = response.content.decode(errors="replace")
    for foreign in (ctx.c["out"].name, ctx.c["out"].number):
        if foreign in body:
            problems.append(f"{label} as {role}: shows the out-of-scope customer {foreign}")


def test_every_api_operation_is_declared():
    assert not set(OPERATIONS) & UNCLASSIFIED
    declared = set(OPERATIONS) | UNCLASSIFIED
    present = {f"{method} {path}" for method, path, _params in _operations()}
    assert present - declared == set(), "declare these operations in OPERATIONS (with their access rule)"
    assert declared - present == set(), "these declared operations no longer exist"


def test_api_access_matrix(ctx, users, clients):
    problems = []
    for method, path, params in _operations():
        key = f"{method} {path}"
        op = OPERATIONS.get(key)
        if op is None:
            continue  # reported by test_every_api_operation_is_declared
        for role in ROLES:
            user = getattr(users, ROLE_USERS[role])
            for scope in ("in", "out") if params or op.body or op.query else ("in",):
                expected = op.rule(role, scope)
                ctx.username = user.username
                url = "/api/v1" + path.format(**{name: ctx.path_value(name, scope) for name in params})
                client = clients[role]

                def call(client=client, url=url, op=op, scope=scope, method=method):
                    if op.multipart:
                        return client.post(url, op.body(ctx, scope))
                    kwargs = {}
                    if op.body:
                        kwargs = {"data": op.body(ctx, scope), "content_type": "application/json"}
                    elif op.query:
                        kwargs = {"data": op.query(ctx, scope)}
                    return getattr(client, method.lower())(url, **kwargs)

                response = _in_savepoint(call)
                label = f"{key} [{scope}]"
                if not _matches(expected, response.status_code):
                    detail = response.content[:200].decode(errors="replace")
                    problems.append(f"{label} as {role}: expected {expected}, got {response.status_code} {detail}")
                _assert_no_foreign_data(ctx, role, response, label, problems)
        if not op.anonymous_ok:
            anonymous = _in_savepoint(
                lambda method=method, path=path, params=params: getattr(Client(), method.lower())(
                    "/api/v1" + path.format(**{name: ctx.path_value(name, "in") for name in params})
                )
            )
            if anonymous.status_code != 401:
                problems.append(f"{key} anonymous: expected 401, got {anonymous.status_code}")
    assert problems == [], "\n".join(problems)


def _pages(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _pages(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), (namespace + entry.name) if entry.name else None, entry


def _ui_routes():
    found = {}
    for route, name, entry in _pages():
        if route.startswith(PAGE_PREFIXES_NOT_IN_MATRIX) or route.startswith("^"):
            continue
        found[name or route] = (route, list(entry.pattern.converters))
    return found


def test_every_page_is_declared():
    present = set(_ui_routes())
    declared = set(PAGES) | UNCLASSIFIED_PAGES
    assert present - declared == set(), "declare these pages in PAGES (with their access rule)"
    assert declared - present == set(), "these declared pages no longer exist"


def test_ui_access_matrix(ctx, users, clients):
    from django.urls import reverse

    problems = []
    for name, (_route, params) in _ui_routes().items():
        rule = PAGES.get(name)
        if rule is None:
            continue
        for role in ROLES:
            for scope in ("in", "out") if params else ("in",):
                expected = rule(role, scope)
                url = reverse(name, kwargs={p: ctx.path_value(p, scope) for p in params})
                client = clients[role]
                response = _in_savepoint(lambda client=client, url=url: client.get(url))
                status = response.status_code
                got = OK if 200 <= status < 400 and status != 304 else status
                if got != expected:
                    problems.append(f"{name} {url} [{scope}] as {role}: expected {expected}, got {status}")
                _assert_no_foreign_data(ctx, role, response, f"{name} [{scope}]", problems)
        if rule is not POST_ONLY and name not in ("login",):
            url = reverse(name, kwargs={p: ctx.path_value(p, "in") for p in params})
            anonymous = Client().get(url)
            if not (anonymous.status_code == 302 and "/login/" in anonymous["Location"]):
                problems.append(f"{name} anonymous: expected a redirect to the login page, got {anonymous.status_code}")
    assert problems == [], "\n".join(problems)


def test_the_matrix_can_fail(ctx, users, clients):
    """The rules are not vacuous: an account manager really gets 404 on another scope's customer."""
    client = Client()
    client.force_login(users.am1)
    assert client.get(f"/api/v1/customers/{ctx.c['out'].pk}").status_code == read("account_manager", "out") == GONE


def _url(path: str, params: list[str], ctx, scope: str) -> str:
    values = {name: ctx.path_value(name, scope) for name in params}
    return path.format(**{name: GHOST_ID if value is None else value for name, value in values.items()})


def test_unclassified_api_operations_answer_cleanly(ctx, users, clients):
    """Operations whose rules are not declared yet (listed in UNCLASSIFIED): signed out they answer 401; signed in,
    with the records there are (or a ghost id) and no body, no role gets a 5xx or sees the out-of-scope customer."""
    problems = []
    for method, path, params in _operations():
        key = f"{method} {path}"
        if key not in UNCLASSIFIED:
            continue
        url = "/api/v1" + _url(path, params, ctx, "in")
        anonymous = _in_savepoint(lambda method=method, url=url: getattr(Client(), method.lower())(url))
        if anonymous.status_code != 401:
            problems.append(f"{key} anonymous: expected 401, got {anonymous.status_code}")
        for role in ROLES:
            client = clients[role]
            for scope in ("in", "out") if params else ("in",):
                url = "/api/v1" + _url(path, params, ctx, scope)
                kwargs = {"content_type": "application/json"} if method in ("POST", "PUT", "PATCH") else {}
                response = _in_savepoint(
                    lambda client=client, method=method, url=url, kwargs=kwargs: getattr(client, method.lower())(
                        url, **kwargs
                    )
                )
                if response.status_code >= 500:
                    problems.append(f"{key} [{scope}] as {role}: {response.status_code}")
                _assert_no_foreign_data(ctx, role, response, f"{key} [{scope}]", problems)
    assert problems == [], "\n".join(problems)


def test_unclassified_pages_answer_cleanly(ctx, users, clients):
    from django.urls import reverse

    problems = []
    for name, (_route, params) in _ui_routes().items():
        if name not in UNCLASSIFIED_PAGES:
            continue
        url = reverse(
            name, kwargs={p: GHOST_ID if ctx.path_value(p, "in") is None else ctx.path_value(p, "in") for p in params}
        )
        anonymous = Client().get(url)
        if name in SECRET_URL_PAGES:  # authenticated by a secret in the URL: a wrong secret is 404, not a login
            if anonymous.status_code != 404:
                problems.append(f"{name} anonymous with a wrong secret: expected 404, got {anonymous.status_code}")
        elif anonymous.status_code not in (302, 405) or (
            anonymous.status_code == 302 and "/login/" not in anonymous["Location"]
        ):
            problems.append(f"{name} anonymous: expected a redirect to the login page, got {anonymous.status_code}")
        for role in ROLES:
            client = clients[role]
            for scope in ("in", "out") if params else ("in",):
                kwargs = {p: ctx.path_value(p, scope) for p in params}
                url = reverse(name, kwargs={p: GHOST_ID if v is None else v for p, v in kwargs.items()})
                response = _in_savepoint(lambda client=client, url=url: client.get(url))
                if response.status_code >= 500:
                    problems.append(f"{name} [{scope}] as {role}: {response.status_code}")
                _assert_no_foreign_data(ctx, role, response, f"{name} [{scope}]", problems)
    assert problems == [], "\n".join(problems)
