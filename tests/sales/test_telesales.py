"""Telesales (C7): a call list from a customer filter, the outcome of each call as an activity with a follow-up task,
and the list's progress; scoped; bad input; one outcome per call."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from guanxi.activities.models import Activity
from guanxi.sales.models import CallList, CallListEntry
from tests.conftest import errors_by_field, make_contact, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_customers(users):
    """Three key customers of am1 (one with a primary contact), one general of am1, one key of am2."""
    first = make_customer(users.am1, name="重点客户一", grade="key")
    make_contact(users.am1, first, name="李科长", mobile="13811112222")
    make_customer(users.am1, name="重点客户二", grade="key")
    make_customer(users.am1, name="重点客户三", grade="key")
    make_customer(users.am1, name="普通客户", grade="general")
    make_customer(users.am2, name="别人的重点客户", grade="key")
    return first


def create(client, **payload):
    payload.setdefault("name", "三月回访")
    payload.setdefault("script", "您好，我是供电公司客户经理……")
    payload.setdefault("filters", {"grade": "key"})
    return client.post("/call-lists", payload)


def test_a_call_list_takes_the_filtered_customers_the_creator_may_see(api, users, key_customers):
    response = create(api(users.am1))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["progress"] == {
        "total": 3,
        "called": 0,
        "remaining": 3,
        "by_outcome": [{"outcome": o, "label": str(label), "count": 0} for o, label in CallListEntry.Outcome.choices],
    }
    call_list = CallList.objects.get(pk=body["id"])
    names = [e.customer.name for e in call_list.entries.order_by("position")]
    assert sorted(names) == sorted(["重点客户一", "重点客户二", "重点客户三"])
    assert call_list.entries.get(customer=key_customers).contact.name == "李科长"
    assert call_list.filters == {"grade": "key"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"filters": {"grade": "platinum"}}, "grade"),  # core names the field inside `filters`
        ({"filters": {"q": "没有这样的客户"}}, "filters"),
    ],
)
def test_bad_input_names_the_field(api, users, key_customers, payload, field):
    response = create(api(users.am1), **payload)
    assert response.status_code == 422, response.content
    assert field in errors_by_field(response)
    assert not CallList.objects.exists()


def test_an_outcome_is_an_activity_with_a_follow_up_task(api, users, key_customers):
    client = api(users.am1)
    list_id = create(client).json()["id"]
    entry = CallListEntry.objects.get(call_list_id=list_id, customer=key_customers)
    at = datetime(2027, 3, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    response = client.post(
        f"/call-lists/{list_id}/entries/{entry.pk}/outcome",
        {"outcome": "interested", "notes": "想了解储能", "follow_up": "寄送储能方案", "follow_up_at": at.isoformat()},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    call = Activity.objects.get(pk=body["activity_id"])
    assert call.kind == "outbound_call" and call.customer_id == key_customers.pk and call.status == "done"
    assert call.call_result == "connected" and call.notes == "想了解储能" and call.owner_id == users.am1.pk
    assert call.phone_number == "13811112222" and [c.name for c in call.contacts.all()] == ["李科长"]
    assert call.linked_type.model == "calllist" and call.linked_id == list_id
    task = Activity.objects.get(pk=body["follow_up_id"])
    assert task.kind == "task" and task.subject == "寄送储能方案" and task.planned_start == at
    assert task.follow_up_of_id == call.pk and task.status == "planned"
    progress = client.get(f"/call-lists/{list_id}").json()["progress"]
    assert (progress["called"], progress["remaining"]) == (1, 2)
    assert {r["outcome"]: r["count"] for r in progress["by_outcome"]}["interested"] == 1
    # A second outcome for the same call is refused and nothing more is written.
    again = client.post(f"/call-lists/{list_id}/entries/{entry.pk}/outcome", {"outcome": "busy"})
    assert again.status_code == 409
    assert Activity.objects.count() == 2


def test_no_answer_without_follow_up_and_bad_outcomes(api, users, key_customers):
    client = api(users.am1)
    list_id = create(client).json()["id"]
    entries = list(CallListEntry.objects.filter(call_list_id=list_id).order_by("position"))
    response = client.post(f"/call-lists/{list_id}/entries/{entries[1].pk}/outcome", {"outcome": "no_answer"})
    assert response.status_code == 200 and response.json()["follow_up_id"] is None
    assert Activity.objects.get(pk=response.json()["activity_id"]).call_result == "no_answer"
    bad = client.post(f"/call-lists/{list_id}/entries/{entries[2].pk}/outcome", {"outcome": "maybe"})
    assert bad.status_code == 422 and "outcome" in errors_by_field(bad)
    naive = client.post(
        f"/call-lists/{list_id}/entries/{entries[2].pk}/outcome",
        {"outcome": "call_back", "follow_up": "再打", "follow_up_at": "2027-03-05T10:00:00"},
    )
    assert naive.status_code == 422 and "follow_up_at" in errors_by_field(naive)
    assert Activity.objects.count() == 1
    remaining = client.get(f"/call-lists/{list_id}/entries", {"remaining": True}).json()
    assert len(remaining) == 2


def test_call_lists_are_scoped(api, users, key_customers):
    list_id = create(api(users.am1)).json()["id"]
    entry = CallListEntry.objects.filter(call_list_id=list_id).first()
    assert [c["id"] for c in api(users.lead1).get("/call-lists").json()] == [list_id]
    assert api(users.am2).get("/call-lists").json() == []
    assert api(users.am2).get(f"/call-lists/{list_id}").status_code == 404
    response = api(users.am2).post(f"/call-lists/{list_id}/entries/{entry.pk}/outcome", {"outcome": "busy"})
    assert response.status_code == 404
    assert api(users.am3).get(f"/call-lists/{list_id}/entries").status_code == 404


def test_the_callers_page_shows_script_next_customer_and_records_a_call(api, users, key_customers):
    client = api(users.am1)
    list_id = create(client).json()["id"]
    page = client.client.get(f"/sales/call-lists/{list_id}/")
    html = page.content.decode()
    assert page.status_code == 200 and "您好，我是供电公司客户经理" in html
    entry = CallListEntry.objects.filter(call_list_id=list_id).order_by("position").first()
    assert entry.customer.name in html
    response = client.client.post(
        f"/sales/call-lists/{list_id}/entries/{entry.pk}/outcome/", {"outcome": "busy", "notes": "占线"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.outcome == "busy" and entry.activity_id


def test_an_entry_is_recorded_only_through_its_own_list(api, users, key_customers):
    client = api(users.am1)
    first_id = create(client, name="第一张").json()["id"]
    second_id = create(client, name="第二张").json()["id"]
    entry = CallListEntry.objects.filter(call_list_id=first_id).first()
    response = client.client.post(f"/sales/call-lists/{second_id}/entries/{entry.pk}/outcome/", {"outcome": "busy"})
    assert response.status_code == 404
    assert client.post(f"/call-lists/{second_id}/entries/{entry.pk}/outcome", {"outcome": "busy"}).status_code == 404
    entry.refresh_from_db()
    assert entry.outcome == "" and Activity.objects.count() == 0
