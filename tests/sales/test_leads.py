"""Leads (C1): create, qualify, assign; scope on every read path; bad input; stale versions."""

import pytest

from guanxi.core.models import AuditLog
from guanxi.sales.models import Lead
from tests.conftest import errors_by_field
from tests.sales.pipeline_factories import count_queries, make_lead

pytestmark = pytest.mark.django_db


def test_it_creates_a_lead_owned_by_the_account_manager(api, users):
    response = api(users.am1).post(
        "/leads",
        {
            "company_name": "龙沙区新建商场",
            "source": "website",
            "contact_name": "刘经理",
            "mobile": "138 1234 5678",
            "estimated_amount": "880000.50",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner_id"] == users.am1.pk and body["status"] == "new"
    lead = Lead.objects.get(pk=body["id"])
    assert lead.mobile == "13812345678" and str(lead.estimated_amount) == "880000.50"
    assert lead.org_unit_id == users.am1.profile.org_unit_id
    assert AuditLog.objects.filter(object_type="sales.lead", object_id=str(lead.pk), action="create").exists()


def test_a_service_agent_leaves_the_lead_unassigned_in_their_unit(api, users):
    response = api(users.agent1).post("/leads", {"company_name": "来电客户", "mobile": "13900001111"})
    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.owner_id is None and lead.org_unit_id == users.agent1.profile.org_unit_id


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"company_name": ""}, "company_name"),
        ({"company_name": "甲", "credit_code": "91110105000000001X"}, "credit_code"),
        ({"company_name": "甲", "mobile": "12345"}, "mobile"),
        ({"company_name": "甲", "source": "pigeon"}, "source"),
        ({"company_name": "甲", "estimated_amount": "-1"}, "estimated_amount"),
        ({"company_name": "甲", "email": "not-an-email"}, "email"),
        ({"company_name": "甲", "owner_id": 999999}, "owner_id"),
        ({"company_name": "甲", "status": "converted"}, "status"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(api, users, payload, field):
    response = api(users.am1).post("/leads", payload)
    assert response.status_code == 422, response.content
    assert field in errors_by_field(response)
    assert not Lead.objects.exists()


def test_it_qualifies_and_disqualifies_with_a_reason(api, users):
    lead = make_lead(users.am1)
    client = api(users.am1)
    response = client.patch(f"/leads/{lead.pk}", {"version": 1, "status": "qualified"})
    assert response.status_code == 200 and response.json()["status"] == "qualified"
    response = client.patch(f"/leads/{lead.pk}", {"version": 2, "status": "disqualified"})
    assert response.status_code == 422 and "disqualified_reason" in errors_by_field(response)
    response = client.patch(
        f"/leads/{lead.pk}", {"version": 2, "status": "disqualified", "disqualified_reason": "无用电需求"}
    )
    assert response.status_code == 200
    assert response.json()["disqualified_reason"] == "无用电需求"


def test_a_stale_version_gets_409_and_changes_nothing(api, users):
    lead = make_lead(users.am1, company_name="原名")
    client = api(users.am1)
    assert client.patch(f"/leads/{lead.pk}", {"version": 1, "company_name": "新名"}).status_code == 200
    response = client.patch(f"/leads/{lead.pk}", {"version": 1, "company_name": "旧客户端"})
    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    lead.refresh_from_db()
    assert lead.company_name == "新名"


def test_a_team_lead_assigns_a_lead_within_their_scope_audited(api, users):
    lead = make_lead(users.agent1)  # unassigned, in B01-T3
    # lead1 (team B01-T1) does not see B01-T3's pool; the branch manager does.
    assert api(users.lead1).post(f"/leads/{lead.pk}/assign", {"owner_id": users.am1.pk}).status_code == 404
    response = api(users.bm1).post(f"/leads/{lead.pk}/assign", {"owner_id": users.am1.pk, "version": 1})
    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert lead.owner_id == users.am1.pk and lead.org_unit_id == users.am1.profile.org_unit_id
    entry = AuditLog.objects.get(object_type="sales.lead", object_id=str(lead.pk), action="assign")
    assert entry.changes["owner"] == [None, users.am1.pk] and entry.actor_id == users.bm1.pk
    # Out of scope target, and an account manager may not assign at all.
    assert api(users.bm1).post(f"/leads/{lead.pk}/assign", {"owner_id": users.am3.pk}).status_code == 422
    assert api(users.am1).post(f"/leads/{lead.pk}/assign", {"owner_id": users.am1.pk}).status_code == 403


def test_assigning_with_a_stale_version_is_409(api, users):
    lead = make_lead(users.am1)
    api(users.am1).patch(f"/leads/{lead.pk}", {"version": 1, "status": "contacted"})
    response = api(users.lead1).post(f"/leads/{lead.pk}/assign", {"owner_id": users.am1.pk, "version": 1})
    assert response.status_code == 409


@pytest.fixture
def leads(users):
    return {
        "am1": make_lead(users.am1, company_name="甲线索"),
        "am2": make_lead(users.am2, company_name="乙线索"),
        "am3": make_lead(users.am3, company_name="丙线索"),
    }


# who → the leads they see (am: own; lead: team; bm/analyst: branch; exec: all)
SCOPE = {
    "am1": {"am1"},
    "am2": {"am2"},
    "lead1": {"am1"},
    "lead2": {"am2"},
    "bm1": {"am1", "am2"},
    "bm2": {"am3"},
    "analyst1": {"am1", "am2"},
    "exec1": {"am1", "am2", "am3"},
}


@pytest.mark.parametrize("who", sorted(SCOPE))
def test_every_read_path_is_scoped(api, users, leads, who):
    client = api(getattr(users, who))
    listed = {item["id"] for item in client.get("/leads").json()["items"]}
    assert listed == {leads[k].pk for k in SCOPE[who]}
    for key, lead in leads.items():
        expected = 200 if key in SCOPE[who] else 404
        assert client.get(f"/leads/{lead.pk}").status_code == expected
    found = {hit["id"] for hit in client.get("/search", {"q": "线索"}).json()["results"]["leads"]}
    assert found == {leads[k].pk for k in SCOPE[who]}


def test_the_list_filters_and_paginates(api, users):
    for i in range(5):
        make_lead(users.am1, company_name=f"分页线索{i}", source="website" if i % 2 else "referral")
    client = api(users.am1)
    first = client.get("/leads", {"limit": 2}).json()
    second = client.get("/leads", {"limit": 2, "cursor": first["next"]}).json()
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert len(client.get("/leads", {"source": "website"}).json()["items"]) == 2
    assert client.get("/leads", {"cursor": "garbage"}).status_code == 422
    assert client.get("/leads", {"status": "nope"}).status_code == 422


def test_the_list_needs_a_constant_number_of_queries(api, users):
    for i in range(30):
        make_lead(users.bm1, company_name=f"查询线索{i}", owner_id=users.am1.pk if i % 2 else users.am2.pk)
    client = api(users.bm1)
    assert count_queries(lambda: client.get("/leads", {"limit": 2})) == count_queries(
        lambda: client.get("/leads", {"limit": 30})
    )


def test_mobiles_are_masked_for_roles_without_the_permission(api, users):
    lead = make_lead(users.am1, mobile="13812345678")
    assert api(users.am1).get(f"/leads/{lead.pk}").json()["mobile"] == "138****5678"
    assert api(users.bm1).get(f"/leads/{lead.pk}").json()["mobile"] == "13812345678"
