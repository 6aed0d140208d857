"""A survey invitation may be answered as soon as it reached its customer, while the rest of the survey is still being
sent (surveys.answer_refusal): by phone when it is created, by text message when its message was sent; never before,
never twice, never once the survey is closed — on the page, through the API and by a text-message reply."""

import pytest
from django.test import Client
from django.utils.translation import gettext as _
from django.utils.translation import override

from guanxi.core.models import AuditLog
from guanxi.service import sms, sms_inbound, surveys
from guanxi.service.models import Survey, SurveyInvitation
from guanxi.service.models.sms import SmsMessage, SmsReply
from tests.service.test_survey_sending import draft, key_customers

NOT_DELIVERED = "This invitation has not reached the customer yet; it can be answered once it is delivered."


@pytest.fixture
def halfway(survey_tasks, monkeypatch):
    """Send a survey whose job stops after its first chunk (5 of 12 customers invited): it stays `sending`."""
    survey_tasks.eager = False
    monkeypatch.setattr(surveys, "SEND_CHUNK", 5)

    def send(api, users, channel):
        key_customers(users, 12)
        survey = draft(api, users.bm1, channel=channel)
        assert api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]}).status_code == 200
        real, calls = surveys.sms.survey_messages, []

        def stops_after_the_first_chunk(survey, customer_ids=None):
            calls.append(customer_ids)
            if len(calls) == 2:
                raise RuntimeError("worker lost")
            return real(survey, customer_ids=customer_ids)

        monkeypatch.setattr(surveys.sms, "survey_messages", stops_after_the_first_chunk)
        with pytest.raises(RuntimeError):
            survey_tasks.run()
        monkeypatch.setattr(surveys.sms, "survey_messages", real)
        assert Survey.objects.get(pk=survey["id"]).status == "sending" and SurveyInvitation.objects.count() == 5
        return survey["id"]

    return send


def answer(api, user, invitation_id, **data):
    invitation = SurveyInvitation.objects.get(pk=invitation_id)
    data = {"recommend": 9, "satisfaction": 5, **data}
    return api(user).post(f"/survey-invitations/{invitation_id}/answer", {"version": invitation.version, **data})


def listed(api, user, survey_id) -> dict[int, dict]:
    response = api(user).get(f"/surveys/{survey_id}/invitations")
    assert response.status_code == 200, response.content
    return {item["id"]: item for item in response.json()["items"]}


def page(user, survey_id) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/service/surveys/{survey_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_by_phone_an_invitation_is_answerable_while_the_survey_is_still_sending(users, customers, api, halfway):
    survey_id = halfway(api, users, "phone")
    items = listed(api, users.agent1, survey_id)
    assert len(items) == 5 and all(item["answerable"] and item["delivered_at"] for item in items.values())
    first = min(items)
    assert f'action="/service/survey-invitations/{first}/answer/"' in page(users.agent1, survey_id)
    response = answer(api, users.agent1, first, comment="接通即答")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "answered" and body["recommend"] == 9 and body["answerable"] is False
    assert AuditLog.objects.filter(action="survey_answer", object_id=str(first)).count() == 1


def test_by_text_message_only_a_sent_invitation_is_answerable(users, customers, api, halfway):
    survey_id = halfway(api, users, "sms")
    items = listed(api, users.agent1, survey_id)
    assert not any(item["answerable"] or item["delivered_at"] for item in items.values())  # messages still queued
    first, second = sorted(items)[:2]
    html = page(users.agent1, survey_id)
    assert f"/service/survey-invitations/{first}/answer/" not in html and _("not delivered yet") in html
    refused = answer(api, users.agent1, first)
    assert refused.status_code == 409 and refused.json()["detail"] == _(NOT_DELIVERED)
    assert SurveyInvitation.objects.get(pk=first).status == "invited"

    message = SmsMessage.objects.get(purpose="survey", object_id=first)
    assert sms.deliver(message.pk) == "sent"
    items = listed(api, users.agent1, survey_id)
    assert items[first]["answerable"] and items[first]["delivered_at"] is not None
    assert not items[second]["answerable"]
    assert f"/service/survey-invitations/{first}/answer/" in page(users.agent1, survey_id)
    assert answer(api, users.agent1, first).status_code == 200
    assert answer(api, users.agent1, second).status_code == 409


def test_a_text_reply_is_recorded_while_the_survey_is_still_sending(users, customers, api, halfway):
    survey_id = halfway(api, users, "sms")
    message = SmsMessage.objects.filter(purpose="survey").order_by("pk").first()
    assert sms.deliver(message.pk) == "sent"
    reply = sms_inbound.receive(phone=message.phone, content="9 不错")
    assert reply.outcome == SmsReply.Outcome.RECORDED
    invitation = SurveyInvitation.objects.get(pk=message.object_id)
    assert invitation.status == "answered" and invitation.recommend == 9
    assert Survey.objects.get(pk=survey_id).status == "sending"
    # Twice: the second reply is stored only.
    assert sms_inbound.receive(phone=message.phone, content="3").outcome == SmsReply.Outcome.STORED
    invitation.refresh_from_db()
    assert invitation.recommend == 9


def test_an_undelivered_invitation_refuses_a_text_answer(users, customers, api, halfway):
    halfway(api, users, "sms")
    invitation = SurveyInvitation.objects.order_by("pk").first()
    assert surveys.invitation_answer_by_text(invitation_id=invitation.pk, recommend=7) == "answered"
    invitation.refresh_from_db()
    assert invitation.status == "invited" and invitation.recommend is None


def test_a_closed_survey_refuses_answers_of_delivered_invitations(users, customers, api, survey_tasks):
    key_customers(users, 3)
    survey = draft(api, users.bm1)
    api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})  # the job runs eagerly
    messages = list(SmsMessage.objects.filter(purpose="survey").order_by("pk"))
    for message in messages:
        assert sms.deliver(message.pk) == "sent"
    shown = api(users.bm1).get(f"/surveys/{survey['id']}").json()
    assert shown["status"] == "sent"
    assert api(users.bm1).post(f"/surveys/{survey['id']}/close", {"version": shown["version"]}).status_code == 200
    first = messages[0].object_id
    assert not listed(api, users.agent1, survey["id"])[first]["answerable"]
    refused = answer(api, users.agent1, first)
    assert refused.status_code == 409 and refused.json()["detail"] == _("This survey is closed.")
    assert sms_inbound.receive(phone=messages[0].phone, content="8").outcome == SmsReply.Outcome.STORED
    assert f"/service/survey-invitations/{first}/answer/" not in page(users.agent1, survey["id"])
    assert SurveyInvitation.objects.filter(status="answered").count() == 0


def test_a_second_answer_is_refused(users, customers, api, halfway):
    survey_id = halfway(api, users, "phone")
    first = min(listed(api, users.agent1, survey_id))
    assert answer(api, users.agent1, first).status_code == 200
    again = answer(api, users.agent1, first, recommend=2, satisfaction=1)
    assert again.status_code == 409 and again.json()["detail"] == _("This customer's answer is already recorded.")
    assert surveys.invitation_answer_by_text(invitation_id=first, recommend=0) == "answered"
    assert SurveyInvitation.objects.get(pk=first).recommend == 9


def test_the_rule_says_why(users, customers, api, halfway):
    halfway(api, users, "sms")
    invitation = SurveyInvitation.objects.select_related("survey").order_by("pk").first()
    with override("en"):
        assert surveys.answer_refusal(invitation) == NOT_DELIVERED
        invitation.delivered_at = invitation.invited_at
        assert surveys.answer_refusal(invitation) is None
        invitation.survey.status = Survey.Status.CLOSED
        assert surveys.answer_refusal(invitation) == "This survey is closed."
        invitation.survey.status = Survey.Status.SENDING
        invitation.status = SurveyInvitation.Status.ANSWERED
        assert surveys.answer_refusal(invitation) == "This customer's answer is already recorded."
