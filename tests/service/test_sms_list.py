"""The supervisors' text-message list (GET /api/v1/sms and the /service/sms/ page): filters, and record scope — a
message is visible where its return visit's ticket or its survey invitation's customer is; agents see no list."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.service.models import ReturnVisit, Survey, SurveyInvitation
from guanxi.service.models.sms import SmsMessage
from tests.conftest import errors_by_field
from tests.service.test_return_visits import closed_by_lead


@pytest.fixture
def messages_(users, customers):
    """A return-visit message about a B01 ticket (c1) and a survey invitation to c3 (B02), the latter failed."""
    ticket = closed_by_lead(users, customers.c1)
    visit = ReturnVisit.objects.get(ticket=ticket)
    survey = Survey.objects.create(name="调查", channel="sms", created_by=users.admin)
    invitation = SurveyInvitation.objects.create(
        survey=survey, customer=customers.c3, channel="sms", invited_at=timezone.now()
    )
    b01 = SmsMessage.objects.create(
        phone="13911112222", content="回访", purpose="return_visit", object_id=visit.pk, status="sent"
    )
    b02 = SmsMessage.objects.create(
        phone="13922223333", content="调查", purpose="survey", object_id=invitation.pk, status="failed"
    )
    return b01, b02


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def test_an_admin_sees_every_message_and_filters_them(messages_, api, users):
    b01, b02 = messages_
    admin = api(users.admin)
    assert ids(admin.get("/sms")) == {b01.pk, b02.pk}
    assert ids(admin.get("/sms", {"status": "failed"})) == {b02.pk}
    assert ids(admin.get("/sms", {"purpose": "return_visit"})) == {b01.pk}
    today = timezone.localdate()
    assert ids(admin.get("/sms", {"date_from": str(today), "date_to": str(today)})) == {b01.pk, b02.pk}
    assert ids(admin.get("/sms", {"date_from": str(today + timedelta(days=1))})) == set()
    body = admin.get("/sms", {"purpose": "survey"}).json()["items"][0]
    assert body["status"] == "failed" and body["attempts"] == 0 and body["phone"] == "13922223333"


def test_a_manager_sees_only_the_messages_of_their_branch(messages_, api, users):
    b01, b02 = messages_
    assert ids(api(users.bm1).get("/sms")) == {b01.pk}
    assert ids(api(users.bm2).get("/sms")) == {b02.pk}


def test_an_agent_may_not_list_messages(messages_, api, users):
    assert api(users.agent1).get("/sms").status_code == 403
    assert api().get("/sms").status_code == 401


def test_bad_filters_are_422_naming_the_field(messages_, api, users):
    for params, field in (({"status": "lost"}, "status"), ({"date_from": "soon"}, "date_from")):
        response = api(users.admin).get("/sms", params)
        assert response.status_code == 422 and field in errors_by_field(response)


def test_the_page_lists_the_scope_and_is_refused_to_agents(messages_, users):
    b01, b02 = messages_
    client = Client()
    client.force_login(users.bm1)
    page = client.get("/service/sms/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = page.content.decode()
    assert "2222" in text and "3333" not in text and "短信" in text  # b01 (its phone, masked or not), not b02
    assert client.get("/service/sms/", {"date_from": "soon"}).status_code == 200  # told, not a 500
    client.force_login(users.agent1)
    assert client.get("/service/sms/").status_code == 403
