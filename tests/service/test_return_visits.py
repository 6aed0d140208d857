"""Return visits (回访): scheduled on closing (per type), assigned to the receiver's team, swept when due, recorded
(reached or not, retries, unreachable), reopening the ticket and notifying the lead when the customer is unhappy;
scope on every read path, bad input, stale and concurrent recordings."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.activities.models import Notification
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.services import user_create
from guanxi.service import return_visits
from guanxi.service.models import ReturnVisit, ReturnVisitAttempt, Ticket, TicketEvent
from tests.conftest import PASSWORD, audit_count, errors_by_field, fresh
from tests.service.factories import Clock, at, ensure_reference_data, make_ticket, move

H = timedelta(hours=1)


def closed_by_lead(users, customer, ticket_type="complaint"):
    """agent1 (95598, B01-T3) receives the ticket, hands it to lead1 (B01-T1) who accepts, resolves and closes it."""
    from guanxi.service import services

    ticket = make_ticket(users.agent1, customer, ticket_type=ticket_type)
    services.handover_request(
        actor=fresh(users.agent1),
        ticket_id=ticket.pk,
        version=ticket.version,
        to_user_id=users.lead1.pk,
        reason="转班长",
    )
    services.handover_accept(actor=fresh(users.lead1), ticket_id=ticket.pk)
    return move(ticket, users.lead1, "accept", "resolve", "close")


def record(api, user, visit, **data):
    visit.refresh_from_db()
    payload = {"version": visit.version, "reached": True, "channel": "phone", **data}
    return api(user).post(f"/return-visits/{visit.pk}/record", payload)


def test_closing_schedules_a_visit_for_the_receivers_team(users, customers, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    assert visit.status == "scheduled" and visit.closed_at == clock.now
    assert visit.due_at == clock.now + 24 * H  # complaint: 24 hours (seeded rule)
    assert visit.team_id == users.agent1.profile.org_unit_id  # the 95598 desk that took the call
    assert visit.assignee_id == users.agent1.pk  # not lead1, who resolved it
    assert visit.max_attempts == 3
    assert audit_count(object_type="service.returnvisit", object_id=str(visit.pk), action="return_visit_schedule") == 1


def test_emergency_repair_is_visited_sooner_and_a_reclosed_ticket_gets_another_visit(users, customers, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    ticket = make_ticket(users.agent1, customers.c1, ticket_type="emergency_repair")
    move(ticket, users.agent1, "accept", "resolve", "close")
    first = ReturnVisit.objects.get(ticket=ticket)
    assert first.due_at == clock.now + 4 * H
    assert first.assignee_id is None  # agent1 received and resolved it, no other agent on B01-T3: the team's pool
    clock.set(clock.now + H)
    move(ticket, users.agent1, "reopen", "start", "resolve", "close")
    assert ReturnVisit.objects.filter(ticket=ticket).count() == 2


def test_the_least_loaded_other_agent_of_the_team_gets_the_visit(users, customers):
    agent3 = user_create(username="agent3", password=PASSWORD, role="service_agent", org_unit_code="B01-T3")
    first = closed_by_lead(users, customers.c1)
    second = closed_by_lead(users, customers.c1)
    assignees = {ReturnVisit.objects.get(ticket=first).assignee_id, ReturnVisit.objects.get(ticket=second).assignee_id}
    assert assignees == {users.agent1.pk, agent3.pk}


def test_the_sweep_makes_visits_due_once_tells_the_agent_and_is_set_based(users, customers, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    one = closed_by_lead(users, customers.c1)
    assert return_visits.return_visits_sweep() == {"return_visits_due": 0, "return_visits_cancelled": 0}
    clock.set(clock.now + 25 * H)
    with CaptureQueriesContext(connection) as single:
        assert return_visits.return_visits_sweep()["return_visits_due"] == 1
    assert ReturnVisit.objects.get(ticket=one).status == "due"
    notes = Notification.objects.filter(user=users.agent1, kind="return_visit")
    assert notes.count() == 1 and "1" in notes.get().title
    assert return_visits.return_visits_sweep()["return_visits_due"] == 0  # idempotent
    assert notes.count() == 1
    for _ in range(5):
        closed_by_lead(users, customers.c1)
    clock.set(clock.now + 25 * H)
    with CaptureQueriesContext(connection) as many:
        assert return_visits.return_visits_sweep()["return_visits_due"] == 5
    assert len(many) == len(single)  # the same statements for 1 and 5 visits
    assert audit_count(object_type="service.returnvisit", action="return_visit_due") == 6


def test_the_sweep_cancels_the_visit_of_a_ticket_reopened_meanwhile(users, customers, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    ticket = closed_by_lead(users, customers.c1)
    move(ticket, users.lead1, "reopen")
    clock.set(clock.now + H)
    assert return_visits.return_visits_sweep()["return_visits_cancelled"] == 1
    assert ReturnVisit.objects.get(ticket=ticket).status == "cancelled"
    assert return_visits.return_visits_sweep()["return_visits_cancelled"] == 0


def test_the_queue_shows_due_overdue_and_upcoming_visits(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    early = closed_by_lead(users, customers.c1)
    clock.set(clock.now + 2 * H)
    late = closed_by_lead(users, customers.c1)
    clock.set(at(2026, 3, 3, 11, 0))  # 25 h after the first closing, 23 h after the second
    client = api(users.agent1)  # signed in after the clock moved (sessions expire)
    due = client.get("/return-visits").json()
    assert [v["ticket_id"] for v in due["items"]] == [early.pk]
    assert due["items"][0]["overdue"] is False
    assert [v["ticket_id"] for v in client.get("/return-visits", {"queue": "upcoming"}).json()["items"]] == [late.pk]
    clock.set(at(2026, 3, 4, 11, 0))
    client = api(users.agent1)
    overdue = client.get("/return-visits", {"queue": "overdue"}).json()["items"]
    assert [v["ticket_id"] for v in overdue] == [early.pk] and overdue[0]["overdue"] is True
    page = client.get("/return-visits", {"queue": "open", "limit": 1}).json()
    assert len(page["items"]) == 1 and page["next"]
    rest = client.get("/return-visits", {"queue": "open", "limit": 1, "cursor": page["next"]}).json()
    assert [v["ticket_id"] for v in rest["items"]] == [late.pk]
    assert client.get("/return-visits", {"queue": "nonsense"}).status_code == 422


def test_a_visit_is_visible_only_where_its_ticket_is(users, customers, api):
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    for user in (users.agent1, users.lead1, users.bm1, users.am1):
        assert api(user).get(f"/return-visits/{visit.pk}").status_code == 200, user
        assert visit.pk in [v["id"] for v in api(user).get("/return-visits", {"queue": "open"}).json()["items"]]
        assert api(user).get(f"/tickets/{ticket.pk}/return-visits").status_code == 200
        history = api(user).get("/audit", {"object_type": "service.returnvisit", "object_id": visit.pk})
        assert history.status_code == 200, user
        assert [e["action"] for e in history.json()["items"]] == ["return_visit_schedule"]
    for user in (users.agent2, users.bm2, users.lead3, users.am2):
        client = api(user)
        assert client.get(f"/return-visits/{visit.pk}").status_code == 404, user
        assert client.get("/return-visits", {"queue": "open"}).json()["items"] == []
        assert client.get(f"/tickets/{ticket.pk}/return-visits").status_code == 404
        history = client.get("/audit", {"object_type": "service.returnvisit", "object_id": visit.pk})
        assert history.status_code == 404, user
        assert record(api, user, visit, satisfaction=5).status_code == 404
    assert ReturnVisit.objects.get(pk=visit.pk).attempts == 0


def test_a_satisfied_customer_completes_the_visit(users, customers, api):
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    response = record(api, users.agent1, visit, satisfaction=5, comment="很满意")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed" and body["satisfaction"] == 5 and body["reopened"] is False
    assert body["attempt_log"][0]["reached"] is True and body["attempts"] == 1
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
    assert audit_count(object_type="service.returnvisit", object_id=str(visit.pk), action="return_visit_record") == 1
    again = record(api, users.agent1, visit, satisfaction=4)
    assert again.status_code == 409  # finished (and a stale version would be 409 too)
    stale = api(users.agent1).post(
        f"/return-visits/{visit.pk}/record", {"version": 1, "reached": True, "channel": "phone", "satisfaction": 3}
    )
    assert stale.status_code == 409


def test_a_dissatisfied_customer_reopens_the_ticket_and_the_lead_is_told(users, customers, api):
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    response = record(api, users.agent1, visit, satisfaction=2, comment="电费还是不对")
    assert response.status_code == 200, response.content
    assert response.json()["reopened"] is True
    ticket.refresh_from_db()
    assert ticket.status == "reopened" and ticket.owner_id == users.lead1.pk and ticket.closed_at is None
    event = TicketEvent.objects.filter(ticket=ticket, kind="reopened").get()
    assert event.actor_id == users.agent1.pk and "电费还是不对" in event.note
    notice = Notification.objects.get(user=users.lead1, kind="return_visit")
    assert ticket.number in notice.title and notice.url.endswith(f"/service/{ticket.pk}/")
    assert audit_count(object_type="service.ticket", object_id=str(ticket.pk), action="reopen") == 1


def test_a_satisfaction_of_3_does_not_reopen(users, customers, api):
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    assert record(api, users.agent1, visit, satisfaction=3).json()["reopened"] is False
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
    assert not Notification.objects.filter(kind="return_visit").exists()


def test_an_unreached_customer_is_retried_then_unreachable(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    clock.set(at(2026, 3, 3, 11, 0))
    first = record(api, users.agent1, visit, reached=False, comment="无人接听").json()
    assert first["status"] == "scheduled" and first["attempts"] == 1
    assert first["due_at"] == "2026-03-03T07:00:00Z"  # 4 hours later (complaint rule), 15:00 in Shanghai
    record(api, users.agent1, visit, reached=False, channel="sms")
    third = record(api, users.agent1, visit, reached=False).json()
    assert third["status"] == "unreachable" and third["attempts"] == 3 and third["satisfaction"] is None
    assert [a["channel"] for a in third["attempt_log"]] == ["phone", "sms", "phone"]
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
    assert record(api, users.agent1, visit, reached=False).status_code == 409


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"satisfaction": 7}, "satisfaction"),
        ({"satisfaction": 0}, "satisfaction"),
        ({"satisfaction": None}, "satisfaction"),
        ({"reached": False, "satisfaction": 4}, "satisfaction"),
        ({"satisfaction": 4, "channel": "fax"}, "channel"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(users, customers, api, data, field):
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    audits = audit_count()
    response = record(api, users.agent1, visit, **data)
    assert response.status_code == 422, response.content
    assert field in errors_by_field(response)
    visit.refresh_from_db()
    assert visit.attempts == 0 and visit.version == 1 and visit.status == "scheduled"
    assert not ReturnVisitAttempt.objects.exists() and audit_count() == audits


def test_only_the_assigned_agent_or_a_lead_records(users, customers, api):
    user_create(username="agent3", password=PASSWORD, role="service_agent", org_unit_code="B01-T3")
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    from django.contrib.auth import get_user_model

    agent3 = get_user_model().objects.get(username="agent3")
    other = agent3 if visit.assignee_id == users.agent1.pk else users.agent1
    assert record(api, other, visit, satisfaction=5).status_code == 403
    assert record(api, users.bm1, visit, satisfaction=5).status_code == 200  # a manager may record for them


def test_the_queue_page_records_a_visit(users, customers, monkeypatch):
    from django.test import Client

    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    clock.set(clock.now + 25 * H)
    client = Client()
    client.force_login(users.agent1)
    page = client.get("/service/return-visits/")
    assert page.status_code == 200 and ticket.number in page.content.decode()
    response = client.post(
        f"/service/return-visits/{visit.pk}/record/",
        {"version": visit.version, "reached": "yes", "channel": "phone", "satisfaction": "1", "comment": "不满意"},
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == "reopened"
    other = Client()
    other.force_login(users.agent2)
    assert ticket.number not in other.get("/service/return-visits/?queue=done").content.decode()


def test_the_queue_reads_a_constant_number_of_queries(users, customers, api, django_assert_max_num_queries):
    for _ in range(6):
        closed_by_lead(users, customers.c1)
    client = api(users.agent1)
    with django_assert_max_num_queries(12):
        assert len(client.get("/return-visits", {"queue": "open"}).json()["items"]) == 6


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_agents_recording_the_same_visit_at_once_one_wins():
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model

    from guanxi.customers import services as customer_services
    from tests.conftest import build_org, build_users

    ensure_reference_data()
    build_org()
    people = SimpleNamespace(**build_users())
    customer = customer_services.customer_create(
        actor=people.am1, data={"name": "回访并发客户", "kind": "organisation"}
    )
    ticket = closed_by_lead(people, customer)
    visit = ReturnVisit.objects.get(ticket=ticket)
    barrier = threading.Barrier(2)

    def go(args):
        username, score = args
        try:
            barrier.wait(timeout=30)
            return return_visits.visit_record(
                actor=get_user_model().objects.get(username=username),
                visit_id=visit.pk,
                version=1,
                reached=True,
                channel="phone",
                satisfaction=score,
            )
        except Exception as exc:  # noqa: BLE001 - the outcome of each racer is what the test inspects
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(go, [("agent1", 1), ("bm1", 5)]))
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], StaleVersion | Conflict)
    visit.refresh_from_db()
    assert visit.attempts == 1 and visit.version == 2 and visit.satisfaction == winners[0].satisfaction
    assert ReturnVisitAttempt.objects.filter(visit=visit).count() == 1
    reopened = TicketEvent.objects.filter(ticket=ticket, kind="reopened").count()
    assert reopened == (1 if visit.satisfaction == 1 else 0)


def test_the_ticket_page_box_lists_the_visits_within_scope(users, customers):
    from django.test import Client

    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    client = Client()
    client.force_login(users.agent1)
    box = client.get(f"/service/return-visits/ticket/{ticket.pk}/")
    assert box.status_code == 200
    html = box.content.decode()
    assert f"/service/return-visits/{visit.pk}/record/" in html  # agent1 is the assigned agent
    lead = Client()
    lead.force_login(users.lead1)
    assert (
        f"/return-visits/{visit.pk}/record/" in lead.get(f"/service/return-visits/ticket/{ticket.pk}/").content.decode()
    )
    outsider = Client()
    outsider.force_login(users.agent2)
    assert outsider.get(f"/service/return-visits/ticket/{ticket.pk}/").status_code == 404
    response = client.post(
        f"/service/return-visits/{visit.pk}/record/",
        {"version": 1, "reached": "no", "channel": "phone", "next": f"/service/{ticket.pk}/"},
    )
    assert response.status_code == 302 and response.url == f"/service/{ticket.pk}/"
    assert ReturnVisit.objects.get(pk=visit.pk).attempts == 1


def test_the_beat_runs_the_sweep_task_every_minute(users, customers, settings, monkeypatch):
    from guanxi.service import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["service-return-visits"]
    assert entry == {"task": "service.return_visits", "schedule": 60.0}
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    closed_by_lead(users, customers.c1)
    clock.set(clock.now + 25 * H)
    assert tasks.return_visits_sweep.apply().get() == {"return_visits_due": 1, "return_visits_cancelled": 0}
    assert tasks.return_visits_sweep.apply().get() == {"return_visits_due": 0, "return_visits_cancelled": 0}
