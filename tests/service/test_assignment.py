"""Assignment of queue tickets (service.assignment): an email's ticket goes to an available agent of the mailbox's team
by the team's rule (round robin, fewest open tickets, skills); a ticket a person received stays theirs (首问负责);
configuration through the API (versioned, audited); two tickets assigned at once on PostgreSQL take turns."""

import threading
import time
from email import policy
from email.message import EmailMessage

import pytest
from django.db import transaction

from guanxi.activities.models import Notification
from guanxi.core.models import AuditLog, OrgUnit
from guanxi.core.services import user_create
from guanxi.service import assignment, intake
from guanxi.service.models import AgentAvailability, AssignmentRule, Ticket, TicketEvent
from tests.conftest import PASSWORD, fresh
from tests.service.factories import ensure_reference_data, make_ticket


def email(n: int) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = f"客户{n} <c{n}@example.cn>"
    message["To"] = "kf@example.cn"
    message["Subject"] = f"咨询 {n}"
    message["Message-ID"] = f"<assign-{n}@example.cn>"
    message.set_content("请问电费怎么交？")
    return message.as_bytes()


def put(client, path: str, body: dict):
    return client.client.put(client._url(path), body, content_type="application/json")


def agent(name: str, *, available=True, skills=()):
    user = user_create(username=name, password=PASSWORD, role="service_agent", org_unit_code="B01-T3", full_name=name)
    if available or skills:
        assignment.availability_set(actor=fresh(user), version=0, available=available, skills=list(skills))
    return user


@pytest.fixture
def queue(users, settings):
    """The mailbox user of team B01-T3 (not available: a mailbox, not a person) and a round-robin rule there."""
    mailbox = user_create(username="kf_mailbox", password=PASSWORD, role="service_agent", org_unit_code="B01-T3")
    settings.GUANXI_SERVICE_MAIL_RECEIVER = "kf_mailbox"
    rule = assignment.rule_create(actor=users.admin, team_id=OrgUnit.objects.get(code="B01-T3").pk, data={})
    return mailbox, rule


def test_round_robin_hands_queue_tickets_out_in_turn(users, queue):
    mailbox, rule = queue
    wu, zhao = agent("wu"), agent("zhao")
    agent("absent", available=False)
    owners = [intake.receive(email(n)).ticket for n in range(3)]
    assert [t.owner_id for t in owners] == [wu.pk, zhao.pk, wu.pk]
    assert {t.receiver_id for t in owners} == {mailbox.pk}  # the mailbox stays the recorded receiver
    ticket = Ticket.objects.get(pk=owners[0].pk)
    assert ticket.owner_id == wu.pk
    assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).count() == 1
    assert AuditLog.objects.filter(action="assign", object_id=str(ticket.pk)).get().changes["owner"] == [
        mailbox.pk,
        wu.pk,
    ]
    assert Notification.objects.filter(user=wu, kind="assignment").count() == 2
    rule.refresh_from_db()
    assert rule.last_assigned_id == wu.pk


def test_fewest_open_tickets_goes_to_the_least_busy_agent(users, queue):
    _mailbox, rule = queue
    assignment.rule_update(actor=users.admin, rule_id=rule.pk, version=rule.version, data={"strategy": "least_open"})
    wu, zhao = agent("wu"), agent("zhao")
    make_ticket(wu)
    make_ticket(wu)
    make_ticket(zhao)
    assert intake.receive(email(1)).ticket.owner_id == zhao.pk  # 2 : 1
    assert intake.receive(email(2)).ticket.owner_id == wu.pk  # 2 : 2, the lower id
    assert intake.receive(email(3)).ticket.owner_id == zhao.pk  # 3 : 2


def test_skills_narrow_the_agents_to_the_tickets_type(users, queue):
    _mailbox, rule = queue
    assignment.rule_update(actor=users.admin, rule_id=rule.pk, version=rule.version, data={"match_skills": True})
    agent("wu", skills=["complaint"])
    zhao = agent("zhao", skills=["consultation", "complaint"])
    assert [intake.receive(email(n)).ticket.owner_id for n in range(2)] == [zhao.pk, zhao.pk]  # mail: consultation


def test_without_an_available_agent_or_a_rule_the_receiver_keeps_the_ticket(users, queue):
    mailbox, rule = queue
    agent("absent", available=False)
    assert intake.receive(email(1)).ticket.owner_id == mailbox.pk
    agent("wu")
    assignment.rule_update(actor=users.admin, rule_id=rule.pk, version=rule.version, data={"active": False})
    assert intake.receive(email(2)).ticket.owner_id == mailbox.pk
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.ASSIGNED).exists()


def test_a_ticket_a_person_received_stays_theirs(users, queue):
    agent("wu")
    ticket = make_ticket(users.agent1)  # agent1 sits on B01-T3, whose queue has a rule
    assert ticket.owner_id == ticket.receiver_id == users.agent1.pk


# --- configuration through the API -----------------------------------------------------------------------------


def test_an_administrator_configures_a_teams_rule(users, api):
    team = OrgUnit.objects.get(code="B01-T1")
    client = api(users.bm1)
    created = client.post("/assignment-rules", {"team_id": team.pk, "strategy": "least_open"})
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["strategy"] == "least_open" and rule["active"] and rule["version"] == 1
    again = client.post("/assignment-rules", {"team_id": team.pk})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "team_id"
    changed = client.patch(f"/assignment-rules/{rule['id']}", {"version": 1, "match_skills": True})
    assert changed.status_code == 200 and changed.json()["match_skills"] and changed.json()["version"] == 2
    stale = client.patch(f"/assignment-rules/{rule['id']}", {"version": 1, "active": False})
    assert stale.status_code == 409
    assert AssignmentRule.objects.get(pk=rule["id"]).active
    assert [e.action for e in AuditLog.objects.filter(object_type="service.assignmentrule")] == ["create", "update"]
    assert [r["id"] for r in client.get("/assignment-rules").json()] == [rule["id"]]


def test_agents_and_leads_do_not_configure_rules(users, api):
    team = OrgUnit.objects.get(code="B01-T1")
    for user in (users.agent1, users.lead1):
        assert api(user).get("/assignment-rules").status_code == 403
        assert api(user).post("/assignment-rules", {"team_id": team.pk}).status_code == 403
    assert not AssignmentRule.objects.exists()


def test_an_agent_marks_themself_available_with_skills(users, api):
    client = api(users.agent1)
    assert client.get("/agent-availability").json() == {
        "available": False,
        "skills": [],
        "version": 0,
        "updated_at": None,
    }
    response = put(client, "/agent-availability", {"version": 0, "available": True, "skills": ["complaint"]})
    assert response.status_code == 200, response.content
    assert response.json()["available"] and response.json()["skills"] == ["complaint"]
    assert put(client, "/agent-availability", {"version": 0, "available": False}).status_code == 409
    bad = put(client, "/agent-availability", {"version": 1, "available": True, "skills": ["juggling"]})
    assert bad.status_code == 422
    record = AgentAvailability.objects.get(user=users.agent1)
    assert record.available and record.skills == ["complaint"] and record.version == 1
    assert AuditLog.objects.filter(object_type="service.agentavailability", actor=users.agent1).count() == 1
    assert put(api(users.analyst1), "/agent-availability", {"version": 0, "available": True}).status_code == 403


# --- concurrency ------------------------------------------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_tickets_assigned_at_once_take_turns(users, settings):
    """Round robin with two agents: two queue tickets assigned in overlapping transactions go to the two agents, one
    each. The second waits on the rule row locked by the first and then reads who got the last ticket; without the
    lock both read the same "last assigned" agent and pick the same next one."""
    from django.db import connection

    ensure_reference_data()
    mailbox = user_create(username="kf_mailbox", password=PASSWORD, role="service_agent", org_unit_code="B01-T3")
    assignment.rule_create(actor=users.admin, team_id=OrgUnit.objects.get(code="B01-T3").pk, data={})
    wu, zhao = agent("wu"), agent("zhao")
    tickets = [make_ticket(mailbox).pk for _ in range(2)]
    barrier, owners, errors = threading.Barrier(2), [], []

    def assign(ticket_id):
        try:
            with transaction.atomic():
                ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
                barrier.wait()  # both transactions are open before either chooses
                owners.append(assignment.assign_from_queue(ticket).pk)
                time.sleep(0.3)  # hold the transaction open: the other chooses meanwhile
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(ticket_id,)) for ticket_id in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(owners) == sorted([wu.pk, zhao.pk])
    assert sorted(Ticket.objects.filter(pk__in=tickets).values_list("owner_id", flat=True)) == sorted([wu.pk, zhao.pk])
