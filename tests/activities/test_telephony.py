"""Telephony events (D1): screen pops for known and unknown numbers, ended calls logged, malformed events refused."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from guanxi.activities.models import Activity, PhoneCall
from guanxi.activities.telephony import normalize_number
from guanxi.core.models import AuditLog
from guanxi.core.services import token_issue, user_create
from tests.conftest import PASSWORD, errors_by_field, make_contact


@pytest.fixture
def pbx(users, api):
    """The phone system's account: no role, only the telephony permission, calling with a bearer token."""
    account = user_create(username="pbx", password=PASSWORD, role="analyst", org_unit_code="GX")
    account.groups.clear()
    account.user_permissions.add(Permission.objects.get(codename="post_telephony_events"))
    _token, clear = token_issue(username="pbx", password=PASSWORD, client=None)
    return api(token=clear)


def event(kind, call_id="c-1", **fields):
    body = {
        "event": kind,
        "call_id": call_id,
        "caller": "138 0013 8000",
        "called": "95598",
        "agent": "agent1",
        "timestamp": timezone.now().isoformat(),
    }
    body.update(fields)
    return body


def test_numbers_are_normalised():
    assert normalize_number("+86 138-0013-8000") == "13800138000"
    assert normalize_number("008613800138000") == "13800138000"
    assert normalize_number("013800138000") == "13800138000"  # trunk 0 before a mobile
    assert normalize_number("0452-2345678") == "04522345678"
    assert normalize_number("（0452）2345678") == "04522345678"


def test_ringing_from_a_known_mobile_pops_the_customer_for_the_agent(pbx, api, users, customers):
    contact = make_contact(users.am1, customers.c1, name="王工", mobile="13800138000")
    response = pbx.post("/telephony/events", event("ringing"))
    assert response.status_code == 200, response.json()
    assert response.json()["customer_id"] == customers.c1.pk
    assert response.json()["contact_id"] == contact.pk
    pops = api(users.agent1).get("/telephony/pops").json()["items"]
    assert len(pops) == 1
    assert pops[0]["known"] is True
    assert pops[0]["customer"]["url"] == reverse("customers:detail", args=[customers.c1.pk])
    assert pops[0]["contact"]["name"] == "王工"
    assert pops[0]["number"] == "138****8000"
    page = api(users.agent1).client.get(reverse("activities:screen_pops"))
    assert customers.c1.name in page.content.decode()
    assert api(users.agent2).get("/telephony/pops").json()["items"] == []  # only the called agent


def test_ringing_from_a_known_landline_matches_without_hyphen(pbx, users, customers):
    contact = make_contact(users.am1, customers.c1, landline="0452-2345678")
    response = pbx.post("/telephony/events", event("ringing", caller="04522345678"))
    assert response.json()["contact_id"] == contact.pk


def test_an_unknown_number_offers_new_customer_or_lead(pbx, api, users, customers):
    pbx.post("/telephony/events", event("ringing", caller="13900000000"))
    pop = api(users.agent1).get("/telephony/pops").json()["items"][0]
    assert pop["known"] is False
    assert pop["customer"] is None
    assert pop["offers"]["new_customer"] == reverse("customers:create")
    try:
        lead_url = reverse("sales:lead_create")
    except NoReverseMatch:  # the sales app does not offer the page (yet): only "new customer"
        assert "new_lead" not in pop["offers"]
    else:
        assert pop["offers"]["new_lead"] == f"{lead_url}?mobile=13900000000"
    page = api(users.agent1).client.get(reverse("activities:screen_pops")).content.decode()
    assert reverse("customers:create") in page


def test_a_number_outside_the_agents_scope_is_not_revealed(pbx, api, users, customers):
    make_contact(users.am3, customers.c3, mobile="13800138000")  # B02 customer; agent1 sits in B01
    response = pbx.post("/telephony/events", event("ringing"))
    assert response.json()["customer_id"] is None
    assert api(users.agent1).get("/telephony/pops").json()["items"][0]["known"] is False


def test_ended_logs_the_call_as_an_activity_once(pbx, api, users, customers):
    contact = make_contact(users.am1, customers.c1, name="王工", mobile="13800138000")
    start = timezone.now() - timedelta(minutes=3)
    pbx.post("/telephony/events", event("ringing", timestamp=start.isoformat()))
    pbx.post("/telephony/events", event("answered", timestamp=(start + timedelta(seconds=10)).isoformat()))
    ended = pbx.post(
        "/telephony/events",
        event("ended", timestamp=(start + timedelta(seconds=130)).isoformat(), recording="rec/2026/c-1.wav"),
    )
    assert ended.status_code == 200, ended.json()
    activity = Activity.objects.get(call_id="c-1")
    assert ended.json()["activity_id"] == activity.pk
    assert activity.kind == Activity.Kind.INBOUND_CALL
    assert activity.status == Activity.Status.DONE
    assert activity.customer_id == customers.c1.pk
    assert list(activity.contacts.values_list("pk", flat=True)) == [contact.pk]
    assert activity.owner_id == users.agent1.pk
    assert activity.duration_seconds == 120
    assert activity.call_result == Activity.CallResult.CONNECTED
    assert activity.recording_ref == "rec/2026/c-1.wav"
    assert activity.phone_number == "13800138000"
    assert "王工" in activity.subject
    assert AuditLog.objects.filter(object_type="activities.activity", object_id=str(activity.pk)).count() == 1
    # The phone system retries: the same call is updated, not logged twice.
    again = pbx.post("/telephony/events", event("ended", duration_seconds=125))
    assert again.status_code == 200
    assert Activity.objects.filter(call_id="c-1").count() == 1
    activity.refresh_from_db()
    assert activity.duration_seconds == 125
    assert activity.version == 2
    # The agent (and the customer's manager) see it on the customer's timeline.
    timeline = api(users.am1).get(f"/customers/{customers.c1.pk}/timeline").json()["items"]
    assert [entry["id"] for entry in timeline] == [activity.pk]


def test_an_unanswered_call_is_logged_as_no_answer(pbx, users, customers):
    pbx.post("/telephony/events", event("ringing", call_id="c-2", caller="13900000000"))
    pbx.post("/telephony/events", event("ended", call_id="c-2", caller="13900000000"))
    activity = Activity.objects.get(call_id="c-2")
    assert activity.call_result == Activity.CallResult.NO_ANSWER
    assert activity.duration_seconds == 0
    assert activity.customer_id is None


def test_agent_by_extension_and_outbound_calls(pbx, api, users, customers):
    from guanxi.core.models import Profile

    Profile.objects.filter(user=users.agent1).update(phone="8001")
    make_contact(users.am1, customers.c1, mobile="13800138000")
    body = event(
        "ended", call_id="c-3", direction="outbound", agent="", extension="8001", caller="8001", called="13800138000"
    )
    response = pbx.post("/telephony/events", body)
    assert response.status_code == 200, response.json()
    activity = Activity.objects.get(call_id="c-3")
    assert activity.kind == Activity.Kind.OUTBOUND_CALL
    assert activity.owner_id == users.agent1.pk
    assert activity.customer_id == customers.c1.pk
    assert api(users.agent1).get("/telephony/pops").json()["items"] == []  # outbound: nothing to pop


def test_malformed_events_are_refused_and_nothing_is_stored(pbx, users):
    cases = [
        (event("hangup"), "event"),
        (event("ringing", caller="not a number"), "caller"),
        (event("ringing", timestamp="2026-03-02T10:00:00"), "timestamp"),  # no zone
        (event("ringing", timestamp="yesterday"), "timestamp"),
        (event("ringing", agent="nobody"), "agent"),
        (event("ringing", agent=""), "agent"),
        (event("ringing", result="connected"), "result"),
        (event("ended", result="hung"), "result"),
        (event("ended", duration_seconds=-1), "duration_seconds"),
        ({k: v for k, v in event("ringing").items() if k != "call_id"}, "call_id"),
        (event("ringing", extra="x"), "extra"),
    ]
    for body, field in cases:
        response = pbx.post("/telephony/events", body)
        assert response.status_code == 422, (body, response.json())
        assert field in errors_by_field(response), (body, response.json())
    assert PhoneCall.objects.count() == 0
    assert Activity.objects.count() == 0


def test_only_the_telephony_permission_may_post_events(api, users):
    assert api(users.admin).post("/telephony/events", event("ringing")).status_code == 200  # admin has every right
    assert api(users.agent1).post("/telephony/events", event("ringing", call_id="c-9")).status_code == 403
    assert api().post("/telephony/events", event("ringing", call_id="c-9")).status_code == 401
    assert not PhoneCall.objects.filter(call_id="c-9").exists()


def test_a_pop_can_be_dismissed_only_by_its_agent(pbx, api, users):
    pbx.post("/telephony/events", event("ringing"))
    call = PhoneCall.objects.get(call_id="c-1")
    other = api(users.agent2).client.post(reverse("activities:screen_pop_dismiss", args=[call.pk]))
    assert other.status_code == 404
    mine = api(users.agent1).client.post(reverse("activities:screen_pop_dismiss", args=[call.pk]))
    assert mine.status_code == 200
    assert api(users.agent1).get("/telephony/pops").json()["items"] == []
