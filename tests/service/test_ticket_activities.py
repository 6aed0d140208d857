"""Activities linked to a ticket (the activities app's generic link): listed on the ticket page and in the API,
follow-ups created from the ticket, every read scoped."""

from django.contrib.contenttypes.models import ContentType

from guanxi.activities.models import Activity
from guanxi.core.models import AuditLog
from guanxi.service import services
from guanxi.service.models import Ticket
from tests.conftest import errors_by_field, fresh
from tests.service.factories import make_ticket


def test_a_follow_up_is_linked_to_the_ticket_and_its_customer(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    response = api(users.agent1).post(
        f"/tickets/{ticket.pk}/activities",
        {"kind": "outbound_call", "subject": "回电确认修复", "planned_start": "2026-03-03T10:00:00+08:00"},
    )
    assert response.status_code == 201, response.content
    activity = Activity.objects.get(pk=response.json()["id"])
    assert activity.linked_type == ContentType.objects.get_for_model(Ticket) and activity.linked_id == ticket.pk
    assert activity.customer_id == customers.c1.pk and activity.status == Activity.Status.PLANNED
    assert activity.owner_id == users.agent1.pk
    assert AuditLog.objects.filter(object_type="activities.activity", object_id=str(activity.pk)).exists()
    listed = api(users.agent1).get(f"/tickets/{ticket.pk}/activities").json()
    assert [a["id"] for a in listed] == [activity.pk] and listed[0]["kind_label"]


def test_activities_linked_through_the_activities_api_are_listed_too(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    other = make_ticket(users.agent1, customers.c1)
    created = api(users.agent1).post(
        "/activities",
        {
            "kind": "visit",
            "subject": "现场勘察",
            "customer_id": customers.c1.pk,
            "linked_type": "service.ticket",
            "linked_id": ticket.pk,
        },
    )
    assert created.status_code == 201, created.content
    assert [a["subject"] for a in api(users.agent1).get(f"/tickets/{ticket.pk}/activities").json()] == ["现场勘察"]
    assert api(users.agent1).get(f"/tickets/{other.pk}/activities").json() == []


def test_bad_input_names_the_field_and_writes_nothing(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    empty = api(users.agent1).post(f"/tickets/{ticket.pk}/activities", {"subject": ""})
    assert empty.status_code == 422 and "subject" in errors_by_field(empty)
    backwards = api(users.agent1).post(
        f"/tickets/{ticket.pk}/activities",
        {"subject": "回访", "planned_start": "2026-03-03T10:00:00+08:00", "planned_end": "2026-03-03T09:00:00+08:00"},
    )
    assert backwards.status_code == 422 and "planned_end" in errors_by_field(backwards)
    assert not Activity.objects.exists()


def test_a_ticket_out_of_scope_is_not_found(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    api(users.agent1).post(f"/tickets/{ticket.pk}/activities", {"subject": "回电"})
    assert api(users.agent2).get(f"/tickets/{ticket.pk}/activities").status_code == 404
    assert api(users.agent2).post(f"/tickets/{ticket.pk}/activities", {"subject": "回电"}).status_code == 404
    assert Activity.objects.count() == 1


def test_only_the_activities_the_user_may_see_are_listed(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    assert api(users.bm1).post(f"/tickets/{ticket.pk}/activities", {"subject": "经理跟进"}).status_code == 201
    assert api(users.am2).get(f"/tickets/{ticket.pk}/activities").status_code == 404  # another team, own scope
    assert [a["subject"] for a in api(users.agent1).get(f"/tickets/{ticket.pk}/activities").json()] == ["经理跟进"]
    # A hand-over receiver from another branch sees the ticket, not the customer's activities; their own follow-up
    # is linked to the ticket without the customer they may not see.
    services.handover_request(
        actor=fresh(users.agent1),
        ticket_id=ticket.pk,
        version=ticket.version,
        reason="属地在B02",
        to_user_id=users.agent2.pk,
    )
    assert api(users.agent2).get(f"/tickets/{ticket.pk}/activities").json() == []
    own = api(users.agent2).post(f"/tickets/{ticket.pk}/activities", {"subject": "B02回电"})
    assert own.status_code == 201 and own.json()["customer_id"] is None
    assert [a["subject"] for a in api(users.agent2).get(f"/tickets/{ticket.pk}/activities").json()] == ["B02回电"]


def test_the_ticket_page_lists_and_plans_follow_ups(users, customers, client):
    ticket = make_ticket(users.agent1, customers.c1)
    client.force_login(users.agent1)
    response = client.post(
        f"/service/tools/{ticket.pk}/follow-up/",
        {"kind": "visit", "subject": "上门查看电表", "planned_start": "2026-03-04T09:30"},
    )
    assert response.status_code == 302 and response["Location"] == f"/service/{ticket.pk}/"
    activity = Activity.objects.get(subject="上门查看电表")
    assert activity.kind == "visit" and activity.linked_id == ticket.pk and activity.planned_start is not None
    assert "上门查看电表" in client.get(f"/service/tools/{ticket.pk}/").content.decode()
    refused = client.post(f"/service/tools/{ticket.pk}/follow-up/", {"kind": "visit", "subject": ""}, follow=True)
    assert Activity.objects.count() == 1 and refused.status_code == 200
