"""The notification centre: notify() per the recipients' preferences and languages, email after the commit only,
@mentions, preferences, the centre's API and pages (each user sees only their own notices)."""

import logging

import pytest
from django.core import mail
from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.activities import notifications
from guanxi.activities.models import Notification, NotificationPreference
from guanxi.core.models import AuditLog, Profile
from tests.conftest import errors_by_field, fresh


def with_email(*people):
    for person in people:
        person.email = f"{person.username}@example.com"
        person.save(update_fields=["email"])


def speaks(user, language):
    Profile.objects.filter(user=user).update(language=language)


def put(client, path, json):
    return client.client.put(client._url(path), json, content_type="application/json", **client.extra)


# --- notify --------------------------------------------------------------------------------------------------------


def test_notify_stores_a_notice_per_recipient_but_not_for_the_actor(users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = notifications.notify(
            recipients=[users.am1, users.lead1, users.am2],
            kind="assignment",
            title="工单 T-1 已分派给你",
            body="客户：甲一",
            url="/service/tickets/1/",
            actor=users.lead1,
        )
    assert sent == 2
    notices = Notification.objects.order_by("user_id")
    assert sorted(n.user_id for n in notices) == sorted([users.am1.pk, users.am2.pk])
    assert {(n.kind, n.title, n.body, n.url) for n in notices} == {
        ("assignment", "工单 T-1 已分派给你", "客户：甲一", "/service/tickets/1/")
    }
    assert mail.outbox == []  # no email for assignments by default (and nobody has an address here)


def test_each_recipient_reads_it_in_their_language(users, django_capture_on_commit_callbacks):
    speaks(users.am1, "zh-hans")
    speaks(users.am2, "en")
    with_email(users.am1, users.am2)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(
            recipients=[users.am1, users.am2],
            kind="handover_request",
            title=lambda: _("Notifications"),
            body=lambda: _("Preferences saved."),
        )
    titles = dict(Notification.objects.values_list("user_id", "title"))
    assert titles == {users.am1.pk: "通知", users.am2.pk: "Notifications"}
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {"am1@example.com": "通知", "am2@example.com": "Notifications"}


def test_email_follows_the_defaults_and_the_preferences(users, django_capture_on_commit_callbacks):
    with_email(users.am1, users.am2, users.am3)
    NotificationPreference.objects.create(user=users.am2, kind="sla_breach", in_app=False, email=False)
    NotificationPreference.objects.create(user=users.am3, kind="sla_breach", in_app=False, email=True)
    with django_capture_on_commit_callbacks(execute=True):
        sent = notifications.notify(recipients=[users.am1, users.am2, users.am3], kind="sla_breach", title="超时")
    assert sent == 2  # am2 switched both channels off
    assert list(Notification.objects.values_list("user_id", flat=True)) == [users.am1.pk]
    assert sorted(m.to[0] for m in mail.outbox) == ["am1@example.com", "am3@example.com"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(recipients=[users.am1], kind="sla_warning", title="即将超时")
    assert mail.outbox == []  # warnings are in-app only by default


def test_nothing_is_sent_when_the_change_rolls_back(users, django_capture_on_commit_callbacks):
    with_email(users.am1)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notifications.notify(recipients=[users.am1], kind="handover_request", title="移交")
        raise RuntimeError("the caller failed")
    assert callbacks == [] and mail.outbox == []
    assert Notification.objects.count() == 0


def test_a_mail_failure_is_logged_and_never_breaks_the_caller(
    users, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    with_email(users.am1, users.am2)
    sent = []

    def flaky(subject, body, sender, to):
        if to == ["am1@example.com"]:
            raise ConnectionRefusedError("connection refused")
        sent.append(to[0])

    monkeypatch.setattr(notifications, "send_mail", flaky)
    with (
        caplog.at_level(logging.WARNING, logger="guanxi.activities.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notifications.notify(recipients=[users.am1, users.am2], kind="handover_request", title="移交") == 2
    assert "connection refused" in caplog.text
    assert sent == ["am2@example.com"]  # the next recipient still gets theirs
    assert Notification.objects.count() == 2


def test_notify_rejects_an_unknown_kind_and_skips_inactive_people(users):
    with pytest.raises(ValueError):
        notifications.notify(recipients=[users.am1], kind="gossip", title="x")
    users.am2.is_active = False
    users.am2.save(update_fields=["is_active"])
    assert notifications.notify(recipients=[users.am2, None], kind="mention", title="x") == 0


def test_long_texts_are_cut_to_the_columns(users):
    notifications.notify(recipients=[users.am1], kind="mention", title="标" * 300, body="文" * 900)
    notice = Notification.objects.get()
    assert len(notice.title) == 200 and notice.title.endswith("…")
    assert len(notice.body) == 500


# --- mentions ------------------------------------------------------------------------------------------------------


def test_mentions_reach_the_named_people_only(users):
    text = "请 @lead1 和 @am2. 看一下；邮件 someone@am3 不算，@nobody 不存在，@am1 是自己"
    assert notifications.mentioned_usernames(text) == {"lead1", "am2", "nobody", "am1"}
    sent = notifications.notify_mentions(actor=users.am1, text=text, url="/activities/1/", title="提到了你")
    assert sent == 2
    assert sorted(Notification.objects.filter(kind="mention").values_list("user_id", flat=True)) == sorted(
        [users.lead1.pk, users.am2.pk]
    )


def test_mentions_leave_out_people_who_may_not_see_it(users):
    sent = notifications.notify_mentions(
        actor=users.am1,
        text="@lead1 @am3",
        url="/x/",
        title="提到了你",
        visible_to=lambda user: user.pk != users.am3.pk,
    )
    assert sent == 1
    assert Notification.objects.get().user_id == users.lead1.pk


# --- preferences ---------------------------------------------------------------------------------------------------


def test_preferences_default_and_set_all_or_nothing(users):
    prefs = notifications.preferences_of(users.am1)
    assert prefs["handover_request"] == notifications.Channels(in_app=True, email=True)
    assert prefs["assignment"] == notifications.Channels(in_app=True, email=False)
    assert set(prefs) == set(NotificationPreference.Kind.values)
    prefs = notifications.preferences_set(
        actor=fresh(users.am1), preferences={"assignment": {"email": True}, "sla_warning": {"in_app": False}}
    )
    assert prefs["assignment"] == notifications.Channels(in_app=True, email=True)
    assert prefs["sla_warning"] == notifications.Channels(in_app=False, email=False)
    assert AuditLog.objects.filter(object_type="activities.notificationpreference").count() == 2
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        notifications.preferences_set(
            actor=fresh(users.am1), preferences={"assignment": {"email": False}, "mention": {"email": "yes"}}
        )
    assert notifications.preferences_of(users.am1)["assignment"].email is True  # nothing half-written


def test_mentions_in_activity_notes_reach_colleagues_who_may_see_it(users, customers):
    from guanxi.activities import services
    from tests.activities.factories import make_activity

    activity = make_activity(users.am1, customers.c1, subject="拜访甲一", notes="请 @lead1 和 @am3 关注")
    notice = Notification.objects.get(kind="mention")  # am3 (other branch) may not see the activity
    assert notice.user_id == users.lead1.pk and "拜访甲一" in notice.title and notice.url.endswith(f"/{activity.pk}/")
    activity.refresh_from_db()
    services.activity_update(
        actor=fresh(users.am1),
        activity_id=activity.pk,
        version=activity.version,
        data={"notes": "请 @lead1 和 @am3 关注，@bm1 也看看"},
    )
    mentioned = sorted(Notification.objects.filter(kind="mention").values_list("user_id", flat=True))
    assert mentioned == sorted([users.lead1.pk, users.bm1.pk])  # lead1 is not told twice


# --- the centre's API and pages ----------------------------------------------------------------------------------


def _notices(user, count):
    for index in range(count):
        notifications.notify(recipients=[user], kind="mention", title=f"通知{index}")


def test_the_api_lists_keyset_pages_counts_unread_and_keeps_notices_private(api, users):
    _notices(users.am1, 5)
    _notices(users.am2, 1)
    client = api(users.am1)
    first = client.get("/notifications", {"limit": 2}).json()
    assert first["unread"] == 5 and [n["title"] for n in first["items"]] == ["通知4", "通知3"]
    second = client.get("/notifications", {"limit": 2, "cursor": first["next"]}).json()
    assert [n["title"] for n in second["items"]] == ["通知2", "通知1"]
    assert client.get("/notifications", {"cursor": "garbage"}).status_code == 422
    theirs = Notification.objects.get(user=users.am2)
    assert client.post(f"/notifications/{theirs.pk}/read").status_code == 404
    assert theirs.pk not in [n["id"] for n in client.get("/notifications", {"limit": 100}).json()["items"]]
    mine = first["items"][0]["id"]
    assert client.post(f"/notifications/{mine}/read").json()["read_at"] is not None
    assert client.get("/notifications/unread-count").json() == {"unread": 4}
    unread = client.get("/notifications", {"unread_only": True, "limit": 100}).json()
    assert len(unread["items"]) == 4 and mine not in [n["id"] for n in unread["items"]]
    assert client.post("/notifications/read-all").json() == {"read": 4}
    assert api(users.am2).get("/notifications/unread-count").json() == {"unread": 1}
    assert api().get("/notifications").status_code == 401


def test_the_list_reads_a_constant_number_of_queries(api, users, django_assert_max_num_queries):
    _notices(users.am1, 30)
    client = api(users.am1)
    with django_assert_max_num_queries(6):
        assert len(client.get("/notifications", {"limit": 50}).json()["items"]) == 30


def test_the_preferences_api_reads_defaults_and_saves_all_or_nothing(api, users):
    client = api(users.am1)
    items = {p["kind"]: p for p in client.get("/notification-preferences").json()["items"]}
    assert items["sla_breach"]["email"] is True and items["mention"]["email"] is False
    assert all(p["in_app"] for p in items.values())
    saved = put(client, "/notification-preferences", {"preferences": {"mention": {"email": True, "in_app": False}}})
    assert saved.status_code == 200
    items = {p["kind"]: p for p in saved.json()["items"]}
    assert (items["mention"]["in_app"], items["mention"]["email"]) == (False, True)
    bad = put(client, "/notification-preferences", {"preferences": {"mention": {"email": False}, "gossip": {}}})
    assert bad.status_code == 422 and "gossip" in errors_by_field(bad)
    assert notifications.preferences_of(users.am1)["mention"].email is True  # unchanged
    assert notifications.preferences_of(users.am2)["mention"].email is False  # another user's untouched


def test_the_pages_show_the_count_the_list_and_save_preferences(client, users, django_assert_max_num_queries):
    _notices(users.am1, 2)
    _notices(users.am2, 1)
    client.force_login(users.am1)
    client.get("/activities/notifications/")  # the session warms up
    with django_assert_max_num_queries(8):  # polled every minute by every open page
        bell = client.get("/activities/notifications/").content.decode()
    assert '<span class="badge">2</span>' in bell and "/activities/notifications/all/" in bell
    page = client.get("/activities/notifications/all/").content.decode()
    assert "通知1" in page and "通知0" in page
    assert page.count('class="unread"') == 2  # only am1's own
    response = client.post("/activities/notifications/read-all/")
    assert response.status_code == 302 and notifications.unread_count(user=users.am1) == 0
    form = client.get("/activities/notifications/settings/").content.decode()
    assert 'name="sla_breach.email" value="1" aria-label' in form
    saved = client.post(
        "/activities/notifications/settings/",
        {"assignment.in_app": "1", "assignment.email": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 200 and "<form" in saved.content.decode()
    prefs = notifications.preferences_of(users.am1)
    assert prefs["assignment"] == notifications.Channels(in_app=True, email=True)
    assert prefs["mention"] == notifications.Channels(in_app=False, email=False)  # unticked: both off


def test_reminders_follow_the_in_app_choice_and_share_the_email_switch(users, customers):
    from datetime import timedelta

    from django.utils import timezone

    from guanxi.activities import reminders
    from tests.activities.factories import make_activity

    with_email(users.am1)
    notifications.preferences_set(actor=fresh(users.am1), preferences={"activity_reminder": {"in_app": False}})
    assert notifications.preferences_of(users.am1)["activity_reminder"].email is True  # the reminder default
    make_activity(users.am1, customers.c1, planned_start=timezone.now() + timedelta(minutes=5))
    assert reminders.reminders_send() == 1
    assert Notification.objects.count() == 0 and [m.to[0] for m in mail.outbox] == ["am1@example.com"]
    notifications.preferences_set(actor=fresh(users.am1), preferences={"activity_reminder": {"email": False}})
    assert reminders.preference_of(users.am1).email is False  # one switch, the calendar page shows it too
