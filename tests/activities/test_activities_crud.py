"""Activities through the API: create, read, update with versions, complete with a next step, cancel, delete."""

from datetime import datetime

from guanxi.activities.models import Activity
from guanxi.core.models import AuditLog
from tests.activities.factories import make_activity
from tests.conftest import audit_count, errors_by_field, make_contact


def same_time(a: str, b: str) -> bool:
    return datetime.fromisoformat(a.replace("Z", "+00:00")) == datetime.fromisoformat(b)


def test_it_logs_a_call_with_contact_and_reads_it_back(api, users, customers):
    contact = make_contact(users.am1, customers.c1, mobile="13800138000")
    response = api(users.am1).post(
        "/activities",
        {
            "kind": "outbound_call",
            "subject": "回访电费异常",
            "customer_id": customers.c1.pk,
            "contact_ids": [contact.pk],
            "done_at": "2026-03-02T10:00:00+08:00",
            "phone_number": "13800138000",
            "call_result": "connected",
            "duration_seconds": 95,
            "outcome": "客户同意下周见面",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "done"
    assert body["direction"] == "outbound"
    assert body["owner_id"] == users.am1.pk
    assert body["contact_ids"] == [contact.pk]
    assert same_time(body["happened_at"], "2026-03-02T10:00:00+08:00")
    assert body["phone_number"] == "138****8000"  # account managers see phones masked
    activity = Activity.objects.get(pk=body["id"])
    assert activity.org_unit.code == "B01-T1"
    assert audit_count(object_type="activities.activity", object_id=str(activity.pk), action="create") == 1
    assert api(users.am1).get(f"/activities/{activity.pk}").json()["subject"] == "回访电费异常"


def test_it_updates_with_the_read_version_and_rejects_a_stale_one(api, users, customers):
    activity = make_activity(users.am1, customers.c1)
    client = api(users.am1)
    ok = client.patch(f"/activities/{activity.pk}", {"version": 1, "subject": "新主题", "notes": "带上合同"})
    assert ok.status_code == 200, ok.json()
    assert ok.json()["version"] == 2
    stale = client.patch(f"/activities/{activity.pk}", {"version": 1, "subject": "覆盖"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert Activity.objects.get(pk=activity.pk).subject == "新主题"
    entry = AuditLog.objects.get(object_type="activities.activity", object_id=str(activity.pk), action="update")
    assert entry.changes["subject"][1] == "新主题"


def test_complete_with_a_next_step_creates_the_follow_up_task(api, users, customers):
    contact = make_contact(users.am1, customers.c1)
    activity = make_activity(users.am1, customers.c1, contact_ids=[contact.pk])
    response = api(users.am1).post(
        f"/activities/{activity.pk}/complete",
        {
            "version": 1,
            "outcome": "谈妥增容方案",
            "next_step": "发送报价",
            "next_step_at": "2026-03-09T09:00:00+08:00",
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["activity"]["status"] == "done"
    assert body["activity"]["done_at"] is not None
    assert body["activity"]["next_step"] == "发送报价"
    follow_up = body["follow_up"]
    assert follow_up["kind"] == "task"
    assert follow_up["subject"] == "发送报价"
    assert follow_up["status"] == "planned"
    assert follow_up["customer_id"] == customers.c1.pk
    assert follow_up["contact_ids"] == [contact.pk]
    assert follow_up["follow_up_of_id"] == activity.pk
    assert same_time(follow_up["planned_start"], "2026-03-09T09:00:00+08:00")
    again = api(users.am1).post(f"/activities/{activity.pk}/complete", {"version": 2})
    assert again.status_code == 409  # already done


def test_complete_without_next_step_creates_nothing_else(api, users, customers):
    activity = make_activity(users.am1, customers.c1)
    before = Activity.objects.count()
    response = api(users.am1).post(f"/activities/{activity.pk}/complete", {"version": 1, "outcome": "ok"})
    assert response.status_code == 200
    assert response.json()["follow_up"] is None
    assert Activity.objects.count() == before


def test_cancel_and_delete(api, users, customers):
    activity = make_activity(users.lead1, customers.c1)
    client = api(users.lead1)
    assert client.post(f"/activities/{activity.pk}/cancel", {"version": 1}).json()["status"] == "cancelled"
    assert client.post(f"/activities/{activity.pk}/cancel", {"version": 2}).status_code == 409
    assert client.post(f"/activities/{activity.pk}/complete", {"version": 2}).status_code == 409
    assert client.delete(f"/activities/{activity.pk}?version=1").status_code == 409
    assert client.delete(f"/activities/{activity.pk}?version=2").status_code == 204
    assert not Activity.objects.filter(pk=activity.pk).exists()
    assert audit_count(object_type="activities.activity", object_id=str(activity.pk), action="delete") == 1


def test_account_managers_may_not_delete_and_viewers_may_not_write(api, users, customers):
    activity = make_activity(users.am1, customers.c1)
    assert api(users.am1).delete(f"/activities/{activity.pk}").status_code == 403
    assert api(users.exec1).get(f"/activities/{activity.pk}").status_code == 200
    write = api(users.exec1).post("/activities", {"kind": "task", "subject": "x"})
    assert write.status_code == 403
    patch = api(users.analyst1).patch(f"/activities/{activity.pk}", {"version": 1, "subject": "y"})
    assert patch.status_code == 403
    assert Activity.objects.get(pk=activity.pk).subject == activity.subject


def test_a_task_without_customer_belongs_to_its_owner(api, users):
    response = api(users.am2).post("/activities", {"kind": "task", "subject": "整理拜访记录"})
    assert response.status_code == 201
    assert response.json()["customer_id"] is None
    assert response.json()["status"] == "planned"


def test_bad_input_names_the_field_and_stores_nothing(api, users, customers):
    other_contact = make_contact(users.am2, customers.c2)
    client = api(users.am1)
    before = Activity.objects.count()
    cases = [
        ({"kind": "fax", "subject": "x"}, "kind"),
        ({"kind": "task"}, "subject"),
        ({"kind": "task", "subject": "x", "customer_id": customers.c2.pk}, "customer_id"),  # not am1's
        (
            {"kind": "task", "subject": "x", "customer_id": customers.c1.pk, "contact_ids": [other_contact.pk]},
            "contact_ids",
        ),
        ({"kind": "visit", "subject": "x", "call_result": "busy"}, "call_result"),
        ({"kind": "inbound_call", "subject": "x", "duration_seconds": -5}, "duration_seconds"),
        (
            {
                "kind": "meeting",
                "subject": "x",
                "planned_start": "2026-03-02T10:00:00+08:00",
                "planned_end": "2026-03-02T09:00:00+08:00",
            },
            "planned_end",
        ),
        ({"kind": "task", "subject": "x", "planned_start": "2026-03-02T10:00:00"}, "planned_start"),  # no zone
        ({"kind": "task", "subject": "x", "owner_id": users.am2.pk}, "owner_id"),  # not in am1's scope
        ({"kind": "task", "subject": "x", "participant_ids": [999999]}, "participant_ids"),
        ({"kind": "task", "subject": "x", "linked_type": "core.nothing", "linked_id": 1}, "linked_type"),
        ({"kind": "task", "subject": "x", "linked_type": "customers.customer"}, "linked_id"),
        ({"kind": "task", "subject": "x", "surprise": 1}, "surprise"),
    ]
    for payload, field in cases:
        response = client.post("/activities", payload)
        assert response.status_code == 422, (payload, response.json())
        assert field in errors_by_field(response), (payload, response.json())
    assert Activity.objects.count() == before


def test_a_linked_object_must_be_visible(api, users, customers):
    ok = api(users.am1).post(
        "/activities",
        {"kind": "task", "subject": "跟进", "linked_type": "customers.customer", "linked_id": customers.c1.pk},
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["linked_type"] == "customers.customer"
    hidden = api(users.am1).post(
        "/activities",
        {"kind": "task", "subject": "跟进", "linked_type": "customers.customer", "linked_id": customers.c3.pk},
    )
    assert hidden.status_code == 422
    assert "linked_id" in errors_by_field(hidden)
    listed = (
        api(users.am1)
        .get("/activities", {"linked_type": "customers.customer", "linked_id": customers.c1.pk})
        .json()["items"]
    )
    assert [a["id"] for a in listed] == [ok.json()["id"]]


def test_list_filters(api, users, customers):
    call = make_activity(users.am1, customers.c1, kind="inbound_call", done_at="2026-03-05T10:00:00+08:00")
    visit = make_activity(users.am1, customers.c1, kind="visit", planned_start="2026-04-01T10:00:00+08:00")
    client = api(users.am1)

    def ids(**params):
        return [a["id"] for a in client.get("/activities", params).json()["items"]]

    assert ids(kind="inbound_call") == [call.pk]
    assert ids(status="planned") == [visit.pk]
    assert ids(customer_id=customers.c1.pk) == [visit.pk, call.pk]
    assert ids(date_from="2026-03-05", date_to="2026-03-05") == [call.pk]
    assert ids(date_from="2026-03-06") == [visit.pk]
    assert ids(owner_id=users.am2.pk) == []
    assert client.get("/activities", {"kind": "fax"}).status_code == 422
    assert client.get("/activities", {"cursor": "garbage"}).status_code == 422


def test_list_pages_with_keyset_cursor(api, users, customers):
    made = [make_activity(users.am1, customers.c1) for _ in range(5)]
    client = api(users.am1)
    first = client.get("/activities", {"limit": 2}).json()
    second = client.get("/activities", {"limit": 2, "cursor": first["next"]}).json()
    third = client.get("/activities", {"limit": 2, "cursor": second["next"]}).json()
    seen = [a["id"] for page in (first, second, third) for a in page["items"]]
    assert seen == [a.pk for a in reversed(made)]
    assert third["next"] is None


def test_a_customer_merge_moves_the_activities_to_the_survivor(users, customers):
    from guanxi.customers.merge import customer_merge
    from tests.conftest import fresh, make_customer

    duplicate = make_customer(users.am1, name="甲一电力客户（重复）")
    moved = make_activity(users.am1, duplicate)
    kept = make_activity(users.am1, customers.c1)
    result = customer_merge(
        actor=fresh(users.bm1),
        survivor_id=customers.c1.pk,
        merged_id=duplicate.pk,
        survivor_version=customers.c1.version,
        merged_version=duplicate.version,
    )
    assert result.moved["activities"] == [moved.pk]
    assert set(Activity.objects.filter(customer=customers.c1).values_list("pk", flat=True)) == {moved.pk, kept.pk}


def test_a_participant_completes_and_the_follow_up_goes_to_whoever_may_hold_it(api, users, customers):
    shared = make_activity(users.am3, customers.c3, participant_ids=[users.am1.pk])
    # am1 takes part but cannot see customer c3's other records: the follow-up cannot be created for c3 by am1.
    refused = api(users.am1).post(f"/activities/{shared.pk}/complete", {"version": 1, "next_step": "寄资料"})
    assert refused.status_code == 422
    assert "next_step" in errors_by_field(refused)
    assert Activity.objects.get(pk=shared.pk).status == Activity.Status.PLANNED  # nothing half-done
    done = api(users.am1).post(f"/activities/{shared.pk}/complete", {"version": 1, "outcome": "已参加"})
    assert done.status_code == 200
    # A team lead completing a member's activity: the follow-up stays with the member.
    visit = make_activity(users.am1, customers.c1)
    body = api(users.lead1).post(f"/activities/{visit.pk}/complete", {"version": 1, "next_step": "回访"}).json()
    assert body["follow_up"]["owner_id"] == users.am1.pk
