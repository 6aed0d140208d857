"""Text messages (service.sms): the HTTP gateway backend against a real HTTP server on 127.0.0.1 (sent, refused,
timed out, unreachable — recorded, never raised), sending only after the commit, and the return visits and survey
invitations that go by text message."""

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


def test_the_http_gateway_gets_phone_sign_template_and_content(db, gateway, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
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
    ("behaviour", "error"),
    [("error", "HTTP 500"), ("refused", "MOBILE_NUMBER_ILLEGAL"), ("slow", "timed out")],
)
def test_a_failing_gateway_is_recorded_not_raised(db, gateway, django_capture_on_commit_callbacks, behaviour, error):
    gateway.behaviour = behaviour
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    message.refresh_from_db()
    assert message.status == "failed" and error in message.error
    assert sms.deliver(message.pk) == ""  # a failed message is not sent again by accident


def test_an_unreachable_gateway_is_recorded(db, settings, django_capture_on_commit_callbacks):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.GUANXI_SMS_BACKEND = HTTP
    settings.GUANXI_SMS_URL = f"http://127.0.0.1:{port}/sms"
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    message.refresh_from_db()
    assert message.status == "failed" and "unreachable" in message.error


def test_nothing_is_sent_when_the_change_rolls_back(db, outbox, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queued()
        raise RuntimeError("the business change failed")
    assert callbacks == [] and outbox == [] and not SmsMessage.objects.exists()


def test_messages_left_queued_are_delivered_later(db, outbox):
    message = queued()  # its on-commit send never ran (the test transaction does not commit)
    assert sms.deliver_queued(older_than_seconds=0) == 1
    assert [m.phone for m in outbox] == ["13800138000"]
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_id == "locmem-1"
    assert sms.deliver_queued(older_than_seconds=0) == 0


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
