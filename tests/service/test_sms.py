"""Text messages (service.sms): the HTTP gateway backend against a real HTTP server on 127.0.0.1 (sent, refused,
timed out, unreachable — recorded, never raised), sending only by a worker after the commit (in chunks), the beat
sweep (left queued, retries with backoff up to a limit, dead claims), no message sent twice by concurrent
deliverers, and the return visits and survey invitations that go by text message."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from guanxi.customers.models import Contact
from guanxi.service import return_visits, sms, sms_backends
from guanxi.service.models import ReturnVisit, ReturnVisitRule, SurveyInvitation
from guanxi.service.models.sms import SmsMessage
from tests.service.factories import Clock, at
from tests.service.test_return_visits import closed_by_lead

LOCMEM = "guanxi.service.sms_backends.LocmemBackend"
HTTP = "guanxi.service.sms_backends.HttpBackend"


class Gateway(BaseHTTPRequestHandler):
    """A stand-in SMS gateway: records each request; answers as `behaviour` says (ok, error, slow)."""

    behaviour = "ok"
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"headers": dict(self.headers), "body": json.loads(body)})
        if self.behaviour == "slow":
            time.sleep(1.0)
        if self.behaviour == "error":
            self._answer(500, {"success": False, "message": "签名未审核"})
        elif self.behaviour == "refused":
            self._answer(200, {"success": False, "code": "isv.MOBILE_NUMBER_ILLEGAL"})
        else:
            self._answer(200, {"success": True, "id": f"gw-{len(self.received)}"})

    def _answer(self, status, data):
        payload = json.dumps(data).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    Gateway.received = []
    Gateway.behaviour = "ok"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GUANXI_SMS_BACKEND = HTTP
    settings.GUANXI_SMS_URL = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    settings.GUANXI_SMS_TOKEN = "t0ken"
    settings.GUANXI_SMS_SIGN = "国网客服"
    settings.GUANXI_SMS_TIMEOUT = 0.3
    yield Gateway
    server.shutdown()
    server.server_close()


@pytest.fixture
def outbox(settings):
    settings.GUANXI_SMS_BACKEND = LOCMEM
    sms_backends.outbox.clear()
    return sms_backends.outbox


def queued(content="您的工单已办结", phone="13800138000"):
    return sms.queue(phone=phone, content=content, purpose=SmsMessage.Purpose.RETURN_VISIT, template="return_visit")


def test_the_http_gateway_gets_phone_sign_template_and_content(
    db, gateway, sms_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    assert sms_tasks.chunks == [[message.pk]] and gateway.received == []  # handed to a worker, not sent here
    sms_tasks.run()
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_id == "gw-1" and message.sent_at is not None
    (request,) = gateway.received
    assert request["body"] == {
        "phone": "13800138000",
        "sign": "国网客服",
        "template": "return_visit",
        "content": "您的工单已办结",
    }
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert message.backend == HTTP


@pytest.mark.parametrize(
    ("behaviour", "error", "retried"),
    [("error", "HTTP 500", True), ("refused", "MOBILE_NUMBER_ILLEGAL", False), ("slow", "timed out", True)],
)
def test_a_failing_gateway_is_recorded_not_raised(
    db, gateway, sms_tasks, django_capture_on_commit_callbacks, behaviour, error, retried
):
    gateway.behaviour = behaviour
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    sms_tasks.run()
    message.refresh_from_db()
    assert message.status == "failed" and error in message.error and message.attempts == 1
    assert (message.next_attempt_at is not None) == retried  # the gateway down: later; the number refused: never
    assert sms.deliver(message.pk) == ""  # a failed message is not sent again before its retry time


def test_an_unreachable_gateway_is_recorded(db, settings, sms_tasks, django_capture_on_commit_callbacks):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.GUANXI_SMS_BACKEND = HTTP
    settings.GUANXI_SMS_URL = f"http://127.0.0.1:{port}/sms"
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    sms_tasks.run()
    message.refresh_from_db()
    assert message.status == "failed" and "unreachable" in message.error and message.next_attempt_at is not None


def test_nothing_is_sent_when_the_change_rolls_back(db, outbox, sms_tasks, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queued()
        raise RuntimeError("the business change failed")
    assert callbacks == [] and sms_tasks.chunks == [] and outbox == [] and not SmsMessage.objects.exists()


def test_messages_left_queued_are_delivered_later(db, outbox):
    message = queued()  # its on-commit send never ran (the test transaction does not commit)
    assert sms.deliver_queued(older_than_seconds=0)["sms_sent"] == 1
    assert [m.phone for m in outbox] == ["13800138000"]
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_id == "locmem-1" and message.attempts == 1
    assert sms.deliver_queued(older_than_seconds=0)["sms_sent"] == 0


def test_a_return_visit_by_text_message_asks_the_customer(users, customers, outbox, monkeypatch):
    ReturnVisitRule.objects.filter(ticket_type="complaint").update(channel="sms")
    contact = Contact.objects.create(customer=customers.c1, name="李经理", mobile="13911112222")
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    ticket = closed_by_lead(users, customers.c1)
    type(ticket).objects.filter(pk=ticket.pk).update(contact=contact)
    clock.set(clock.now + timedelta(days=3))
    assert return_visits.return_visits_sweep()["return_visits_due"] == 1
    visit = ReturnVisit.objects.get(ticket=ticket)
    message = SmsMessage.objects.get()
    assert (message.phone, message.purpose, message.object_id) == ("13911112222", "return_visit", visit.pk)
    assert ticket.number in message.content
    sms.deliver(message.pk)  # what the commit would have done
    assert [m.phone for m in outbox] == ["13911112222"]


def test_a_visit_by_phone_sends_nothing(users, customers, outbox, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 10, 0))
    closed_by_lead(users, customers.c1)
    clock.set(clock.now + timedelta(days=3))
    assert return_visits.return_visits_sweep()["return_visits_due"] == 1
    assert not SmsMessage.objects.exists()


def test_a_survey_by_text_message_invites_each_customers_mobile(users, customers, api, outbox):
    Contact.objects.create(customer=customers.c1, name="甲", mobile="13911110001", primary=True)
    Contact.objects.create(customer=customers.c1, name="乙", mobile="13911110002")
    Contact.objects.create(customer=customers.c2, name="丙", mobile="13911110003", opt_out_sms=True)
    for customer in (customers.c1, customers.c2):
        customer.grade = "key"
        customer.save(update_fields=["grade"])
    survey = api(users.bm1).post("/surveys", {"name": "短信调查", "channel": "sms", "segment": {"grade": "key"}}).json()
    sent = api(users.bm1).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})
    assert sent.status_code == 200 and sent.json()["invited"] == 2
    (message,) = SmsMessage.objects.all()  # c2's only mobile opted out of SMS
    invitation = SurveyInvitation.objects.get(customer=customers.c1)
    assert (message.phone, message.purpose, message.object_id) == ("13911110001", "survey", invitation.pk)
    assert "短信调查" in message.content


def test_the_console_backend_is_the_default(db, settings, capsys):
    assert settings.GUANXI_SMS_BACKEND.endswith("ConsoleBackend")
    message = queued(content="测试")
    assert sms.deliver(message.pk) == "sent"
    assert "13800138000" in capsys.readouterr().out


# --- delivery in the background -----------------------------------------------------------------------------------


class FlakyBackend:
    """A gateway that is down for the first `failures` sends (a retryable error), then accepts."""

    failures = 0
    calls = 0

    def send(self, message):
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise sms_backends.SmsError("HTTP 503: busy", retryable=True)
        return f"flaky-{type(self).calls}"


class SlowBackend(sms_backends.LocmemBackend):
    """The local outbox, slowly: concurrent deliverers overlap."""

    def send(self, message):
        time.sleep(0.005)
        return super().send(message)


@pytest.fixture
def flaky(settings):
    settings.GUANXI_SMS_BACKEND = "tests.service.test_sms.FlakyBackend"
    settings.GUANXI_SMS_MAX_ATTEMPTS = 3
    settings.GUANXI_SMS_RETRY_SECONDS = 60
    FlakyBackend.failures, FlakyBackend.calls = 99, 0
    return FlakyBackend


def key_customers_with_mobiles(users, count):
    from tests.conftest import make_customer

    made = []
    for n in range(count):
        customer = make_customer(users.am1, name=f"重点客户{n}", grade="key")
        Contact.objects.create(customer=customer, name=f"联系人{n}", mobile=f"1390000{n:04d}", primary=True)
        made.append(customer)
    return made


def test_a_survey_request_hands_its_messages_to_workers_in_chunks(
    users, customers, api, outbox, settings, sms_tasks, django_capture_on_commit_callbacks
):
    settings.GUANXI_SMS_BATCH = 2
    key_customers_with_mobiles(users, 5)
    survey = (
        api(users.admin).post("/surveys", {"name": "大批调查", "channel": "sms", "segment": {"grade": "key"}}).json()
    )
    with django_capture_on_commit_callbacks(execute=True):
        sent = api(users.admin).post(f"/surveys/{survey['id']}/send", {"version": survey["version"]})
    assert sent.status_code == 200 and sent.json()["invited"] >= 5
    ids = sorted(SmsMessage.objects.values_list("pk", flat=True))
    assert len(ids) == 5
    # The request called no gateway: every message is still queued, handed over in chunks of GUANXI_SMS_BATCH.
    assert outbox == [] and set(SmsMessage.objects.values_list("status", flat=True)) == {"queued"}
    assert [len(chunk) for chunk in sms_tasks.chunks] == [2, 2, 1]
    assert sorted(pk for chunk in sms_tasks.chunks for pk in chunk) == ids
    sms_tasks.run()  # the worker
    assert len(outbox) == 5 and set(SmsMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_the_send_task_sends_its_chunk_and_is_safe_to_run_twice(db, outbox):
    from guanxi.service import tasks

    ids = [queued(phone=f"1380000000{n}").pk for n in range(3)]
    assert tasks.sms_send(ids) == {"sms_sent": 3, "sms_handled": 3}
    assert tasks.sms_send(ids) == {"sms_sent": 0, "sms_handled": 0}  # a redelivered task sends nothing again
    assert len(outbox) == 3


def test_a_broker_that_is_down_leaves_the_messages_to_the_sweep(
    db, outbox, sms_tasks, django_capture_on_commit_callbacks
):
    sms_tasks.broker_down = True
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()  # the commit does not fail
    message.refresh_from_db()
    assert message.status == "queued" and outbox == []
    assert sms.deliver_queued(older_than_seconds=0)["sms_sent"] == 1 and len(outbox) == 1


def test_the_beat_sweep_runs_every_minute_and_leaves_fresh_messages_to_their_task(db, settings, outbox):
    from guanxi.service import tasks

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "service.sms_deliver")
    assert entry["schedule"] <= 60
    old, fresh = queued(phone="13800000001"), queued(phone="13800000002")
    SmsMessage.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(minutes=5))  # its worker died
    assert tasks.sms_deliver()["sms_sent"] == 1
    assert [m.phone for m in outbox] == ["13800000001"]
    fresh.refresh_from_db()
    assert fresh.status == "queued"


def test_a_retryable_failure_is_retried_with_backoff_up_to_the_limit(db, flaky):
    message = queued()
    assert sms.deliver(message.pk) == "failed"
    message.refresh_from_db()
    first_retry = message.next_attempt_at
    assert message.attempts == 1 and "503" in message.error
    assert timedelta(seconds=55) < first_retry - message.created_at < timedelta(seconds=65)
    assert sms.deliver_queued(now=first_retry - timedelta(seconds=1))["sms_failed"] == 0  # not yet due
    assert sms.deliver_queued(now=first_retry)["sms_failed"] == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at - first_retry > timedelta(seconds=115)  # doubled
    assert sms.deliver_queued(now=message.next_attempt_at)["sms_failed"] == 1
    message.refresh_from_db()
    assert message.attempts == 3 and message.status == "failed" and message.next_attempt_at is None  # the limit
    assert sms.deliver_queued(now=first_retry + timedelta(days=1)) == {
        "sms_sent": 0,
        "sms_failed": 0,
        "sms_released": 0,
    }
    assert flaky.calls == 3


def test_a_retry_that_gets_through_is_sent(db, flaky):
    flaky.failures = 1
    message = queued()
    sms.deliver(message.pk)
    message.refresh_from_db()
    assert sms.deliver_queued(now=message.next_attempt_at)["sms_sent"] == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error, message.provider_id) == ("sent", 2, "", "flaky-2")


def test_backoff_doubles_and_stops_at_an_hour(settings):
    settings.GUANXI_SMS_RETRY_SECONDS = 60
    assert [sms.backoff(n).total_seconds() for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]


def test_a_claim_of_a_dead_worker_is_released_by_the_sweep(db, outbox, settings):
    settings.GUANXI_SMS_MAX_ATTEMPTS = 2
    stuck, used_up = queued(phone="13800000001"), queued(phone="13800000002")
    long_ago = stuck.created_at - timedelta(minutes=30)
    SmsMessage.objects.filter(pk=stuck.pk).update(status="sending", claim="dead", claimed_at=long_ago, attempts=1)
    SmsMessage.objects.filter(pk=used_up.pk).update(status="sending", claim="dead", claimed_at=long_ago, attempts=2)
    result = sms.deliver_queued(older_than_seconds=0)
    assert result["sms_released"] == 2 and result["sms_sent"] == 1
    assert [m.phone for m in outbox] == ["13800000001"]
    used_up.refresh_from_db()
    assert used_up.status == "failed" and used_up.next_attempt_at is None


def test_a_message_claimed_by_one_deliverer_is_not_sent_by_another(db, outbox):
    message = queued()
    token, claimed = sms._claim(SmsMessage.objects.filter(pk=message.pk))
    assert [m.pk for m in claimed] == [message.pk]
    assert sms.deliver(message.pk) == "" and sms.deliver_queued(older_than_seconds=0)["sms_sent"] == 0
    assert sms._send(claimed[0], "someone-else") == "sent"  # the backend ran, but the outcome is not theirs to write
    message.refresh_from_db()
    assert message.status == "sending" and message.claim == token


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_deliverers_never_send_a_message_twice(settings):
    from django.db import connection

    settings.GUANXI_SMS_BACKEND = "tests.service.test_sms.SlowBackend"
    sms_backends.outbox.clear()
    messages = [SmsMessage(phone=f"1380000{n:04d}", content="c", purpose="survey", status="queued") for n in range(120)]
    SmsMessage.objects.bulk_create(messages)
    SmsMessage.objects.update(created_at=timezone_now() - timedelta(minutes=5))
    barrier = threading.Barrier(3)
    errors = []

    def deliverer(task):
        try:
            barrier.wait()
            task()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    ids = list(SmsMessage.objects.order_by("pk").values_list("pk", flat=True))
    threads = [
        threading.Thread(target=deliverer, args=(lambda: sms.deliver_queued(older_than_seconds=0),)),
        threading.Thread(target=deliverer, args=(lambda: sms.deliver_queued(older_than_seconds=0),)),
        threading.Thread(target=deliverer, args=(lambda: sms.deliver_many(ids),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    phones = [m.phone for m in sms_backends.outbox]
    assert len(phones) == 120 and len(set(phones)) == 120  # each sent exactly once
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert set(SmsMessage.objects.values_list("attempts", flat=True)) == {1}


def timezone_now():
    from django.utils import timezone

    return timezone.now()
