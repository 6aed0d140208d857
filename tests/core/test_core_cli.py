"""The CLI: `guanxi createuser` and `guanxi demo` (the users scripts and tests rely on, valid data, --if-empty)."""

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from guanxi.core.models import AuditLog, OrgUnit
from guanxi.core.roles import user_roles
from guanxi.customers import services
from guanxi.customers.models import Contact, Customer
from guanxi.customers.validators import validate_credit_code, validate_id_number, validate_mobile
from tests.conftest import Api, build_org

DEMO_PASSWORD = "demo-Passw0rd"


def _run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


# --- createuser ---------------------------------------------------------------------------------------------


def test_it_creates_a_user_with_a_role_and_a_unit(db):
    build_org()

    output = _run(
        "createuser",
        "zhangwei",
        role="account_manager",
        org_unit="B01-T1",
        password="pw-Zhang-1",
        name="张伟",
        email="zw@example.com",
        language="en",
    )

    assert "zhangwei" in output
    user = authenticate(username="zhangwei", password="pw-Zhang-1")
    assert user is not None
    assert user_roles(user) == {"account_manager"}
    assert (user.profile.org_unit.code, user.profile.language, user.first_name) == ("B01-T1", "en", "张伟")
    assert not user.is_staff and not user.is_superuser
    assert AuditLog.objects.filter(action="create", object_type="auth.user", object_id=str(user.pk)).exists()


def test_it_creates_an_admin_with_back_office_access(db):
    _run("createuser", "root2", role="admin", password="pw-Root-22")

    user = get_user_model().objects.get(username="root2")
    assert user.is_staff and user.is_superuser and user.profile.org_unit is None


@pytest.mark.parametrize(
    "options, message",
    [
        ({"role": "account_manager", "org_unit": "NOPE", "password": "pw-x-12345"}, "org_unit"),
        ({"role": "wizard", "password": "pw-x-12345"}, "role"),
        ({"role": "account_manager", "org_unit": "B01-T1"}, "password"),
    ],
)
def test_it_refuses_a_bad_createuser(db, options, message):
    build_org()

    with pytest.raises(CommandError) as excinfo:
        _run("createuser", "lisi", **options)

    assert message in str(excinfo.value)
    assert not get_user_model().objects.filter(username="lisi").exists()


def test_it_refuses_a_duplicate_username(db):
    build_org()
    _run("createuser", "lisi", role="analyst", org_unit="B01", password="pw-Lisi-123")

    with pytest.raises(CommandError, match="username"):
        _run("createuser", "lisi", role="analyst", org_unit="B02", password="pw-Lisi-123")

    assert get_user_model().objects.get(username="lisi").profile.org_unit.code == "B01"


# --- demo -------------------------------------------------------------------------------------------------------


@pytest.fixture
def demo(db):
    output = _run("demo", customers=50, password=DEMO_PASSWORD)
    return {u.username: u for u in get_user_model().objects.select_related("profile__org_unit")}, output


def test_it_creates_the_users_scripts_rely_on(demo):
    users, output = demo

    for username, role in [
        ("admin", "admin"),
        ("am1", "account_manager"),
        ("am2", "account_manager"),
        ("lead1", "team_lead"),
        ("agent1", "service_agent"),
    ]:
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None, username
        assert role in user_roles(users[username]), username
        assert username in output
    assert DEMO_PASSWORD in output
    assert users["admin"].is_superuser
    am1_team, am2_team = users["am1"].profile.org_unit, users["am2"].profile.org_unit
    assert am1_team != am2_team
    assert am1_team.kind == am2_team.kind == OrgUnit.Kind.TEAM
    assert am1_team.branch() == am2_team.branch() is not None
    assert users["lead1"].profile.org_unit == am1_team
    # One user per role per branch as well.
    roles = {role for user in users.values() for role in user_roles(user)}
    assert roles == {"admin", "executive", "branch_manager", "team_lead", "account_manager", "service_agent", "analyst"}


def test_it_creates_valid_customers_with_contacts(demo):
    users, _output = demo
    customers = list(Customer.objects.select_related("owner__profile").prefetch_related("contacts"))

    assert len(customers) == 50
    assert len({c.number for c in customers}) == 50
    for customer in customers:
        assert re.fullmatch(r"CB0\d\d{7}", customer.number), customer.number
        assert "account_manager" in user_roles(customer.owner)
        assert customer.org_unit_id == customer.owner.profile.org_unit_id
        assert customer.number.startswith(f"C{customer.org_unit.branch().code}")
        if customer.credit_code:
            validate_credit_code(customer.credit_code)
        if customer.id_number:
            validate_id_number(customer.id_number)
        contacts = list(customer.contacts.all())
        assert contacts and sum(c.primary for c in contacts) == 1
        for contact in contacts:
            validate_mobile(contact.mobile)
        customer.full_clean()  # every model rule holds for generated data too
    assert any(c.kind == "individual" and c.id_number for c in customers)
    assert any(c.kind == "organisation" and c.credit_code for c in customers)
    assert len({c.owner_id for c in customers}) > 2


def test_it_continues_the_numbering_after_the_demo(demo):
    users, _output = demo
    taken = set(Customer.objects.values_list("number", flat=True))
    branch = users["am1"].profile.org_unit.branch().code
    last = max(int(n[-7:]) for n in taken if n.startswith(f"C{branch}"))

    customer = services.customer_create(actor=users["am1"], data={"name": "演示后新建", "kind": "organisation"})

    assert customer.number == f"C{branch}{last + 1:07d}"


def test_it_scopes_demo_data_by_role(demo):
    users, _output = demo
    token = Api().post("/auth/token", {"username": "am1", "password": DEMO_PASSWORD}).json()["token"]
    client = Api(token=token)

    seen = {c["id"] for c in client.get("/customers", {"limit": 200}).json()["items"]}

    assert seen == set(Customer.objects.filter(owner=users["am1"], sensitive=False).values_list("id", flat=True))
    lead = Api(users["lead1"]).get("/customers", {"limit": 200}).json()["items"]
    assert {c["org_unit_id"] for c in lead} <= {users["lead1"].profile.org_unit_id}
    assert seen <= {c["id"] for c in lead}


def test_it_loads_the_demo_only_once_with_if_empty(db):
    first = _run("demo", customers=5, password=DEMO_PASSWORD, if_empty=True)
    counts = (
        get_user_model().objects.count(),
        Customer.objects.count(),
        Contact.objects.count(),
        AuditLog.objects.count(),
    )

    second = _run("demo", customers=5, password=DEMO_PASSWORD, if_empty=True)

    assert "am1" in first and "am1" not in second
    assert counts[1] == 5
    assert (
        get_user_model().objects.count(),
        Customer.objects.count(),
        Contact.objects.count(),
        AuditLog.objects.count(),
    ) == counts


def test_it_refuses_to_load_the_demo_over_existing_data(db):
    _run("demo", customers=2, password=DEMO_PASSWORD)

    with pytest.raises(SystemExit) as excinfo:
        _run("demo", customers=2, password=DEMO_PASSWORD)

    assert excinfo.value.code == 1
    assert Customer.objects.count() == 2
