"""Email intake and replies: real RFC 5322 messages parsed (RFC 2047 Chinese subjects and names in UTF-8 and GBK,
multipart/alternative, HTML only, forwarded), a new ticket or a reply on one (matched by the ticket number in the
subject), Message-ID idempotency, an unknown sender, replies sent through Django's email backend with threading
headers and read back with the email package, a real SMTP conversation with the aiosmtpd listener on 127.0.0.1, and
`guanxi service_mail_fetch` against a real IMAP server (pymap, in-memory)."""

import base64
import imaplib
import smtplib
import socket
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail as outbox
from django.core.management import CommandError, call_command

from guanxi.activities.models import Notification
from guanxi.service import intake, mailparse, smtpd
from guanxi.service.models import MessageAttachment, Ticket, TicketMessage
from tests.conftest import audit_count, make_contact
from tests.service.factories import ensure_reference_data, make_ticket, move

SERVICE = "kefu@95598.example.cn"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.GUANXI_SERVICE_MAIL_ADDRESS = f"国网客服 <{SERVICE}>"
    settings.GUANXI_SERVICE_MAIL_RECEIVER = "agent1"


def gbk_words(text: str) -> str:
    return f"=?GBK?B?{base64.b64encode(text.encode('gbk')).decode()}?="


def raw_message(
    *,
    subject="电费异常投诉",
    sender="王先生 <wang@example.cn>",
    message_id="<m1@example.cn>",
    text="我家本月电费比上月多了三倍，请核查。",
    html=None,
    attachments=(),
    extra_headers=(),
) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = SERVICE
    message["Subject"] = subject
    message["Date"] = "Fri, 27 Nov 2026 10:00:00 +0800"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in extra_headers:
        message[name] = value
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    else:
        message.set_content(html, subtype="html")
    for name, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


# --- parsing ----------------------------------------------------------------------------------------------------


def test_it_prefers_the_plain_text_of_a_multipart_alternative():
    parsed = mailparse.parse(raw_message(html="<p>HTML 版本</p>", text="纯文本版本"))
    assert parsed.text == "纯文本版本"
    assert parsed.subject == "电费异常投诉" and parsed.sender_name == "王先生"
    assert parsed.sender_address == "wang@example.cn" and parsed.message_id == "<m1@example.cn>"


def test_it_reads_an_html_only_message_as_safe_text():
    html = (
        "<html><head><title>t</title><style>p{color:red}</style></head><body><p>您好&nbsp;客服：</p>"
        "<div>停电已经<b>两天</b>了 &lt;紧急&gt;</div><script>alert('x')</script>"
        "<img src=x onerror=alert(1)></body></html>"
    )
    parsed = mailparse.parse(raw_message(text=None, html=html))
    assert parsed.text == "您好 客服：\n\n停电已经两天了 <紧急>"
    assert "alert" not in parsed.text and "<b>" not in parsed.text


def test_it_decodes_gb2312_and_gbk_encoded_words_and_bodies():
    body = base64.b64encode("用户户号：0100123456，镕字是 GBK 才有的字".encode("gbk")).decode()
    raw = (
        f"From: {gbk_words('李镕')} <Li@Example.CN>\r\n"
        f"To: {SERVICE}\r\n"
        f"Subject: =?GB2312?B?{base64.b64encode('停电报修'.encode('gb2312')).decode()}?= {gbk_words('（镕）')}\r\n"
        "Message-ID: <gbk@example.cn>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=GB2312\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{body}\r\n"
    ).encode("ascii")
    parsed = mailparse.parse(raw)
    assert parsed.sender_name == "李镕" and parsed.sender_address == "li@example.cn"
    assert parsed.subject == "停电报修（镕）"
    assert parsed.text == "用户户号：0100123456，镕字是 GBK 才有的字"


def test_a_forwarded_message_is_kept_as_an_eml_attachment():
    inner = raw_message(subject="原始投诉", message_id="<inner@example.cn>", text="原邮件内容")
    outer = EmailMessage(policy=policy.SMTP)
    outer["From"] = "班长 <banzhang@example.cn>"
    outer["To"] = SERVICE
    outer["Subject"] = "Fwd: 原始投诉"
    outer["Message-ID"] = "<fwd@example.cn>"
    outer.set_content("请处理下面这封客户来信。\n\n---------- Forwarded message ---------\n原邮件内容")
    outer.add_attachment(BytesParser(policy=policy.default).parsebytes(inner))
    parsed = mailparse.parse(outer.as_bytes())
    assert parsed.text.startswith("请处理下面这封客户来信。")
    assert [a.name for a in parsed.attachments] == ["原始投诉.eml"]
    forwarded = BytesParser(policy=policy.default).parsebytes(parsed.attachments[0].data)
    assert forwarded["Message-ID"] == "<inner@example.cn>" and forwarded.get_content().strip() == "原邮件内容"


def test_a_message_without_message_id_gets_a_stable_one():
    raw = raw_message(message_id=None)
    assert mailparse.parse(raw).message_id == mailparse.parse(raw).message_id
    assert mailparse.parse(raw).message_id.endswith("@guanxi.invalid>")


# --- intake -------------------------------------------------------------------------------------------------------


def test_an_email_from_an_unknown_sender_becomes_a_ticket_for_an_unknown_caller(users):
    result = intake.receive(raw_message(attachments=[("电费单.pdf", "application/pdf", PDF)]))
    assert result.outcome == "created"
    ticket = result.ticket
    assert ticket.channel == Ticket.Channel.EMAIL and ticket.customer_id is None
    assert ticket.caller_name == "王先生 <wang@example.cn>" and ticket.subject == "电费异常投诉"
    assert ticket.owner == users.agent1 and ticket.receiver == users.agent1  # GUANXI_SERVICE_MAIL_RECEIVER
    assert ticket.number.startswith("GD") and ticket.status == Ticket.Status.NEW
    message = result.message
    assert message.direction == "inbound" and message.sender == "王先生 <wang@example.cn>"
    assert message.content == "我家本月电费比上月多了三倍，请核查。"
    attachment = message.attachments.get()
    assert attachment.name == "电费单.pdf" and attachment.file.read() == PDF
    assert audit_count(object_type="service.ticket", object_id=str(ticket.pk), action="create") == 1


def test_an_email_from_a_known_contact_is_matched_to_the_customer(users, customers):
    contact = make_contact(users.am1, customers.c1, email="Wang@Example.cn")
    ticket = intake.receive(raw_message()).ticket
    assert ticket.customer_id == customers.c1.pk and ticket.contact_id == contact.pk


def test_an_address_shared_by_two_customers_matches_neither(users, customers):
    make_contact(users.am1, customers.c1, email="wang@example.cn")
    make_contact(users.am2, customers.c2, email="wang@example.cn")
    assert intake.receive(raw_message()).ticket.customer_id is None


def test_the_same_message_id_delivered_twice_is_taken_in_once(users):
    first = intake.receive(raw_message())
    second = intake.receive(raw_message())
    assert second.outcome == "duplicate" and second.ticket.pk == first.ticket.pk
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1


def test_a_message_over_the_size_limit_is_refused(users, settings):
    settings.GUANXI_SERVICE_MAIL_MAX_BYTES = 500
    with pytest.raises(intake.MailTooLarge):
        intake.receive(raw_message(attachments=[("a.pdf", "application/pdf", PDF * 20)]))
    assert not Ticket.objects.exists()


def test_an_attachment_over_its_limit_is_left_out_and_said_so(users, settings):
    settings.GUANXI_ATTACHMENT_MAX_BYTES = 10
    result = intake.receive(raw_message(attachments=[("大文件.pdf", "application/pdf", PDF)]))
    assert not MessageAttachment.objects.exists()
    assert "大文件.pdf" in result.message.content


def test_a_reply_naming_the_ticket_number_is_added_to_that_ticket(users, customers):
    ticket = make_ticket(users.agent1, customers.c1, ticket_type="complaint")
    ticket = move(ticket, users.agent1, "accept", "start", "wait")
    result = intake.receive(
        raw_message(subject=f"Re: [{ticket.number}] 电费异常", message_id="<r1@example.cn>", text="补充：户号 0100")
    )
    assert result.outcome == "added" and result.ticket.pk == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS  # the customer answered: the clock runs again
    assert Notification.objects.filter(user=users.agent1, kind="ticket_reply").exists()
    assert Ticket.objects.count() == 1


def test_a_reply_to_a_closed_ticket_reopens_it(users, customers):
    ticket = make_ticket(users.agent1, customers.c1)
    ticket = move(ticket, users.agent1, "accept", "resolve", "close")
    intake.receive(raw_message(subject=f"回复：[{ticket.number}] 问题没有解决", message_id="<r2@example.cn>"))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.REOPENED
    assert ticket.events.filter(kind="reopened", note__contains="<r2@example.cn>").exists()


def test_a_reply_to_a_ticket_that_cannot_be_reopened_starts_a_linked_ticket(users, customers, monkeypatch):
    from guanxi.service import services

    ticket = make_ticket(users.agent1, customers.c1)
    ticket = move(ticket, users.agent1, "accept", "resolve", "close")
    monkeypatch.setitem(services.TRANSITIONS, "reopen", (frozenset({"resolved"}), "reopened"))
    result = intake.receive(raw_message(subject=f"Re: [{ticket.number}] 再次反映", message_id="<r3@example.cn>"))
    assert result.outcome == "created" and result.ticket.pk != ticket.pk
    assert result.message.refers_to_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_an_unknown_ticket_number_makes_a_new_ticket(users):
    result = intake.receive(raw_message(subject="Re: [GD20990101999999] 不存在的工单"))
    assert result.outcome == "created"


def test_without_a_receiver_the_intake_refuses_and_writes_nothing(users, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.GUANXI_SERVICE_MAIL_RECEIVER = ""
    with pytest.raises(ImproperlyConfigured):
        intake.receive(raw_message())
    assert not TicketMessage.objects.exists()


# --- replies by email -----------------------------------------------------------------------------------------------


def test_a_reply_by_email_threads_and_comes_back_to_the_same_ticket(users, api, django_capture_on_commit_callbacks):
    ticket = intake.receive(raw_message(attachments=[("电费单.pdf", "application/pdf", PDF)])).ticket
    client = api(users.agent1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.client.post(
            f"/api/v1/tickets/{ticket.pk}/messages",
            {
                "direction": "outbound",
                "channel": "email",
                "is_reply": "true",
                "content": "王先生您好：经核查，您家电表运行正常。",
                "files": [_upload("核查报告.pdf", PDF)],
            },
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["recipient"] == "王先生 <wang@example.cn>" and body["in_reply_to"] == "<m1@example.cn>"
    assert len(outbox.outbox) == 1
    sent = BytesParser(policy=policy.default).parsebytes(outbox.outbox[0].message().as_bytes())
    assert "=?utf-8?" in outbox.outbox[0].message()["Subject"].lower()  # RFC 2047 on the wire
    assert sent["Subject"] == f"Re: [{ticket.number}] 电费异常投诉"
    assert sent["In-Reply-To"] == "<m1@example.cn>" and "<m1@example.cn>" in sent["References"]
    assert sent["Message-ID"].strip() == body["message_id"]
    assert sent["From"].addresses[0].addr_spec == SERVICE and sent["From"].addresses[0].display_name == "国网客服"
    assert sent["To"].addresses[0].addr_spec == "wang@example.cn"
    assert sent.get_body(("plain",)).get_content().strip() == "王先生您好：经核查，您家电表运行正常。"
    files = [(part.get_filename(), part.get_content()) for part in sent.iter_attachments()]
    assert files == [("核查报告.pdf", PDF)]
    assert TicketMessage.objects.get(pk=body["id"]).delivery == "sent"

    # The customer answers the reply from their mail client: same ticket.
    answer = raw_message(
        subject=str(sent["Subject"]).replace("Re: ", "答复: "),
        message_id="<m2@example.cn>",
        text="还是不认可。",
        extra_headers=[("In-Reply-To", sent["Message-ID"])],
    )
    assert intake.receive(answer).ticket.pk == ticket.pk


def test_a_failed_send_is_recorded_on_the_message(users, api, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    ticket = intake.receive(raw_message()).ticket
    with django_capture_on_commit_callbacks(execute=True):
        response = api(users.agent1).post(
            f"/tickets/{ticket.pk}/messages", {"direction": "outbound", "channel": "email", "content": "您好"}
        )
    assert response.status_code == 201
    message = TicketMessage.objects.get(pk=response.json()["id"])
    assert message.delivery == "failed" and message.delivery_error


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/pdf")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- a real SMTP conversation ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_smtp_conversation_makes_a_ticket_with_its_attachment(users):
    ensure_reference_data()
    server = smtpd.controller(host="127.0.0.1", port=_free_port())
    server.start()
    try:
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = "placeholder <li@example.cn>"
        message["To"] = SERVICE
        message["Subject"] = "关于电费的投诉（第二次）"
        message["Message-ID"] = "<smtp-1@example.cn>"
        message.set_content("电费单见附件。")
        message.add_attachment(PDF, maintype="application", subtype="pdf", filename="电费单.pdf")
        raw = message.as_bytes().replace(
            b"From: placeholder <li@example.cn>", f"From: {gbk_words('李镕')} <li@example.cn>".encode()
        )
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
            refused = client.sendmail("li@example.cn", [SERVICE], raw)
            assert refused == {}
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("li@example.cn", ["someone.else@95598.example.cn"], raw)
            client.sendmail("li@example.cn", [SERVICE], raw)  # delivered again: still one ticket
    finally:
        server.stop()
    ticket = Ticket.objects.get()
    assert ticket.subject == "关于电费的投诉（第二次）" and ticket.channel == "email"
    assert ticket.caller_name == "李镕 <li@example.cn>"
    stored = TicketMessage.objects.get()
    assert stored.message_id == "<smtp-1@example.cn>" and stored.content == "电费单见附件。"
    attachment = stored.attachments.get()
    assert attachment.name == "电费单.pdf" and attachment.content_type == "application/pdf"
    with attachment.file.open("rb") as handle:
        assert handle.read() == PDF


# --- a real IMAP mailbox --------------------------------------------------------------------------------------------


@pytest.fixture
def imap_server():
    """A real IMAP server (pymap, in-memory backend) on a free port of 127.0.0.1, with one mailbox user."""
    port = _free_port()
    command = [str(Path(sys.executable).with_name("pymap")), "--host", "127.0.0.1", "--port", str(port), "--no-tls"]
    process = subprocess.Popen(  # noqa: S603 - our own venv's pymap script, fixed arguments
        [*command, "dict", "--demo-user", "kefu", "--demo-password", "mima"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _attempt in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"imap://kefu:mima@127.0.0.1:{port}/INBOX", port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_mailbox_fetch_takes_in_unseen_messages_once(users, customers, imap_server):
    url, port = imap_server
    ticket = make_ticket(users.agent1, customers.c1)
    mailbox = imaplib.IMAP4("127.0.0.1", port)
    mailbox.login("kefu", "mima")
    for raw in (
        raw_message(message_id="<imap-1@example.cn>"),
        raw_message(subject=f"Re: [{ticket.number}] 补充材料", message_id="<imap-2@example.cn>"),
        raw_message(message_id="<imap-1@example.cn>"),  # the same message twice in the mailbox
    ):
        assert mailbox.append("INBOX", None, None, raw)[0] == "OK"

    out = StringIO()
    call_command("service_mail_fetch", url=url, stdout=out)
    assert out.getvalue().startswith("1 new tickets, 1 replies on tickets, 1 already taken in, 0 too large, 0 failed")
    assert Ticket.objects.count() == 2 and TicketMessage.objects.filter(ticket=ticket).count() == 1
    mailbox.select("INBOX")
    assert mailbox.uid("SEARCH", None, "UNSEEN")[1] == [b""]  # every message marked seen
    mailbox.logout()

    out = StringIO()
    call_command("service_mail_fetch", url=url, stdout=out)
    assert out.getvalue().startswith("0 new tickets, 0 replies on tickets, 0 already taken in")


def test_the_mailbox_fetch_reports_a_wrong_password(users, imap_server):
    url, _port = imap_server
    with pytest.raises(CommandError):
        call_command("service_mail_fetch", url=url.replace("mima", "wrong"), stdout=StringIO())


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_message_delivered_twice_at_once_makes_one_ticket(users):
    """Two SMTP deliveries of one message race: the unique Message-ID lets one win; the other answers "duplicate" and
    leaves no ticket behind (its whole transaction is rolled back)."""
    ensure_reference_data()
    import threading

    from django.db import connection

    raw = raw_message(message_id="<race@example.cn>")
    barrier = threading.Barrier(2)
    outcomes = []

    def deliver():
        try:
            barrier.wait()
            outcomes.append(intake.receive(raw).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1
