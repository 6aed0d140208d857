"""Reminders before planned activities: in-app notices and email, sent by a scheduled sweep exactly once.

Who is reminded: the owner and the participants of a planned activity. How long before: the user's own setting for
that activity (ActivityReminder), else their default (preference `activities.reminders`, else 15 minutes). The sweep
(tasks.send_reminders, every minute) claims each (activity, user, start) by inserting a ReminderDelivery row under a
unique key, so two workers, a re-delivered task or a re-run never remind twice; a rescheduled activity has a new start
and is reminded again for it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from guanxi.activities.models import Activity, ActivityReminder, Notification, ReminderDelivery
from guanxi.core import audit
from guanxi.core.models import Preference
from guanxi.core.selectors import preference_get

logger = logging.getLogger(__name__)

PREFERENCE_KEY = "activities.reminders"
DEFAULT_MINUTES = 15
MAX_MINUTES = 7 * 24 * 60  # a week ahead at most
GRACE = timedelta(minutes=30)  # a reminder the sweep missed (workers down) still goes out up to 30 min after start
CHOICES = (0, 5, 10, 15, 30, 60, 120, 1440)  # what the pages offer; the API takes any 0..MAX_MINUTES
KIND = "activity_reminder"


@dataclass(frozen=True)
class ReminderPreference:
    minutes: int | None  # None: no reminders by default
    email: bool


# --- settings ------------------------------------------------------------------------------------------------------


def preference_of(user) -> ReminderPreference:
    return _preference(preference_get(user=user, key=PREFERENCE_KEY))


def _preference(value) -> ReminderPreference:
    if not isinstance(value, dict):
        return ReminderPreference(minutes=DEFAULT_MINUTES, email=True)
    minutes = value.get("minutes", DEFAULT_MINUTES)
    return ReminderPreference(minutes=minutes if isinstance(minutes, int) else None, email=bool(value.get("email")))


def preference_set(*, actor, minutes: int | None, email: bool) -> ReminderPreference:
    """The user's default lead time (None: no reminders unless set per activity) and whether to email too."""
    _check_minutes(minutes, "minutes")
    with transaction.atomic():
        row, _created = Preference.objects.select_for_update().get_or_create(user=actor, key=PREFERENCE_KEY)
        before = dict(row.value or {})
        row.value = {"minutes": minutes, "email": email}
        row.save(update_fields=["value"])
        audit.record(actor=actor, action="update", instance=row, changes=audit.diff(before, row.value))
    return _preference(row.value)


def activity_reminder_set(*, actor, activity_id: int, minutes_before: int | None) -> ActivityReminder:
    """The actor's own lead time for one activity they own or take part in (None: no reminder for it)."""
    from guanxi.activities import selectors

    _check_minutes(minutes_before, "minutes_before")
    activity = selectors.activity_get(user=actor, activity_id=activity_id)
    if activity.owner_id != actor.pk and not activity.participants.filter(pk=actor.pk).exists():
        raise PermissionDenied(_("Only the owner and the participants get reminders of an activity."))
    with transaction.atomic():
        setting, created = ActivityReminder.objects.select_for_update().get_or_create(
            activity=activity, user=actor, defaults={"minutes_before": minutes_before}
        )
        before = None if created else setting.minutes_before
        if not created and setting.minutes_before != minutes_before:
            setting.minutes_before = minutes_before
            setting.save(update_fields=["minutes_before"])
        if created or before != minutes_before:
            audit.record(
                actor=actor, action="update", instance=setting, changes={"minutes_before": [before, minutes_before]}
            )
    return setting


def _check_minutes(value: int | None, field: str) -> None:
    if value is not None and not (0 <= value <= MAX_MINUTES):
        raise ValidationError({field: _("Enter a number of minutes between 0 and %(max)d.") % {"max": MAX_MINUTES}})


# --- the sweep -----------------------------------------------------------------------------------------------------


def due_reminders(now: datetime) -> list[tuple[Activity, object]]:
    """(activity, user) pairs whose reminder time has come and that were not yet reminded for this start."""
    preferences = {
        user_id: _preference(value)
        for user_id, value in Preference.objects.filter(key=PREFERENCE_KEY).values_list("user_id", "value")
    }
    widest_default = max([DEFAULT_MINUTES, *(p.minutes or 0 for p in preferences.values())])
    explicit = ActivityReminder.objects.filter(
        minutes_before__isnull=False,
        activity__status=Activity.Status.PLANNED,
        activity__planned_start__gte=now - GRACE,
        activity__planned_start__lte=now + timedelta(minutes=MAX_MINUTES),
    ).values_list("activity_id", flat=True)
    by_default = Activity.objects.filter(
        status=Activity.Status.PLANNED,
        planned_start__gte=now - GRACE,
        planned_start__lte=now + timedelta(minutes=widest_default),
    ).values_list("id", flat=True)
    candidates = list(
        Activity.objects.filter(pk__in=[*explicit, *by_default])
        .select_related("customer", "owner")
        .prefetch_related("participants")
    )
    if not candidates:
        return []
    settings = {
        (row.activity_id, row.user_id): row.minutes_before
        for row in ActivityReminder.objects.filter(activity__in=candidates)
    }
    sent = set(
        ReminderDelivery.objects.filter(activity__in=candidates).values_list("activity_id", "user_id", "starts_at")
    )
    due = []
    for activity in candidates:
        recipients = {activity.owner_id: activity.owner, **{p.pk: p for p in activity.participants.all()}}
        for user_id, user in recipients.items():
            if not user.is_active or (activity.pk, user_id, activity.planned_start) in sent:
                continue
            if (activity.pk, user_id) in settings:
                minutes = settings[(activity.pk, user_id)]
            else:
                minutes = preferences.get(user_id, _preference(None)).minutes
            if minutes is not None and activity.planned_start - timedelta(minutes=minutes) <= now:
                due.append((activity, user))
    return due


def reminders_send(*, now: datetime | None = None) -> int:
    """Send every due reminder once (in-app, and by email when the user wants it). Returns how many were sent."""
    now = now or timezone.now()
    preferences = dict(Preference.objects.filter(key=PREFERENCE_KEY).values_list("user_id", "value"))
    count = 0
    for activity, user in due_reminders(now):
        delivery = _claim(activity, user)
        if delivery is None:
            continue  # someone else sent it between our read and our claim
        count += 1
        if _preference(preferences.get(user.pk)).email and user.email:
            _email(delivery, activity, user)
    return count


def _claim(activity: Activity, user) -> ReminderDelivery | None:
    """Insert the delivery and the in-app notice together; the unique key refuses a second claim."""
    try:
        with transaction.atomic():
            delivery = ReminderDelivery.objects.create(activity=activity, user=user, starts_at=activity.planned_start)
            if _in_app(user):
                with translation.override(_language_of(user)):
                    title, body = _message(activity)
                Notification.objects.create(
                    user=user, kind=KIND, title=title[:200], body=body[:500], url=_url(activity)
                )
    except IntegrityError:
        return None
    return delivery


def _in_app(user) -> bool:
    """The user's notification-centre choice for reminders in the app (on unless switched off)."""
    from guanxi.activities.notifications import channels_for

    return channels_for(user_ids=[user.pk], kind=KIND)[user.pk].in_app


def _email(delivery: ReminderDelivery, activity: Activity, user) -> None:
    with translation.override(_language_of(user)):
        title, body = _message(activity)
    try:
        send_mail(title, body, None, [user.email])
    except Exception as exc:  # noqa: BLE001 - a mail server outage must not stop the other reminders
        logger.warning("reminder email to %s failed: %s", user.pk, exc)
        ReminderDelivery.objects.filter(pk=delivery.pk).update(email_error=str(exc)[:300])
        return
    ReminderDelivery.objects.filter(pk=delivery.pk).update(emailed=True)


def _message(activity: Activity) -> tuple[str, str]:
    start = date_format(timezone.localtime(activity.planned_start), "Y-m-d H:i")
    title = _("Reminder: %(subject)s at %(start)s") % {"subject": activity.subject, "start": start}
    lines = [
        _("%(kind)s: %(subject)s") % {"kind": activity.get_kind_display(), "subject": activity.subject},
        _("Starts: %(start)s") % {"start": start},
    ]
    if activity.customer_id:
        lines.append(_("Customer: %(name)s") % {"name": activity.customer.name})
    return title, "\n".join(lines)


def _language_of(user) -> str:
    from django.conf import settings

    profile = getattr(user, "profile", None)
    return (profile.language if profile and profile.language else None) or settings.LANGUAGE_CODE


def _url(activity: Activity) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("activities:detail", args=[activity.pk])
    except NoReverseMatch:
        return ""
