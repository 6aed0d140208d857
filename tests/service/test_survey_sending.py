"""Sending a survey is a background job (surveys.survey_deliver, task service.survey_send): the request only counts
the segment and marks the survey `sending`; the job invites in chunks, shows its progress and is safe to run twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.customers.models import Contact
from guanxi.service import surveys, tasks
from guanxi.service.models import Survey, SurveyInvitation
from guanxi.service.models.sms import SmsMessage
from tests.conftest import audit_count, make_customer

REAL_START = surveys.start_sending  # taken before the autouse fixture replaces it


def key_customers(users, count, *, mobiles=True):
    made = []
    for n in range(count):
        customer = make_customer(users.am1, name=f"调查客户{n}", grade="key")
        if mobiles:
            Contact.objects.create(customer=customer, name=f"联系人{n}", mobile=f"1370000{n:04d}", primary=True)
        made.append(customer)
    return made


def draft(api, user, channel="sms"):
    response = api(user).post("/surveys", {"name": "后台发送", "channel": channel, "segment": {"grade": "key"}})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def background(survey_tasks, monkeypatch):
    """The job waits for `survey_tasks.run()` and invites 5 customers per chunk."""
    survey_tasks.eager = False
    monkeypatch.setattr(surveys, "SEND_CHUNK", 5)
    return survey_tasks


def test_the_request_only_marks_the_survey_and_the_job_invites_in_chunks(users, customers, api, background):
    made = key_customers(users, 12)
    survey = draft(api, users.bm1)
    refused = api(users.agent1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})
    assert refused.status_code == 403 and background.pending == []
    sent = api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})
    assert sent.status_code == 200, sent.content
    body = sent.json()
    # Nothing was written for the customers inside the request: the job is handed off.
    assert body["invited"] == 12 and body["survey"]["status"] == "sending" and body["survey"]["progress"] == 0
    assert SurveyInvitation.objects.count() == 0 and SmsMessage.objects.count() == 0
    assert background.pending == [survey["id"]]
    assert audit_count(object_type="service.survey", action="survey_send") == 1
    # Sending once more, closing or answering is refused while the job has not run.
    again = api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": body["survey"]["version"]})
    assert again.status_code == 409
    assert (
        api(users.bm1).post(f"/surveys/{survey['id']}/close", {"version": body["survey"]["version"]}).status_code == 409
    )

    assert background.run() == [{"survey": survey["id"], "invited": 12}]
    after = api(users.bm1).get(f"/surveys/{survey['id']}").json()
    assert after["status"] == "sent" and after["progress"] is None and after["invited"] == 12
    assert after["version"] == body["survey"]["version"] + 1
    assert set(SurveyInvitation.objects.values_list("customer_id", flat=True)) == {c.pk for c in made}
    assert SmsMessage.objects.filter(purpose="survey").count() == 12
    # Run twice (a redelivered task): nothing more.
    assert surveys.survey_deliver(survey["id"]) == {"survey": survey["id"], "invited": 0}
    assert SurveyInvitation.objects.count() == 12 and SmsMessage.objects.count() == 12


def test_a_job_that_stopped_halfway_is_resumed_without_duplicates(users, customers, api, background, monkeypatch):
    key_customers(users, 12)
    survey = draft(api, users.bm1)
    api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})
    real = surveys.sms.survey_messages
    calls = []

    def dies_on_the_second_chunk(survey, customer_ids=None):
        calls.append(customer_ids)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return real(survey, customer_ids=customer_ids)

    monkeypatch.setattr(surveys.sms, "survey_messages", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        background.run()
    # The first chunk is committed; the second rolled back as a whole.
    assert SurveyInvitation.objects.count() == 5 and SmsMessage.objects.count() == 5
    shown = api(users.bm1).get(f"/surveys/{survey['id']}").json()
    assert shown["status"] == "sending" and shown["progress"] == 5 * 100 // 12
    monkeypatch.setattr(surveys.sms, "survey_messages", real)
    # A message invited twice: the first chunk again gets no second message.
    surveys.survey_deliver(survey["id"])
    assert SurveyInvitation.objects.count() == 12 and SmsMessage.objects.count() == 12
    invited = SmsMessage.objects.values_list("object_id", flat=True)
    assert len(set(invited)) == 12
    assert Survey.objects.get(pk=survey["id"]).status == "sent"


def test_the_job_resolves_the_segment_in_the_senders_scope(users, customers, api, background):
    from tests.service.test_surveys import set_grade

    for customer in (customers.c1, customers.c2, customers.c3, customers.sensitive):
        set_grade(customer, "key")
    survey = draft(api, users.lead1, channel="phone")
    sent = api(users.lead1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]}).json()
    background.run()
    invited = set(SurveyInvitation.objects.values_list("customer_id", flat=True))
    assert sent["invited"] == len(invited) and customers.c1.pk in invited
    assert customers.c3.pk not in invited and customers.sensitive.pk not in invited
    # bm2 (branch B02) sees the survey but none of its invitations, and no counts of them.
    other = api(users.bm2).get(f"/surveys/{survey['id']}").json()
    assert other["invited"] == 0
    assert api(users.bm2).get(f"/surveys/{survey['id']}/invitations").json()["items"] == []


def test_the_hand_off_is_after_the_commit_and_a_lost_job_is_restarted_by_the_sweep(
    users, customers, api, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(surveys, "start_sending", REAL_START)  # the real after-commit hand-off; the task recorded
    sent_tasks = []
    broker = {"down": True}

    def apply_async(args, **options):
        if broker["down"]:
            raise ConnectionRefusedError("broker down")
        sent_tasks.append(args[0])

    monkeypatch.setattr(tasks.survey_send, "apply_async", apply_async)
    monkeypatch.setattr(tasks.sms_send, "apply_async", lambda args, **options: None)
    key_customers(users, 2, mobiles=False)
    survey = draft(api, users.bm1, channel="phone")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sent = api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})
    assert sent.status_code == 200 and len(callbacks) == 1
    assert sent_tasks == [] and Survey.objects.get(pk=survey["id"]).status == "sending"  # broker down: no error
    broker["down"] = False
    assert tasks.sms_deliver()["surveys_resumed"] == 0  # not yet silent long enough
    Survey.objects.filter(pk=survey["id"]).update(send_updated_at=timezone.now() - timedelta(minutes=6))
    assert tasks.sms_deliver()["surveys_resumed"] == 1 and sent_tasks == [survey["id"]]
    assert tasks.sms_deliver()["surveys_resumed"] == 0  # restarted once, not every minute
    tasks.survey_send(survey["id"])  # the worker
    assert Survey.objects.get(pk=survey["id"]).status == "sent" and SurveyInvitation.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_jobs_at_once_invite_each_customer_once(users, customers, api, background):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks need PostgreSQL")
    key_customers(users, 12)
    survey = draft(api, users.bm1)
    api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})
    errors = []

    def run():
        try:
            surveys.survey_deliver(survey["id"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert SurveyInvitation.objects.count() == 12 and SmsMessage.objects.count() == 12
    assert Survey.objects.get(pk=survey["id"]).status == "sent"
