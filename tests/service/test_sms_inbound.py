"""Replies to text messages (POST /api/v1/sms/inbound, service.sms_inbound): the gateway's token, bad input, matching
to the latest message sent to the phone, and a 1–5 answer to a return visit recorded on the visit — a dissatisfied
one reopening the ticket and telling the team lead, as when an agent records it."""

from datetime import timedelta

import pytest

from guanxi.activities.models import Notification
from guanxi.customers.models import Contact
from guanxi.service import return_visits, sms
from guanxi.service.models import ReturnVisit, ReturnVisitRule, Survey, SurveyInvitation, Ticket, TicketEvent
from guanxi.service.models.sms import SmsMessage, SmsReply
from tests.conftest import audit_count, errors_by_field
from tests.service.factories import Clock, at
from tests.service.test_return_visits import closed_by_lead

TOKEN = "gateway-s3cret"


@pytest.fixture(autouse=True)
def _gateway(settings):
    settings.GUANXI_SMS_INBOUND_TOKEN = TOKEN
    settings.GUANXI_SMS_BACKEND = "guanxi.service.sms_backends.LocmemBackend"


@pytest.fixture
def gateway(api):
    """The SMS gateway posting replies with its token."""
    client = api(token=TOKEN)
    return lambda **body: client.post("/sms/inbound", body)


@pytest.fixture
def asked(users, customers, monkeypatch):
    """A complaint closed by lead1 whose return visit went by text message to 13911112222 (sent)."""
    ReturnVisitRule.objects.filter(ticket_type="complaint").update(channel="sms")
    contact = Contact.objects.create(customer=customers.c1, name="李经理", mobile="13911112222")
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    ticket = closed_by_lead(users, customers.c1)
    Ticket.objects.filter(pk=ticket.pk).update(contact=contact)
    clock.set(clock.now + timedelta(days=3))
    return_visits.return_visits_sweep()
    message = SmsMessage.objects.get(purpose="return_visit")
    assert sms.deliver(message.pk) == "sent"
    clock.set(clock.now + timedelta(hours=1))
    return ReturnVisit.objects.get(ticket=ticket), message


def test_a_satisfied_reply_completes_the_return_visit(asked, gateway):
    visit, message = asked
    response = gateway(phone="13911112222", content="5", id="up-1")
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "recorded" and response.json()["reply_to"] == message.pk
    visit.refresh_from_db()
    assert (visit.status, visit.satisfaction, visit.channel, visit.reopened) == ("completed", 5, "sms", False)
    assert "5" in visit.comment and visit.completed_by_id == visit.assignee_id  # in the name of the visit's agent
    reply = SmsReply.objects.get()
    assert (reply.phone, reply.content, reply.reply_to_id, reply.outcome) == (
        "13911112222",
        "5",
        message.pk,
        "recorded",
    )


def test_a_dissatisfied_reply_reopens_the_ticket_and_tells_the_lead(asked, gateway, users):
    visit, _message = asked
    response = gateway(phone="+86 13911112222", content="１ 还是没修好")  # full-width digit, +86, a comment
    assert response.json()["outcome"] == "recorded"
    visit.refresh_from_db()
    assert visit.satisfaction == 1 and visit.reopened and "还是没修好" in visit.comment
    ticket = Ticket.objects.get(pk=visit.ticket_id)
    assert ticket.status == "reopened"
    assert TicketEvent.objects.filter(ticket=ticket, kind="reopened").count() == 1
    assert Notification.objects.filter(user=users.lead1, kind="return_visit").exists()


def test_a_reply_that_is_not_a_score_is_stored_for_the_agent(asked, gateway):
    visit, message = asked
    for text in ("谢谢", "10"):
        assert gateway(phone="13911112222", content=text).json()["outcome"] == "not_a_score"
    visit.refresh_from_db()
    assert visit.status == "due" and visit.satisfaction is None
    assert SmsReply.objects.filter(reply_to=message).count() == 2


def test_a_second_answer_does_not_change_the_first(asked, gateway):
    visit, _message = asked
    assert gateway(phone="13911112222", content="4").json()["outcome"] == "recorded"
    assert gateway(phone="13911112222", content="1").json()["outcome"] == "visit_closed"
    visit.refresh_from_db()
    assert visit.satisfaction == 4 and Ticket.objects.get(pk=visit.ticket_id).status == "closed"


def test_a_redelivered_reply_is_stored_and_recorded_once(asked, gateway):
    first = gateway(phone="13911112222", content="5", id="up-7").json()
    again = gateway(phone="13911112222", content="5", id="up-7").json()
    assert first == again and SmsReply.objects.count() == 1


def test_a_reply_from_an_unknown_phone_is_stored_unmatched(db, gateway):
    response = gateway(phone="13700000000", content="5")
    assert response.status_code == 200 and response.json() == {
        "id": SmsReply.objects.get().pk,
        "outcome": "unmatched",
        "reply_to": None,
    }


@pytest.fixture
def surveyed(users, customers, api):
    """lead1's survey by text message reached c1's contact at 13600000000 (sent)."""
    customers.c1.grade = "key"
    customers.c1.save(update_fields=["grade"])
    Contact.objects.create(customer=customers.c1, name="王主任", mobile="13600000000", primary=True)
    survey = api(users.lead1).post("/surveys", {"name": "短信调查", "channel": "sms", "segment": {"grade": "key"}})
    survey = survey.json()
    api(users.lead1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})  # the job runs eagerly
    message = SmsMessage.objects.get(purpose="survey")
    assert sms.deliver(message.pk) == "sent"
    return SurveyInvitation.objects.get(pk=message.object_id), message


def test_a_0_to_10_reply_to_a_survey_is_recorded_on_the_invitation(surveyed, gateway):
    invitation, message = surveyed
    body = gateway(phone="+86 136 0000 0000", content="９ 服务不错", id="up-s1").json()
    assert (body["outcome"], body["reply_to"]) == ("recorded", message.pk)
    invitation.refresh_from_db()
    assert (invitation.status, invitation.recommend, invitation.satisfaction) == ("answered", 9, None)
    assert "服务不错" in invitation.comment and invitation.recorded_by is None and invitation.version == 2
    assert audit_count(object_type="service.surveyinvitation", action="survey_answer") == 1
    # A second answer does not change the first: stored only.
    assert gateway(phone="13600000000", content="10").json()["outcome"] == "stored"
    invitation.refresh_from_db()
    assert invitation.recommend == 9 and SmsReply.objects.count() == 2


@pytest.mark.parametrize("content", ["谢谢,不用了", "11", "7.5", "-1"])
def test_a_survey_reply_that_is_not_0_to_10_is_stored_only(surveyed, gateway, content):
    invitation, message = surveyed
    body = gateway(phone="13600000000", content=content).json()
    assert (body["outcome"], body["reply_to"]) == ("stored", message.pk)
    invitation.refresh_from_db()
    assert invitation.status == "invited" and invitation.recommend is None and invitation.version == 1


def test_a_survey_reply_after_the_survey_closed_is_stored_only(surveyed, gateway):
    invitation, _message = surveyed
    Survey.objects.filter(pk=invitation.survey_id).update(status="closed")
    assert gateway(phone="13600000000", content="8").json()["outcome"] == "stored"
    invitation.refresh_from_db()
    assert invitation.status == "invited"


@pytest.mark.parametrize(
    ("headers", "configured", "status"),
    [
        ({}, TOKEN, 401),
        ({"HTTP_AUTHORIZATION": "Bearer wrong"}, TOKEN, 403),
        ({"HTTP_AUTHORIZATION": "Bearer x"}, "", 403),
    ],
)
def test_the_gateway_must_show_the_shared_token(db, api, settings, headers, configured, status):
    settings.GUANXI_SMS_INBOUND_TOKEN = configured
    response = api().post("/sms/inbound", {"phone": "13911112222", "content": "5"}, **headers)
    assert response.status_code == status and not SmsReply.objects.exists()


def test_wrong_tokens_are_throttled_per_client_ip(db, api, settings):
    settings.GUANXI_SMS_INBOUND_MAX_FAILURES = 3
    body = {"phone": "13911112222", "content": "5"}
    guesser = {"REMOTE_ADDR": "203.0.113.9"}
    for _attempt in range(2):
        assert api().post("/sms/inbound", body, **guesser).status_code == 401  # no token: not a guess, not counted
    for _attempt in range(3):
        assert api(token="guess").post("/sms/inbound", body, **guesser).status_code == 403
    refused = api(token="guess").post("/sms/inbound", body, **guesser)
    assert refused.status_code == 429 and refused["Retry-After"] == str(settings.GUANXI_LOGIN_WINDOW_SECONDS)
    # Throttled before the token is compared: even the right one is refused from that client for the window.
    assert api(token=TOKEN).post("/sms/inbound", body, **guesser).status_code == 429
    assert not SmsReply.objects.exists()
    # The gateway calling from its own address is not locked out by the guesser.
    assert api(token=TOKEN).post("/sms/inbound", body, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_a_signed_in_user_is_not_the_gateway(users, api):
    response = api(users.admin).post("/sms/inbound", {"phone": "13911112222", "content": "5"})
    assert response.status_code == 401 and not SmsReply.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": "5"}, "phone"),
        ({"phone": "not a phone", "content": "5"}, "phone"),
        ({"phone": "13911112222"}, "content"),
        ({"phone": "13911112222", "content": "   "}, "content"),
        ({"phone": "13911112222", "content": "5", "received_at": "yesterday"}, "received_at"),
        ({"phone": "1" * 40, "content": "5"}, "phone"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(asked, gateway, body, field):
    visit, _message = asked
    response = gateway(**body)
    assert response.status_code == 422 and field in errors_by_field(response)
    visit.refresh_from_db()
    assert not SmsReply.objects.exists() and visit.status == "due"
