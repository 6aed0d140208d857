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
from tests.conftest import fresh


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


def test_a_mail_failure_is_logged_and_never_breaks_the_caller(users, monkeypatch, caplog):
    with_email(users.am1)

    def down(*args, **kwargs):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(notifications, "send_mail", down)
    with caplog.at_level(logging.WARNING, logger="guanxi.activities.notifications"):
        with transaction.atomic():
            notifications.notify(recipients=[users.am1], kind="handover_request", title="移交")
        # pytest-django's transaction never commits: run the captured callback the way a commit would.
        for callback in transaction.get_connection().run_on_commit:
            callback[1]()
    assert "connection refused" in caplog.text
    assert Notification.objects.filter(user=users.am1).count() == 1


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
