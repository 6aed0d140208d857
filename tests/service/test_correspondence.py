"""A ticket's thread and the complaint flow through the API: acknowledgement stops the response clock, the formal reply
and whether it was on time, the customer's acceptance (close / reopen), repeat complaints, attachments, @mentions,
who may read and write (404 out of scope, 403 without the right to act), bad input by field, audit, query counts."""

from datetime import timedelta

import pytest

from guanxi.activities.models import Notification
from guanxi.service.models import ComplaintHandling, MessageAttachment, Ticket, TicketMessage, TicketSubType
from tests.conftest import audit_count, errors_by_field, fresh
from tests.service.factories import Clock, at, make_ticket, move


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _complaint(users, customer, **data):
    sub_type = TicketSubType.objects.get(ticket_type__code="complaint", name="电费争议")
    data.setdefault("sub_type_id", sub_type.pk)
    return make_ticket(users.agent1, customer, ticket_type="complaint", priority="high", **data)


def _post(client, ticket, **body):
    body.setdefault("direction", "outbound")
    body.setdefault("channel", "phone")
    body.setdefault("content", "您好，您反映的问题我们已受理。")
    return client.post(f"/tickets/{ticket.pk}/messages", body)


def test_the_complaint_flow_acknowledge_reply_not_accepted_reopens_then_accepted_closes(users, customers, api):
    ticket = _complaint(users, customers.c1, subject="电费异常偏高")
    client = api(users.agent1)

    acknowledged = _post(client, ticket)  # the first message to the customer: acknowledgement
    assert acknowledged.status_code == 201, acknowledged.content
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ACCEPTED and ticket.responded_at is not None
    assert ticket.sla_due_at == ticket.resolution_due_at  # the response clock stopped
    assert not ticket.response_breached

    reply = _post(client, ticket, channel="letter", is_reply=True, content="经核查，电表运行正常，电费无误。")
    assert reply.status_code == 201, reply.content
    handling = client.get(f"/tickets/{ticket.pk}/complaint-handling").json()
    assert handling["reply"]["id"] == reply.json()["id"] and handling["reply"]["channel"] == "letter"
    assert handling["reply_on_time"] is True and handling["acknowledged_at"] is not None
    assert handling["acceptance"] == ""

    ticket = move(ticket, users.agent1, "start", "resolve")
    refused = client.post(f"/tickets/{ticket.pk}/acceptance", {"version": ticket.version, "accepted": False})
    assert refused.status_code == 422 and "reason" in errors_by_field(refused)

    answer = client.post(
        f"/tickets/{ticket.pk}/acceptance", {"version": ticket.version, "accepted": False, "reason": "仍认为电费偏高"}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["acceptance"] == "not_accepted" and body["reply"] is None and body["not_accepted_count"] == 1
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.REOPENED  # not accepted: the resolved ticket is reopened
    assert ticket.events.filter(kind="reopened", note__contains="仍认为电费偏高").exists()

    # Acceptance needs a new reply first.
    early = client.post(f"/tickets/{ticket.pk}/acceptance", {"version": ticket.version, "accepted": True})
    assert early.status_code == 409

    assert (
        _post(client, ticket, channel="in_person", is_reply=True, content="上门复核，已退还多收电费").status_code == 201
    )
    ticket = move(ticket, users.agent1, "start", "resolve")
    accepted = client.post(f"/tickets/{ticket.pk}/acceptance", {"version": ticket.version, "accepted": True})
    assert accepted.status_code == 200 and accepted.json()["acceptance"] == "accepted"
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert audit_count(object_type="service.ticket", object_id=str(ticket.pk), action="message") == 3
    assert audit_count(object_type="service.ticket", object_id=str(ticket.pk), action="acceptance") == 2


def test_a_late_reply_is_recorded_as_late_and_a_stale_acceptance_gets_409(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))
    ticket = _complaint(users, customers.c1)
    clock.set(ticket.resolution_due_at + timedelta(hours=1))
    client = api(users.agent1)
    assert _post(client, ticket, is_reply=True, content="答复").status_code == 201
    handling = ComplaintHandling.objects.get(ticket=ticket)
    assert handling.reply_on_time is False
    ticket.refresh_from_db()
    assert ticket.response_breached  # acknowledged after the response deadline
    stale = client.post(f"/tickets/{ticket.pk}/acceptance", {"version": ticket.version - 1, "accepted": True})
    assert stale.status_code == 409


def test_not_accepted_on_an_open_ticket_keeps_it_open(users, customers, api):
    ticket = _complaint(users, customers.c1)
    client = api(users.agent1)
    _post(client, ticket, is_reply=True)
    ticket.refresh_from_db()
    response = client.post(
        f"/tickets/{ticket.pk}/acceptance", {"version": ticket.version, "accepted": False, "reason": "不满意"}
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ACCEPTED
    assert ticket.events.filter(kind="updated", note__contains="不满意").exists()


def test_the_thread_lists_every_kind_in_order_with_attachments(users, customers, api):
    ticket = _complaint(users, customers.c1)
    client = api(users.agent1)
    _post(client, ticket, direction="inbound", channel="phone", content="客户来电补充情况", sender="13912345678")
    upload = client.client.post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {
            "direction": "outbound",
            "channel": "letter",
            "content": "书面答复见附件",
            "files": [_file("答复函.pdf", b"%PDF-1.4 reply"), _file("照片.jpg", b"\xff\xd8\xff photo")],
        },
    )
    assert upload.status_code == 201, upload.content
    attachments = upload.json()["attachments"]
    assert [a["name"] for a in attachments] == ["答复函.pdf", "照片.jpg"]
    _post(client, ticket, direction="internal", content="请组长关注")

    listed = client.get(f"/tickets/{ticket.pk}/messages").json()
    assert [m["direction"] for m in listed["items"]] == ["inbound", "outbound", "internal"]
    assert listed["items"][2]["channel"] == "note" and listed["next"] is None
    download = client.get(attachments[0]["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 reply"
    stored = MessageAttachment.objects.get(pk=attachments[0]["id"])
    assert "答复函" not in stored.file.name  # stored under a random name


def _file(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_an_internal_comment_notifies_the_people_mentioned(users, customers, api, django_capture_on_commit_callbacks):
    ticket = _complaint(users, customers.c1)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(api(users.agent1), ticket, direction="internal", content="@bm1 请协助核查，@agent2 也看看")
    assert response.status_code == 201
    assert Notification.objects.filter(user=users.bm1, kind="mention").count() == 1
    assert not Notification.objects.filter(user=users.agent2).exists()  # agent2 (B02) cannot see the ticket


def test_out_of_scope_users_get_404_on_every_path(users, customers, api):
    ticket = _complaint(users, customers.c1)
    client = api(users.agent1)
    message = _post(
        client.client and client,
        ticket,
        direction="outbound",
        channel="letter",
        content="答复",
    ).json()
    with_file = client.client.post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {"direction": "internal", "content": "附件", "files": [_file("a.txt", b"abc")]},
    ).json()
    outsider = api(users.agent2)
    assert outsider.get(f"/tickets/{ticket.pk}/messages").status_code == 404
    assert outsider.get(f"/tickets/{ticket.pk}/complaint-handling").status_code == 404
    assert outsider.get(with_file["attachments"][0]["url"]).status_code == 404
    assert _post(outsider, ticket, direction="internal").status_code == 404
    assert outsider.post(f"/tickets/{ticket.pk}/acceptance", {"version": 1, "accepted": True}).status_code == 404
    # Another ticket's attachment id through a visible ticket: 404 as well.
    other = make_ticket(users.agent2, customers.c3)
    assert (
        api(users.agent2)
        .get(f"/tickets/{other.pk}/message-attachments/{with_file['attachments'][0]['id']}")
        .status_code
        == 404
    )
    # The page fragment too.
    page = outsider.client.get(f"/service/thread/{ticket.pk}/")
    assert page.status_code in (302, 404)
    assert message["id"]


def test_only_those_who_may_act_correspond_with_the_customer(users, customers, api):
    ticket = _complaint(users, customers.c1)
    colleague = api(users.am1)  # sees the ticket (their customer) but does not own it
    before = TicketMessage.objects.count()
    assert _post(colleague, ticket).status_code == 403
    assert (
        colleague.post(f"/tickets/{ticket.pk}/acceptance", {"version": ticket.version, "accepted": True}).status_code
        == 403
    )
    assert _post(colleague, ticket, direction="internal", content="我是客户经理，补充情况").status_code == 201
    assert _post(api(users.analyst1), ticket, direction="internal").status_code == 403  # read-only role
    assert TicketMessage.objects.count() == before + 1
    assert _post(api(users.lead3), ticket).status_code == 404  # another branch's lead


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"channel": "pigeon"}, "channel"),
        ({"content": ""}, "content"),
        ({"direction": "internal", "is_reply": True}, "is_reply"),
        ({"at": "2099-01-01T00:00:00+08:00"}, "at"),
        ({"at": "2000-01-01T00:00:00+08:00"}, "at"),
        ({"channel": "email", "recipient": "not an address"}, "recipient"),
        ({"channel": "email"}, "recipient"),  # an unknown caller by phone: no address known
        ({"direction": "inbound", "channel": None}, "channel"),
        ({"colour": "red"}, "colour"),
        ({"content": "已受理\x00"}, "content"),  # PostgreSQL cannot store NUL: refused like any bad input
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(users, customers, api, body, field):
    ticket = make_ticket(users.agent1, ticket_type="complaint")
    before = (TicketMessage.objects.count(), ComplaintHandling.objects.count())
    response = _post(api(users.agent1), ticket, **body)
    assert response.status_code == 422, response.content
    assert field in errors_by_field(response)
    assert (TicketMessage.objects.count(), ComplaintHandling.objects.count()) == before
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


def test_an_oversized_attachment_is_refused(users, customers, api, settings):
    settings.GUANXI_ATTACHMENT_MAX_BYTES = 10
    ticket = _complaint(users, customers.c1)
    response = api(users.agent1).client.post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {"direction": "internal", "content": "附件", "files": [_file("big.bin", b"x" * 11)]},
    )
    assert response.status_code == 422 and "files" in errors_by_field(response)
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_repeat_complaints_of_the_same_customer_and_cause_within_n_days(users, customers, api, monkeypatch, settings):
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))
    old = _complaint(users, customers.c1, subject="一月投诉")
    clock.set(at(2026, 4, 13, 9, 0))  # 42 days later
    recent = _complaint(users, customers.c1, subject="四月投诉")
    clock.set(at(2026, 4, 20, 9, 0))
    current = _complaint(users, customers.c1, subject="再次投诉")
    other_cause = _complaint(
        users,
        customers.c1,
        sub_type_id=TicketSubType.objects.filter(ticket_type__code="complaint").exclude(name="电费争议").first().pk,
    )
    other_customer = _complaint(users, customers.c2)
    client = api(users.agent1)

    body = client.get(f"/tickets/{current.pk}/complaint-handling").json()
    assert body["is_repeat"] is True and body["repeat_days"] == 30
    assert [r["number"] for r in body["repeats"]] == [recent.number]  # the one of 42+ days ago is too old
    assert client.get(f"/tickets/{other_cause.pk}/complaint-handling").json()["is_repeat"] is False
    assert client.get(f"/tickets/{other_customer.pk}/complaint-handling").json()["is_repeat"] is False
    assert client.get(f"/tickets/{old.pk}/complaint-handling").json()["is_repeat"] is False

    settings.GUANXI_REPEAT_COMPLAINT_DAYS = 60
    body = client.get(f"/tickets/{current.pk}/complaint-handling").json()
    assert [r["number"] for r in body["repeats"]] == [recent.number, old.number]


def test_the_thread_reads_in_a_fixed_number_of_queries(users, customers, api, django_assert_max_num_queries):
    ticket = _complaint(users, customers.c1)
    client = api(users.agent1)
    for index in range(6):
        client.client.post(
            f"/api/v1/tickets/{ticket.pk}/messages",
            {"direction": "internal", "content": f"第{index}条", "files": [_file(f"{index}.txt", b"x")]},
        )
    fresh(users.agent1)
    # 9 for the session, the user, the scope and the permissions; 3 for the thread (ticket, messages with authors,
    # attachments), whatever the number of messages.
    with django_assert_max_num_queries(12):
        response = client.get(f"/tickets/{ticket.pk}/messages")
    assert len(response.json()["items"]) == 6


def test_the_ticket_page_shows_the_thread_and_records_a_reply_by_htmx(users, customers, api):
    ticket = _complaint(users, customers.c1)
    client = api(users.agent1).client
    page = client.get(f"/service/{ticket.pk}/")
    assert page.status_code == 200 and f"/service/thread/{ticket.pk}/".encode() in page.content
    posted = client.post(
        f"/service/thread/{ticket.pk}/",
        {"direction": "outbound", "channel": "phone", "content": "已电话回复客户", "is_reply": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert posted.status_code == 200
    assert "已电话回复客户" in posted.content.decode() and posted["HX-Refresh"] == "true"  # new → accepted
    bad = client.post(f"/service/thread/{ticket.pk}/", {"direction": "outbound", "content": ""}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and 'class="error"' in bad.content.decode()
    fragment = client.get(f"/service/thread/{ticket.pk}/").content.decode()
    assert "Record the customer" in fragment or "客户" in fragment


def test_the_reply_form_without_htmx_redirects_back_with_the_error(users, customers, api):
    ticket = _complaint(users, customers.c1)
    client = api(users.agent1).client
    response = client.post(
        f"/service/thread/{ticket.pk}/", {"direction": "outbound", "channel": "phone", "content": ""}
    )
    assert response.status_code == 302 and response["Location"] == f"/service/{ticket.pk}/"
    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    done = client.post(f"/service/thread/{ticket.pk}/", {"direction": "internal", "content": "备注", "channel": ""})
    assert done.status_code == 302 and TicketMessage.objects.filter(ticket=ticket, direction="internal").count() == 1
