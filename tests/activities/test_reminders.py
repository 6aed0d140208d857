"""Reminders: due times from the user's default or a per-activity setting, in-app notices and email, sent exactly once
by the scheduled task; the notice list and its API."""

from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.utils import timezone

from guanxi.activities import reminders, tasks
from guanxi.activities.models import Notification, ReminderDelivery
from tests.activities.factories import make_activity
from tests.conftest import errors_by_field


def in_minutes(minutes: int):
    return timezone.now().replace(microsecond=0) + timedelta(minutes=minutes)


def put(client, path, json):
    """PUT through the shared Api helper (it has no put method)."""
    return client.client.put(client._url(path), json, content_type="application/json", **client.extra)


def with_email(*people):
    for person in people:
        person.email = f"{person.username}@example.com"
        person.save(update_fields=["email"])


def test_it_reminds_the_owner_and_participants_once_in_app_and_by_email(users, customers):
    with_email(users.am1, users.lead1)
    activity = make_activity(
        users.am1, customers.c1, subject="拜访甲一", planned_start=in_minutes(10), participant_ids=[users.lead1.pk]
    )
    assert reminders.reminders_send() == 2
    assert reminders.reminders_send() == 0  # a second sweep (or a re-delivered task) sends nothing
    assert tasks.send_reminders.run() == 0
    notices = Notification.objects.filter(kind=reminders.KIND)
    assert sorted(n.user_id for n in notices) == sorted([users.am1.pk, users.lead1.pk])
    assert all("拜访甲一" in n.title for n in notices)
    assert sorted(m.to[0] for m in mail.outbox) == ["am1@example.com", "lead1@example.com"]
    assert "甲一电力客户" in mail.outbox[0].body
    assert ReminderDelivery.objects.filter(activity=activity, emailed=True).count() == 2


def test_it_waits_until_the_lead_time(users, customers):
    make_activity(users.am1, customers.c1, planned_start=in_minutes(60))
    assert reminders.reminders_send() == 0  # default 15 minutes before
    assert reminders.reminders_send(now=timezone.now() + timedelta(minutes=46)) == 1


def test_a_per_activity_setting_overrides_the_default(api, users, customers):
    early = make_activity(users.am1, customers.c1, planned_start=in_minutes(50))
    quiet = make_activity(users.am1, customers.c1, planned_start=in_minutes(5))
    client = api(users.am1)
    assert put(client, f"/activities/{early.pk}/reminder", {"minutes_before": 60}).status_code == 200
    response = put(client, f"/activities/{quiet.pk}/reminder", {"minutes_before": None})
    assert response.json() == {"activity_id": quiet.pk, "minutes_before": None}
    assert reminders.reminders_send() == 1
    assert ReminderDelivery.objects.get().activity_id == early.pk


def test_the_user_default_can_switch_reminders_off_or_email_off(api, users, customers):
    with_email(users.am1)
    client = api(users.am1)
    assert client.get("/reminder-preference").json() == {"minutes": 15, "email": True}
    assert put(client, "/reminder-preference", {"minutes": None, "email": False}).status_code == 200
    make_activity(users.am1, customers.c1, planned_start=in_minutes(5))
    assert reminders.reminders_send() == 0
    put(client, "/reminder-preference", {"minutes": 30, "email": False})
    assert reminders.reminders_send() == 1
    assert mail.outbox == []  # in-app only
    bad = put(client, "/reminder-preference", {"minutes": -5, "email": True})
    assert bad.status_code == 422 and "minutes" in errors_by_field(bad)


def test_a_boolean_is_not_a_number_of_minutes(api, users, customers):
    # `false` was taken as 0 minutes (pydantic's lax int; found by tests/fuzz)
    client = api(users.am1)
    activity = make_activity(users.am1, customers.c1, planned_start=in_minutes(60))
    for path, field in (("/reminder-preference", "minutes"), (f"/activities/{activity.pk}/reminder", "minutes_before")):
        bad = put(client, path, {field: False})
        assert bad.status_code == 422 and field in errors_by_field(bad)
    assert client.get("/reminder-preference").json()["minutes"] == 15


def test_a_rescheduled_activity_is_reminded_again_for_its_new_time(api, users, customers):
    activity = make_activity(users.am1, customers.c1, planned_start=in_minutes(10))
    assert reminders.reminders_send() == 1
    moved = api(users.am1).post(
        f"/calendar/events/{activity.pk}/move", {"start": in_minutes(12).isoformat(), "version": 1}
    )
    assert moved.status_code == 200
    assert reminders.reminders_send() == 1
    assert ReminderDelivery.objects.filter(activity=activity).count() == 2


def test_done_cancelled_and_long_past_activities_are_not_reminded(users, customers):
    make_activity(users.am1, customers.c1, planned_start=in_minutes(5), status="cancelled")
    make_activity(users.am1, customers.c1, planned_start=in_minutes(5), status="done", done_at=in_minutes(-1))
    make_activity(users.am1, customers.c1, planned_start=in_minutes(-120))
    assert reminders.reminders_send() == 0


def test_a_claim_already_made_elsewhere_is_not_sent_again(users, customers):
    activity = make_activity(users.am1, customers.c1, planned_start=in_minutes(5))
    (due,) = reminders.due_reminders(timezone.now())
    ReminderDelivery.objects.create(activity=activity, user=users.am1, starts_at=activity.planned_start)  # a rival
    assert reminders._claim(*due) is None
    assert Notification.objects.count() == 0


def test_a_failing_mail_server_is_recorded_and_never_retried(users, customers, settings):
    settings.EMAIL_BACKEND = "tests.activities.test_reminders.BrokenBackend"
    with_email(users.am1)
    make_activity(users.am1, customers.c1, planned_start=in_minutes(5))
    assert reminders.reminders_send() == 1
    delivery = ReminderDelivery.objects.get()
    assert not delivery.emailed and "refused" in delivery.email_error
    assert reminders.reminders_send() == 0
    assert Notification.objects.count() == 1


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("connection refused")


def test_only_owner_and_participants_set_a_reminder_and_scope_holds(api, users, customers):
    activity = make_activity(users.am1, customers.c1, planned_start=in_minutes(500))
    assert put(api(users.lead1), f"/activities/{activity.pk}/reminder", {"minutes_before": 5}).status_code == 403
    assert put(api(users.am2), f"/activities/{activity.pk}/reminder", {"minutes_before": 5}).status_code == 404
    too_far = put(api(users.am1), f"/activities/{activity.pk}/reminder", {"minutes_before": 99999})
    assert too_far.status_code == 422 and "minutes_before" in errors_by_field(too_far)


def test_notices_are_listed_read_and_private(api, users, customers):
    make_activity(users.am1, customers.c1, planned_start=in_minutes(5))
    make_activity(users.am1, customers.c1, planned_start=in_minutes(6))
    reminders.reminders_send()
    client = api(users.am1)
    body = client.get("/notifications").json()
    assert body["unread"] == 2
    first = body["items"][0]["id"]
    assert api(users.am2).post(f"/notifications/{first}/read").status_code == 404
    assert api(users.am2).get("/notifications").json() == {"unread": 0, "items": [], "next": None}
    assert client.post(f"/notifications/{first}/read").json()["read_at"] is not None
    assert client.get("/notifications").json()["unread"] == 1
    assert client.post("/notifications/read-all").json() == {"read": 1}
    assert client.get("/notifications").json()["unread"] == 0


def test_the_header_fragment_shows_the_unread_count(client, users, customers):
    make_activity(users.am1, customers.c1, subject="明早拜访", planned_start=in_minutes(5))
    reminders.reminders_send()
    client.force_login(users.am1)
    html = client.get("/activities/notifications/").content.decode()
    assert "明早拜访" in html and '<span class="badge">1</span>' in html
    notice = Notification.objects.get()
    html = client.post(f"/activities/notifications/{notice.pk}/read/").content.decode()
    assert "badge" not in html


def test_the_sweep_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["activities-reminders"]
    assert entry["task"] == tasks.send_reminders.name
