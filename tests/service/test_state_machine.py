"""The ticket state machine: every allowed transition works, every other one is refused with 409 and a message."""

import pytest

from guanxi.service.models import Ticket, TicketEvent
from guanxi.service.services import TRANSITIONS
from tests.conftest import audit_count, fresh
from tests.service.factories import make_ticket, move

S = Ticket.Status
# How to bring a new ticket into each status.
PATH = {
    S.NEW: (),
    S.ACCEPTED: ("accept",),
    S.IN_PROGRESS: ("accept", "start"),
    S.WAITING: ("accept", "start", "wait"),
    S.RESOLVED: ("accept", "start", "resolve"),
    S.CLOSED: ("accept", "start", "resolve", "close"),
    S.REOPENED: ("accept", "start", "resolve", "reopen"),
}
BODY = {"resolve": {"resolution": "已为客户解释电价政策"}, "reopen": {"note": "客户回访不满意"}}
CASES = [(status, action) for status in S.values for action in TRANSITIONS]


def test_every_status_is_reachable_and_every_action_is_covered():
    assert set(PATH) == set(S.values)
    assert {target for _, target in TRANSITIONS.values()} | {S.NEW} == set(S.values)


@pytest.mark.parametrize(("status", "action"), CASES)
def test_each_transition_is_allowed_or_refused(users, customers, api, status, action):
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, *PATH[status])
    assert ticket.status == status
    before = audit_count(object_type="service.ticket", object_id=str(ticket.pk))
    response = api(users.agent1).post(
        f"/tickets/{ticket.pk}/{action}", {"version": ticket.version, **BODY.get(action, {})}
    )
    allowed_from, target = TRANSITIONS[action]
    ticket.refresh_from_db()
    if status in allowed_from:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == target == ticket.status
        assert ticket.events.filter(from_status=status, to_status=target).exists()
        assert audit_count(object_type="service.ticket", object_id=str(ticket.pk), action=action) >= 1
    else:
        assert response.status_code == 409, response.content
        assert response.json()["detail"]  # a human message
        assert ticket.status == status  # nothing changed
        assert audit_count(object_type="service.ticket", object_id=str(ticket.pk)) == before


def test_accept_meets_the_response_target_and_moves_the_clock_to_resolution(users, customers):
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept")
    assert ticket.responded_at is not None
    assert ticket.sla_due_at == ticket.resolution_due_at
    assert not ticket.response_breached


def test_waiting_pauses_and_resuming_moves_the_deadlines(users, customers):
    ticket = move(
        make_ticket(users.agent1, customers.c1, ticket_type="emergency_repair"), users.agent1, "accept", "start"
    )
    due = ticket.resolution_due_at
    ticket = move(ticket, users.agent1, "wait")
    assert ticket.paused_at is not None
    ticket = move(ticket, users.agent1, "start")
    assert ticket.paused_at is None
    assert ticket.resolution_due_at >= due  # 24×7: moved by the (tiny) time paused


def test_resolving_needs_a_resolution(users, customers, api):
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept")
    response = api(users.agent1).post(f"/tickets/{ticket.pk}/resolve", {"version": ticket.version, "resolution": " "})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "resolution"
    ticket.refresh_from_db()
    assert ticket.status == S.ACCEPTED


def test_resolving_takes_a_cause_of_the_type_only(users, customers, api):
    from guanxi.service.models import TicketCause

    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept")
    foreign = TicketCause.objects.filter(ticket_type__code="emergency_repair").first()
    own = TicketCause.objects.filter(ticket_type__code="consultation").first()
    client = api(users.agent1)
    bad = client.post(
        f"/tickets/{ticket.pk}/resolve", {"version": ticket.version, "resolution": "ok", "cause_id": foreign.pk}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cause_id"
    good = client.post(
        f"/tickets/{ticket.pk}/resolve", {"version": ticket.version, "resolution": "ok", "cause_id": own.pk}
    )
    assert good.status_code == 200 and good.json()["cause_id"] == own.pk


def test_reopening_needs_a_reason(users, customers, api):
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "resolve")
    response = api(users.agent1).post(f"/tickets/{ticket.pk}/reopen", {"version": ticket.version})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "note"


def test_a_stale_version_is_refused(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    response = api(users.agent1).post(f"/tickets/{ticket.pk}/accept", {"version": ticket.version - 1 + 5})
    assert response.status_code == 409
    assert response.json()["current_version"] == ticket.version
    ticket.refresh_from_db()
    assert ticket.status == S.NEW


def test_only_the_owner_or_a_lead_may_act(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    other_agent = api(users.bm1)  # branch manager: may act (service.manage_ticket)
    assert api(users.analyst1).post(f"/tickets/{ticket.pk}/accept", {"version": ticket.version}).status_code == 403
    assert other_agent.post(f"/tickets/{ticket.pk}/accept", {"version": ticket.version}).status_code == 200
    assert TicketEvent.objects.filter(ticket=ticket, kind="accepted", actor=fresh(users.bm1)).exists()
