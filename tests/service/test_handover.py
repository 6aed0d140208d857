"""First-contact responsibility (首问负责): the receiver owns the ticket until a hand-over is accepted; declined and
expired requests leave it with the sender; the chain is kept and shown."""

from datetime import timedelta

import pytest

from guanxi.core.models import AuditLog
from guanxi.core.services import user_create
from guanxi.service import services
from guanxi.service.models import Handover, TicketEvent
from tests.conftest import PASSWORD, errors_by_field, fresh
from tests.service.factories import Clock, at, ensure_reference_data, make_ticket, move


def _handover(api, user, ticket, **body):
    ticket.refresh_from_db()
    return api(user).post(f"/tickets/{ticket.pk}/handover", {"version": ticket.version, **body})


def test_the_owner_stays_until_the_receiver_accepts(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    response = _handover(api, users.agent1, ticket, to_user_id=users.lead1.pk, reason="需要班组长协调")
    assert response.status_code == 201, response.content
    ticket.refresh_from_db()
    assert ticket.owner_id == users.agent1.pk  # not yet handed over
    # The receiver sees the ticket (it is addressed to them) and accepts it.
    accepted = api(users.lead1).post(f"/tickets/{ticket.pk}/handover/accept", {"note": "我来处理"})
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert body["owner"]["id"] == users.lead1.pk
    assert body["receiver"]["id"] == users.agent1.pk  # the first contact is remembered
    assert body["team"]["id"] == users.lead1.profile.org_unit_id
    assert [h["status"] for h in body["handovers"]] == ["accepted"]
    assert body["handovers"][0]["from_user"]["id"] == users.agent1.pk
    assert AuditLog.objects.filter(
        object_type="service.ticket", object_id=str(ticket.pk), action="handover_accept"
    ).exists()
    # The former owner may no longer act on it (首问负责 moved with the hand-over).
    assert api(users.agent1).post(f"/tickets/{ticket.pk}/accept", {"version": body["version"]}).status_code in (
        403,
        404,
    )


def test_a_hand_over_to_another_branch_is_visible_to_its_receiver(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    assert api(users.agent2).get(f"/tickets/{ticket.pk}").status_code == 404
    assert _handover(api, users.agent1, ticket, to_user_id=users.agent2.pk, reason="属地在B02").status_code == 201
    assert api(users.agent2).get(f"/tickets/{ticket.pk}").status_code == 200
    assert api(users.agent2).post(f"/tickets/{ticket.pk}/handover/accept", {}).status_code == 200
    assert api(users.agent2).get(f"/tickets/{ticket.pk}").json()["owner"]["id"] == users.agent2.pk


def test_a_declined_hand_over_leaves_the_ticket_with_the_sender(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    _handover(api, users.agent1, ticket, to_user_id=users.lead1.pk, reason="请协助")
    no_reason = api(users.lead1).post(f"/tickets/{ticket.pk}/handover/decline", {})
    assert no_reason.status_code == 422 and "note" in errors_by_field(no_reason)
    declined = api(users.lead1).post(f"/tickets/{ticket.pk}/handover/decline", {"note": "不属于本班组"})
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined" and declined.json()["note"] == "不属于本班组"
    ticket.refresh_from_db()
    assert ticket.owner_id == users.agent1.pk
    assert api(users.agent1).get(f"/tickets/{ticket.pk}").json()["handovers"][0]["status"] == "declined"
    # Answering again: the ticket is no longer addressed to lead1 (out of scope) and nothing is pending.
    assert api(users.lead1).post(f"/tickets/{ticket.pk}/handover/accept", {}).status_code == 404
    assert api(users.agent1).post(f"/tickets/{ticket.pk}/handover/accept", {}).status_code == 409


def test_the_same_person_may_decline_twice_with_the_same_note(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    for _ in range(2):
        assert _handover(api, users.agent1, ticket, to_user_id=users.lead1.pk, reason="请协助").status_code == 201
        declined = api(users.lead1).post(f"/tickets/{ticket.pk}/handover/decline", {"note": "不属于本班组"})
        assert declined.status_code == 200, declined.content
    assert [h["status"] for h in api(users.agent1).get(f"/tickets/{ticket.pk}").json()["handovers"]] == [
        "declined",
        "declined",
    ]


def test_only_the_addressee_may_answer(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    _handover(api, users.agent1, ticket, to_user_id=users.lead1.pk, reason="请协助")
    assert api(users.bm1).post(f"/tickets/{ticket.pk}/handover/accept", {}).status_code == 403
    assert api(users.agent1).post(f"/tickets/{ticket.pk}/handover/accept", {}).status_code == 403


def test_a_team_hand_over_is_accepted_by_a_member_of_the_team(users, customers, org, api):
    ticket = make_ticket(users.agent1, customers.c1)
    response = _handover(api, users.agent1, ticket, to_team_id=org.B01_T1.pk, reason="转抢修班")
    assert response.status_code == 201
    assert api(users.lead2).post(f"/tickets/{ticket.pk}/handover/accept", {}).status_code == 404  # not addressed
    assert api(users.bm1).post(f"/tickets/{ticket.pk}/handover/accept", {}).status_code == 403  # sees it, not in team
    assert api(users.am1).post(f"/tickets/{ticket.pk}/handover/accept", {}).status_code == 200  # member of B01-T1
    ticket.refresh_from_db()
    assert ticket.owner_id == users.am1.pk and ticket.team_id == org.B01_T1.pk


def test_hand_over_requests_are_validated(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    cases = [
        ({"to_user_id": users.lead1.pk, "reason": " "}, "reason"),
        ({"reason": "x"}, "to_user_id"),
        ({"to_user_id": users.lead1.pk, "to_team_id": 1, "reason": "x"}, "to_user_id"),
        ({"to_user_id": users.analyst1.pk, "reason": "x"}, "to_user_id"),  # cannot work on tickets
        ({"to_user_id": users.agent1.pk, "reason": "x"}, "to_user_id"),  # already theirs
        ({"to_team_id": 999999, "reason": "x"}, "to_team_id"),
    ]
    for body, field in cases:
        response = _handover(api, users.agent1, ticket, **body)
        assert response.status_code == 422, (body, response.content)
        assert field in errors_by_field(response), (body, response.json())
    assert not Handover.objects.exists()
    assert _handover(api, users.am1, ticket, to_user_id=users.lead1.pk, reason="x").status_code == 403  # not owner
    assert _handover(api, users.agent1, ticket, to_user_id=users.lead1.pk, reason="x").status_code == 201
    again = _handover(api, users.agent1, ticket, to_user_id=users.lead2.pk, reason="x")
    assert again.status_code == 409  # one pending request at a time
    stale = api(users.agent1).post(
        f"/tickets/{ticket.pk}/handover", {"version": 1, "to_user_id": users.lead2.pk, "reason": "x"}
    )
    assert stale.status_code == 409


def test_an_unanswered_hand_over_expires_back_to_the_sender(users, customers, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))
    ticket = make_ticket(users.agent1, customers.c1)
    services.handover_request(
        actor=fresh(users.agent1),
        ticket_id=ticket.pk,
        version=ticket.version,
        to_user_id=users.lead1.pk,
        reason="请协助",
    )
    clock.set(at(2026, 3, 2, 9, 0) + services.HANDOVER_TIMEOUT - timedelta(minutes=1))
    assert services.handovers_expire() == 0
    clock.set(at(2026, 3, 2, 9, 0) + services.HANDOVER_TIMEOUT)
    assert services.handovers_expire() == 1
    assert services.handovers_expire() == 0  # idempotent
    ticket.refresh_from_db()
    assert ticket.owner_id == users.agent1.pk
    assert Handover.objects.get().status == Handover.Status.EXPIRED
    assert TicketEvent.objects.filter(ticket=ticket, kind="handover_expired").count() == 1
    assert AuditLog.objects.filter(object_id=str(ticket.pk), action="handover_expire").count() == 1
    assert AuditLog.objects.get(object_id=str(ticket.pk), action="handover_expire").object_repr == str(ticket)
    # Then the sender may hand it over again.
    ticket.refresh_from_db()
    services.handover_request(
        actor=fresh(users.agent1), ticket_id=ticket.pk, version=ticket.version, to_user_id=users.lead2.pk, reason="再试"
    )
    assert Handover.objects.filter(status="pending").count() == 1


def test_resolving_cancels_a_pending_hand_over(users, customers):
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept")
    services.handover_request(
        actor=fresh(users.agent1), ticket_id=ticket.pk, version=ticket.version, to_user_id=users.lead1.pk, reason="x"
    )
    move(ticket, users.agent1, "resolve")
    assert Handover.objects.get().status == Handover.Status.CANCELLED


def test_the_chain_is_shown_on_the_ticket_page(users, customers, client):
    ticket = make_ticket(users.agent1, customers.c1)
    services.handover_request(
        actor=fresh(users.agent1),
        ticket_id=ticket.pk,
        version=ticket.version,
        to_user_id=users.lead1.pk,
        reason="需要协调",
    )
    services.handover_decline(actor=fresh(users.lead1), ticket_id=ticket.pk, note="不属于本班组")
    client.force_login(users.agent1)
    page = client.get(f"/service/{ticket.pk}/").content.decode()
    assert "需要协调" in page and "不属于本班组" in page and "AGENT1" in page and "LEAD1" in page


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_two_agents_accepting_one_team_hand_over_at_once_one_wins():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.contrib.auth import get_user_model
    from django.db import connection

    from guanxi.customers import services as customer_services
    from tests.conftest import build_org, build_users

    ensure_reference_data()
    build_org()
    people = build_users()
    user_create(username="agent3", password=PASSWORD, role="service_agent", org_unit_code="B01-T3", full_name="AGENT3")
    customer = customer_services.customer_create(actor=people["am1"], data={"name": "并发客户", "kind": "organisation"})
    ticket = make_ticket(people["am1"], customer)
    from guanxi.core.models import OrgUnit

    team = OrgUnit.objects.get(code="B01-T3")
    services.handover_request(
        actor=fresh(people["am1"]), ticket_id=ticket.pk, version=ticket.version, to_team_id=team.pk, reason="转客服班"
    )
    barrier = threading.Barrier(2)

    def accept(username):
        try:
            barrier.wait(timeout=30)
            return services.handover_accept(actor=get_user_model().objects.get(username=username), ticket_id=ticket.pk)
        except Exception as exc:  # noqa: BLE001 - the outcome of each racer is what the test inspects
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(accept, ["agent1", "agent3"]))
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    from guanxi.core.errors import Conflict

    assert isinstance(losers[0], Conflict)
    ticket.refresh_from_db()
    assert ticket.owner_id == winners[0].owner_id
    handover = Handover.objects.get(ticket=ticket)
    assert handover.status == Handover.Status.ACCEPTED and handover.decided_by_id == ticket.owner_id
    assert TicketEvent.objects.filter(ticket=ticket, kind="handover_accepted").count() == 1
