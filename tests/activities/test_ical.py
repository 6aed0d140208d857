"""iCalendar: the private feed (token, rotation, revocation, isolation between users) and .ics per activity, parsed
back with the icalendar library."""

from datetime import datetime, timedelta

from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from guanxi.activities import ical
from guanxi.activities.models import CalendarFeed
from guanxi.core.models import AuditLog
from tests.activities.factories import make_activity

TZ = timezone.get_default_timezone()


def soon(days: int, hour: int = 10) -> datetime:
    base = timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0)
    return base + timedelta(days=days)


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def events(document: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in document.walk("VEVENT")}


def create_feed(api, user) -> str:
    response = api(user).post("/calendar/feed")
    assert response.status_code == 201, response.json()
    return response.json()["url"]


def test_the_feed_is_valid_icalendar_with_my_events(api, users, customers):
    visit = make_activity(
        users.am1, customers.c1, subject="季度拜访", planned_start=soon(2), planned_end=soon(2, 11), notes="带合同"
    )
    shared = make_activity(
        users.lead1, customers.c1, subject="联合拜访", planned_start=soon(3), participant_ids=[users.am1.pk]
    )
    make_activity(users.am2, customers.c2, subject="别人的拜访", planned_start=soon(2))
    url = create_feed(api, users.am1)
    response = Client().get(url)  # no login: the token is the key
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    document = parse(response.content)
    assert str(document["VERSION"]) == "2.0"
    assert document["PRODID"]
    found = events(document)
    assert set(found) == {ical.uid_of(visit), ical.uid_of(shared)}
    event = found[ical.uid_of(visit)]
    assert str(event["SUMMARY"]) == "季度拜访 · 甲一电力客户"
    assert "带合同" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == visit.planned_start
    assert event.decoded("DTEND") == visit.planned_end
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert [tz["TZID"] for tz in document.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert int(event["SEQUENCE"]) == 1
    assert "别人的拜访" not in response.content.decode()


def test_the_uid_is_stable_and_the_sequence_follows_the_version(api, users, customers):
    activity = make_activity(users.am1, customers.c1, planned_start=soon(1))
    url = create_feed(api, users.am1)
    before = events(parse(Client().get(url).content))[ical.uid_of(activity)]
    moved = api(users.am1).post(
        f"/calendar/events/{activity.pk}/move", {"start": soon(4).isoformat(), "version": activity.version}
    )
    assert moved.status_code == 200
    after = events(parse(Client().get(url).content))[ical.uid_of(activity)]
    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after.decoded("DTSTART") == soon(4)


def test_rotating_the_token_kills_the_old_url_and_revoking_kills_all(api, users, customers):
    make_activity(users.am1, customers.c1, planned_start=soon(1))
    first = create_feed(api, users.am1)
    second = create_feed(api, users.am1)
    assert first != second
    anonymous = Client()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    status = api(users.am1).get("/calendar/feed").json()
    assert status["active"] is True and status["url"] is None  # never shown again
    assert api(users.am1).delete("/calendar/feed").status_code == 204
    assert anonymous.get(second).status_code == 404
    assert api(users.am1).get("/calendar/feed").json()["active"] is False
    assert AuditLog.objects.filter(object_type="activities.calendarfeed", action="revoke").count() == 2


def test_the_token_is_stored_only_as_a_hash(api, users):
    url = create_feed(api, users.am1)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 43  # 256 random bits, URL-safe base64
    feed = CalendarFeed.objects.get(user=users.am1, revoked_at__isnull=True)
    assert token not in (feed.token_hash, feed.prefix) and feed.token_hash == ical._hash(token)


def test_another_users_token_gives_nothing_of_mine(api, users, customers):
    make_activity(users.am1, customers.c1, subject="甲的秘密拜访", planned_start=soon(1))
    make_activity(users.am2, customers.c2, subject="乙的拜访", planned_start=soon(1))
    url_of_am2 = create_feed(api, users.am2)
    body = Client().get(url_of_am2).content.decode()
    assert "乙的拜访" in body and "甲的秘密拜访" not in body
    assert Client().get("/activities/calendar/not-a-token.ics").status_code == 404
    assert Client().get("/activities/calendar/" + "x" * 200 + ".ics").status_code == 404


def test_a_deactivated_users_feed_stops(api, users, customers):
    url = create_feed(api, users.am1)
    users.am1.is_active = False
    users.am1.save(update_fields=["is_active"])
    assert Client().get(url).status_code == 404


def test_one_activity_exports_as_ics_for_those_who_see_it(api, users, customers, client):
    activity = make_activity(users.am1, customers.c1, subject="上门服务", planned_start=soon(1), status="cancelled")
    response = api(users.am1).get(f"/activities/{activity.pk}/ics")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.ics"')
    (event,) = parse(response.content).walk("VEVENT")
    assert str(event["UID"]) == ical.uid_of(activity)
    assert str(event["STATUS"]) == "CANCELLED"
    assert api(users.am2).get(f"/activities/{activity.pk}/ics").status_code == 404
    client.force_login(users.am1)
    page = client.get(f"/activities/{activity.pk}/ics/")
    assert page.status_code == 200 and parse(page.content).walk("VEVENT")
    client.force_login(users.am3)
    assert client.get(f"/activities/{activity.pk}/ics/").status_code == 404


def test_the_page_creates_and_switches_off_the_feed(client, users):
    client.force_login(users.am1)
    created = client.post("/activities/calendar/feed/", {"action": "rotate"})
    assert created.status_code == 200
    assert ".ics" in created.content.decode()
    assert CalendarFeed.objects.filter(user=users.am1, revoked_at__isnull=True).count() == 1
    client.post("/activities/calendar/feed/", {"action": "revoke"})
    assert CalendarFeed.objects.filter(user=users.am1, revoked_at__isnull=True).count() == 0
