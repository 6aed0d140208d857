"""Satisfaction surveys of a customer segment (E5), satisfaction and NPS per customer, grade, team and month, and the
360 "satisfaction" panel: scope on every read path, aggregates over visible records only, bad input, double answers."""

import pytest
from django.test import Client

from guanxi.customers.models import Contact
from guanxi.service import sms
from guanxi.service.models import ReturnVisit, SmsMessage, Survey, SurveyInvitation
from tests.conftest import audit_count, errors_by_field, make_customer
from tests.service.test_return_visits import closed_by_lead, record


def set_grade(customer, grade):
    customer.grade = grade
    customer.save(update_fields=["grade"])


@pytest.fixture
def key_survey(users, customers, api):
    """lead1 (team B01-T1) surveys the key customers; c1 (am1, B01-T1) and c2 (am2, B01-T2) are key."""
    set_grade(customers.c1, "key")
    set_grade(customers.c2, "key")
    response = api(users.bm1).post(
        "/surveys", {"name": "2026年一季度大客户满意度调查", "channel": "phone", "segment": {"grade": "key"}}
    )
    assert response.status_code == 201, response.content
    return response.json()


def answer(api, user, invitation_id, **data):
    invitation = SurveyInvitation.objects.get(pk=invitation_id)
    return api(user).post(f"/survey-invitations/{invitation_id}/answer", {"version": invitation.version, **data})


def test_sending_invites_the_visible_customers_of_the_segment_once(users, customers, api, key_survey):
    client = api(users.lead1)
    sent = api(users.bm1).post(f"/surveys/{key_survey['id']}/send", {"version": key_survey["version"]})
    assert sent.status_code == 200, sent.content
    body = sent.json()
    assert body["invited"] == 2 and body["survey"]["status"] == "sent"  # c1, c2 (bm1's branch, not c3 of B02)
    invited = set(SurveyInvitation.objects.values_list("customer_id", flat=True))
    assert invited == {customers.c1.pk, customers.c2.pk}
    assert set(SurveyInvitation.objects.values_list("channel", flat=True)) == {"phone"}
    assert audit_count(object_type="service.survey", action="survey_send") == 1
    again = api(users.bm1).post(f"/surveys/{key_survey['id']}/send", {"version": body["survey"]["version"]})
    assert again.status_code == 409
    assert SurveyInvitation.objects.count() == 2
    # lead1 (team T1) sees only c1's invitation, and counts over it
    items = client.get(f"/surveys/{key_survey['id']}/invitations").json()["items"]
    assert [i["customer_id"] for i in items] == [customers.c1.pk]
    assert client.get(f"/surveys/{key_survey['id']}").json()["invited"] == 1


def test_only_leads_and_managers_create_and_send(users, customers, api, key_survey):
    assert api(users.agent1).post("/surveys", {"name": "x", "channel": "phone"}).status_code == 403
    response = api(users.agent1).post(f"/surveys/{key_survey['id']}/send", {"version": key_survey["version"]})
    assert response.status_code == 403
    assert Survey.objects.get(pk=key_survey["id"]).status == "draft"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": " ", "channel": "phone"}, "name"),
        ({"name": "调查", "channel": "pigeon"}, "channel"),
        ({"name": "调查", "channel": "phone", "segment": {"grade": "gold"}}, "segment"),
        ({"name": "调查", "channel": "phone", "segment": {"category": "abc"}}, "segment"),
    ],
)
def test_a_bad_survey_names_the_field_and_is_not_saved(users, api, payload, field):
    response = api(users.bm1).post("/surveys", payload)
    assert response.status_code == 422, response.content
    assert field in errors_by_field(response)
    assert not Survey.objects.exists()


def test_an_empty_segment_is_refused(users, customers, api):
    survey = api(users.bm1).post("/surveys", {"name": "空", "channel": "sms", "segment": {"q": "不存在的客户"}}).json()
    response = api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})
    assert response.status_code == 422 and "segment" in errors_by_field(response)
    assert Survey.objects.get(pk=survey["id"]).status == "draft" and not SurveyInvitation.objects.exists()


def _sent(api, users, key_survey):
    api(users.bm1).post(f"/surveys/{key_survey['id']}/send", {"version": key_survey["version"]})
    return {i.customer_id: i.pk for i in SurveyInvitation.objects.all()}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"recommend": 11, "satisfaction": 4}, "recommend"),
        ({"recommend": -1, "satisfaction": 4}, "recommend"),
        ({"recommend": 9, "satisfaction": 6}, "satisfaction"),
        ({"recommend": 9, "satisfaction": 0}, "satisfaction"),
    ],
)
def test_an_answer_out_of_range_names_the_field_and_writes_nothing(users, customers, api, key_survey, data, field):
    ids = _sent(api, users, key_survey)
    audits = audit_count()
    response = answer(api, users.agent1, ids[customers.c1.pk], **data)
    assert response.status_code == 422, response.content
    assert field in errors_by_field(response)
    invitation = SurveyInvitation.objects.get(pk=ids[customers.c1.pk])
    assert invitation.status == "invited" and invitation.recommend is None and invitation.version == 1
    assert audit_count() == audits


def test_an_answer_is_recorded_once_and_only_where_the_customer_is_visible(users, customers, api, key_survey):
    ids = _sent(api, users, key_survey)
    invitation_id = ids[customers.c1.pk]
    assert answer(api, users.agent2, invitation_id, recommend=9, satisfaction=5).status_code == 404  # B02
    assert api(users.agent2).get(f"/survey-invitations/{invitation_id}").status_code == 404
    assert api(users.agent2).get(f"/surveys/{key_survey['id']}/invitations").json()["items"] == []
    assert api(users.lead2).get(f"/survey-invitations/{invitation_id}").status_code == 404  # team T2: not c1
    response = answer(api, users.agent1, invitation_id, recommend=9, satisfaction=5, comment="服务很好")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "answered" and response.json()["recommend"] == 9
    assert audit_count(object_type="service.surveyinvitation", action="survey_answer") == 1
    history = {"object_type": "service.surveyinvitation", "object_id": invitation_id}
    assert [e["action"] for e in api(users.agent1).get("/audit", history).json()["items"]] == ["survey_answer"]
    assert api(users.agent2).get("/audit", history).status_code == 404
    assert answer(api, users.agent1, invitation_id, recommend=3, satisfaction=1).status_code == 409
    stale = api(users.agent1).post(
        f"/survey-invitations/{invitation_id}/answer", {"version": 1, "recommend": 3, "satisfaction": 1}
    )
    assert stale.status_code == 409
    assert SurveyInvitation.objects.get(pk=invitation_id).recommend == 9


def test_a_closed_survey_takes_no_answers(users, customers, api, key_survey):
    ids = _sent(api, users, key_survey)
    survey = Survey.objects.get(pk=key_survey["id"])
    assert api(users.bm1).post(f"/surveys/{survey.pk}/close", {"version": survey.version}).status_code == 200
    assert answer(api, users.agent1, ids[customers.c1.pk], recommend=9, satisfaction=5).status_code == 409


def _figures(users, customers, api, key_survey):
    """c1: survey 10/5 and a return visit 2 (reopened); c2: survey 3/2; c3 (B02): a return visit 5."""
    ids = _sent(api, users, key_survey)
    answer(api, users.agent1, ids[customers.c1.pk], recommend=10, satisfaction=5)
    answer(api, users.agent1, ids[customers.c2.pk], recommend=3, satisfaction=2)
    ticket = closed_by_lead(users, customers.c1)
    assert record(api, users.agent1, ReturnVisit.objects.get(ticket=ticket), satisfaction=2).status_code == 200
    from guanxi.service import services
    from tests.service.factories import make_ticket, move

    other = make_ticket(users.agent2, customers.c3)
    move(other, users.agent2, "accept", "resolve", "close")
    visit = ReturnVisit.objects.get(ticket=other)
    # agent2 received and resolved it alone: the team pool; bm2 records it
    assert record(api, users.bm2, visit, satisfaction=5).status_code == 200
    return services


def test_satisfaction_and_nps_per_grade_team_customer_and_month(users, customers, api, key_survey):
    _figures(users, customers, api, key_survey)
    by_customer = {r["key"]: r for r in api(users.bm1).get("/satisfaction", {"by": "customer"}).json()}
    c1, c2 = by_customer[str(customers.c1.pk)], by_customer[str(customers.c2.pk)]
    assert c1["responses"] == 2 and c1["satisfaction"] == 3.5 and c1["nps"] == 100.0 and c1["label"] == "甲一电力客户"
    assert c2["responses"] == 1 and c2["satisfaction"] == 2.0 and c2["nps"] == -100.0
    assert str(customers.c3.pk) not in by_customer  # B02: not bm1's
    by_grade = {r["key"]: r for r in api(users.bm1).get("/satisfaction", {"by": "grade"}).json()}
    assert by_grade["key"]["responses"] == 3 and by_grade["key"]["nps_responses"] == 2
    assert by_grade["key"]["promoters"] == 1 and by_grade["key"]["detractors"] == 1 and by_grade["key"]["nps"] == 0.0
    by_team = {r["key"]: r for r in api(users.bm1).get("/satisfaction", {"by": "team"}).json()}
    t1 = str(users.lead1.profile.org_unit_id)
    assert by_team[t1]["responses"] == 2  # c1's survey answer (customer's team) and the visit of lead1's ticket
    months = api(users.bm1).get("/satisfaction", {"by": "month"}).json()
    assert len(months) == 1 and months[0]["responses"] == 3 and len(months[0]["key"]) == 7
    everything = api(users.exec1).get("/satisfaction", {"by": "month"}).json()
    assert everything[0]["responses"] == 4  # the company sees B02's visit too
    b02 = api(users.bm2).get("/satisfaction", {"by": "customer"}).json()
    assert [(r["key"], r["responses"], r["nps"]) for r in b02] == [(str(customers.c3.pk), 1, None)]
    assert api(users.am2).get("/satisfaction", {"by": "customer"}).json() == [
        {**c2, "label": "乙二电力客户"}
    ]  # an account manager: their own customers only
    assert api(users.bm1).get("/satisfaction", {"by": "colour"}).status_code == 422


def test_the_360_panel_shows_the_latest_satisfaction_within_scope(users, customers, api, key_survey):
    _figures(users, customers, api, key_survey)
    panel = api(users.am1).get(f"/customers/{customers.c1.pk}/overview").json()["panels"]["satisfaction"]
    assert panel["latest"]["source"] == "return_visit" and panel["latest"]["satisfaction"] == 2
    assert panel["latest_recommend"] == 10 and panel["responses"] == 2 and panel["nps"] == 100.0
    assert api(users.am2).get(f"/customers/{customers.c1.pk}/overview").status_code == 404
    assert api(users.agent2).get(f"/customers/{customers.c1.pk}/overview").status_code == 404
    empty = api(users.am2).get(f"/customers/{customers.c2.pk}/overview").json()["panels"]["satisfaction"]
    assert empty["latest"]["source"] == "survey" and empty["responses"] == 1


def test_a_sensitive_customer_is_never_surveyed_by_someone_who_may_not_see_them(users, customers, api):
    set_grade(customers.sensitive, "key")
    survey = api(users.lead1).post("/surveys", {"name": "敏感", "channel": "phone", "segment": {"grade": "key"}})
    survey = survey.json()
    set_grade(customers.c1, "key")
    sent = api(users.lead1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]}).json()
    assert sent["invited"] == 1
    assert not SurveyInvitation.objects.filter(customer=customers.sensitive).exists()


def test_the_pages_render_within_scope(users, customers, api, key_survey):
    _figures(users, customers, api, key_survey)
    client = Client()
    client.force_login(users.bm1)
    survey_page = client.get(f"/service/surveys/{key_survey['id']}/").content.decode()
    assert "甲一电力客户" in survey_page and "乙二电力客户" in survey_page
    figures = client.get("/service/satisfaction/?by=customer").content.decode()
    assert "甲一电力客户" in figures and "丙三电力客户" not in figures
    assert client.get("/service/surveys/").status_code == 200
    other = Client()
    other.force_login(users.bm2)
    assert "甲一电力客户" not in other.get(f"/service/surveys/{key_survey['id']}/").content.decode()
    assert "甲一电力客户" not in other.get("/service/satisfaction/?by=customer").content.decode()


def test_the_survey_page_creates_sends_and_records(users, customers):
    set_grade(customers.c1, "key")
    Contact.objects.create(customer=customers.c1, name="王主任", mobile="13600000000", primary=True)
    client = Client()
    client.force_login(users.lead1)
    created = client.post("/service/surveys/", {"name": "页面调查", "channel": "sms", "grade": "key"})
    assert created.status_code == 302
    survey = Survey.objects.get(name="页面调查")
    assert survey.segment == {"grade": "key"}
    client.post(f"/service/surveys/{survey.pk}/send/", {"version": survey.version})
    invitation = SurveyInvitation.objects.get(survey=survey)
    assert invitation.customer_id == customers.c1.pk and invitation.channel == "sms"
    assert sms.deliver(SmsMessage.objects.get(object_id=invitation.pk).pk) == "sent"  # now it may be answered
    client.post(
        f"/service/survey-invitations/{invitation.pk}/answer/", {"version": 1, "recommend": "8", "satisfaction": "4"}
    )
    invitation.refresh_from_db()
    assert invitation.status == "answered" and invitation.recommend == 8


def test_the_figures_read_a_constant_number_of_queries(users, customers, api, key_survey):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _figures(users, customers, api, key_survey)
    client = api(users.bm1)
    client.get("/satisfaction", {"by": "customer"})  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/satisfaction", {"by": "customer"}).json()) == 2
    survey = api(users.bm1).post("/surveys", {"name": "再调查", "channel": "phone"}).json()
    for n in range(4):
        set_grade(make_customer(users.am1, name=f"加测客户{n}"), "key")
    api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})
    for invitation in SurveyInvitation.objects.filter(survey_id=survey["id"]):
        assert answer(api, users.bm1, invitation.pk, recommend=7, satisfaction=4).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/satisfaction", {"by": "customer"}).json()) == 7  # + the sensitive one and 4 new
    assert len(many) == len(few)  # GROUP BY queries: the count does not grow with customers or answers


def test_the_360_panel_counts_what_the_summary_counts_for_every_role(users, customers, api, key_survey):
    """The panel reads one customer's visits and answers without the scope's ORs (customer_tickets,
    customer_invitations); per role it must count exactly what satisfaction_summary counts for that customer."""
    _figures(users, customers, api, key_survey)
    for user in (users.am1, users.am2, users.lead1, users.bm1, users.bm2, users.exec1, users.agent1, users.agent2):
        summary = {r["key"]: r for r in api(user).get("/satisfaction", {"by": "customer"}).json()}
        for customer in (customers.c1, customers.c2, customers.c3):
            response = api(user).get(f"/customers/{customer.pk}/overview", {"panels": "all"})
            if response.status_code == 404:
                continue
            panel = response.json()["panels"]["satisfaction"]
            row = summary.get(str(customer.pk), {"responses": 0, "satisfaction": None, "nps": None})
            got = (panel["responses"], panel["satisfaction"], panel["nps"])
            assert got == (row["responses"], row["satisfaction"], row["nps"]), (user.username, customer.name)


def test_the_invitation_list_reads_the_survey_once(users, customers, api, key_survey):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _sent(api, users, key_survey)
    client = api(users.lead1)
    client.get(f"/surveys/{key_survey['id']}/invitations")  # warm the session and the user's caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/surveys/{key_survey['id']}/invitations")
    assert [i["customer_id"] for i in response.json()["items"]] == [customers.c1.pk]
    reads = [q["sql"] for q in queries if 'FROM "service_survey" ' in q["sql"] + " "]
    assert len(reads) == 1, reads
    assert api(users.agent1).get("/surveys/999999/invitations").status_code == 404


def test_the_360_panel_reads_no_totals_for_a_customer_without_visits_or_answers(users, customers, key_survey):
    """Without a latest visit or answer there is nothing to sum: the panel's two aggregates are not run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.service.satisfaction import customer_satisfaction
    from tests.conftest import fresh

    user = fresh(users.am1)
    customer_satisfaction(user=user, customer=customers.c1)  # permissions and scope cached on the user
    with CaptureQueriesContext(connection) as statements:
        data = customer_satisfaction(user=user, customer=customers.c1)
    assert len(statements) == 2
    assert (data["latest"], data["responses"], data["satisfaction"], data["nps"]) == (None, 0, None, None)
