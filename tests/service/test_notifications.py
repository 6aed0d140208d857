"""Ticket events reach the notification centre (J4): hand-over requests (person or team), answers, expiry, SLA
warnings, breaches and escalations; the notices follow each recipient's language and email preferences."""

from django.core import mail

from guanxi.activities.models import Notification
from guanxi.core.models import Profile
from guanxi.service import notices, services, sla
from tests.conftest import fresh
from tests.service.factories import Clock, at, make_ticket

MONDAY_9 = at(2026, 3, 2, 9, 0)


def kinds_of(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def _handover(api, user, ticket, **body):
    ticket.refresh_from_db()
    return api(user).post(f"/tickets/{ticket.pk}/handover", {"version": ticket.version, **body})


def test_a_hand_over_request_tells_the_addressee_and_its_answer_tells_the_sender(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1, subject="停电投诉")
    assert _handover(api, users.agent1, ticket, to_user_id=users.lead1.pk, reason="需要协调").status_code == 201
    request = Notification.objects.get(user=users.lead1)
    assert request.kind == "handover_request" and ticket.number in request.title and "需要协调" in request.body
    assert request.url == f"/service/{ticket.pk}/"
    assert kinds_of(users.agent1) == []  # the sender is not told of their own request
    assert api(users.lead1).post(f"/tickets/{ticket.pk}/handover/accept", {"note": "我来"}).status_code == 200
    answer = Notification.objects.get(user=users.agent1)
    assert answer.kind == "handover_answer" and ticket.number in answer.title and "我来" in answer.body
    assert kinds_of(users.lead1) == ["handover_request"]  # the accepter is not told of their own act


def test_a_declined_hand_over_tells_the_sender(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    _handover(api, users.agent1, ticket, to_user_id=users.lead1.pk, reason="请协助")
    assert api(users.lead1).post(f"/tickets/{ticket.pk}/handover/decline", {"note": "不属于本班组"}).status_code == 200
    answer = Notification.objects.get(user=users.agent1)
    assert answer.kind == "handover_answer" and "不属于本班组" in answer.body


def test_a_team_hand_over_tells_every_member_who_works_tickets(users, customers, org, api):
    ticket = make_ticket(users.agent1, customers.c1)
    assert _handover(api, users.agent1, ticket, to_team_id=org.B01_T1.pk, reason="属地班组").status_code == 201
    told = set(Notification.objects.filter(kind="handover_request").values_list("user_id", flat=True))
    members_who_work = {u.pk for u in (users.lead1, users.am1) if fresh(u).has_perm("service.change_ticket")}
    assert told == members_who_work and told
    assert users.am2.pk not in told and users.agent1.pk not in told


def test_an_expired_hand_over_tells_the_sender(users, customers, monkeypatch):
    clock = Clock(monkeypatch, MONDAY_9)
    ticket = make_ticket(users.am1, customers.c1)
    services.handover_request(
        actor=fresh(users.am1), ticket_id=ticket.pk, version=ticket.version, to_user_id=users.lead1.pk, reason="x"
    )
    clock.set(at(2026, 3, 2, 12, 0))
    assert services.handovers_expire() == 1
    assert kinds_of(users.am1) == ["handover_answer"]
    assert ticket.number in Notification.objects.get(user=users.am1).title


def test_a_rolled_back_request_notifies_nobody(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    bad = _handover(api, users.agent1, ticket, to_user_id=users.am1.pk, reason="")  # no reason: 422
    assert bad.status_code == 422
    assert Notification.objects.count() == 0


def test_sla_warning_breach_and_escalation_reach_owner_and_escalation_targets(
    users, customers, monkeypatch, django_capture_on_commit_callbacks
):
    assert notices.sla_hook in sla.notify_hooks  # registered by the service app
    users.am1.email, users.lead1.email = "am1@example.com", "lead1@example.com"
    users.am1.save(update_fields=["email"])
    users.lead1.save(update_fields=["email"])
    Profile.objects.filter(user=users.lead1).update(language="en")
    clock = Clock(monkeypatch, MONDAY_9)
    ticket = make_ticket(users.am1, customers.c1)  # team B01-T1 (lead1), response due 10:00
    clock.set(at(2026, 3, 2, 9, 30))
    with django_capture_on_commit_callbacks(execute=True):
        sla.sla_sweep()
    assert kinds_of(users.am1) == ["sla_warning"] and kinds_of(users.lead1) == []
    assert mail.outbox == []  # warnings are in-app only by default
    clock.set(at(2026, 3, 2, 10, 0))
    with django_capture_on_commit_callbacks(execute=True):
        sla.sla_sweep()
    assert kinds_of(users.am1) == ["sla_warning", "sla_breach"]
    lead_notice = Notification.objects.get(user=users.lead1)
    assert lead_notice.kind == "sla_breach" and lead_notice.title.startswith(f"Ticket {ticket.number} was escalated")
    assert sorted(m.to[0] for m in mail.outbox) == ["am1@example.com", "lead1@example.com"]  # breaches: email too
    clock.set(at(2026, 3, 2, 12, 0))
    with django_capture_on_commit_callbacks(execute=True):
        sla.sla_sweep()
    assert kinds_of(users.bm1) == ["sla_breach"]
    assert kinds_of(users.am1) == ["sla_warning", "sla_breach", "sla_breach"]


def test_assignment_tells_the_new_owner_not_the_actor(users, customers):
    ticket = make_ticket(users.agent1, customers.c1)
    ticket.owner = users.am1
    assert notices.assigned(ticket, actor=users.lead1) == 1
    assert kinds_of(users.am1) == ["assignment"]
    ticket.owner = users.lead1
    assert notices.assigned(ticket, actor=users.lead1) == 0
