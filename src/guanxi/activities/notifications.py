"""The notification centre (J4): in-app notices and email per the recipient's preferences, @mentions, and reading.

Every app tells people of events through `notify(...)`: it stores one in-app Notification per recipient (in the
caller's transaction, so a rolled-back change notifies nobody) and sends the email copies after the commit (a mail
failure is logged and never breaks the caller). Each recipient gets their copy in their own language: pass the title
and body as zero-argument callables (`lambda: _("…") % {…}`) or lazy strings and they are rendered under
translation.override(<recipient's language>).
"""

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.activities.models import Notification, NotificationPreference
from guanxi.core import audit
from guanxi.core.models import Profile
from guanxi.core.pagination import Page, keyset_page

logger = logging.getLogger(__name__)

Kind = NotificationPreference.Kind
KINDS = frozenset(Kind.values)
# What reaches people by email unless they say otherwise: the events someone has to act on soon.
EMAIL_BY_DEFAULT = frozenset({Kind.HANDOVER_REQUEST, Kind.SLA_BREACH, Kind.RETURN_VISIT, Kind.JOB_FAILED})

TITLE_MAX = 200
BODY_MAX = 500

Text = str | Callable[[], str]

# @username: Django's username characters (letters, digits, @ . + - _), not preceded by a word character (so an
# email address "a@b.cn" is not a mention); a trailing full stop ends the sentence, not the name.
MENTION = re.compile(r"(?<![\w.+-])@([\w.@+-]{1,150})")


@dataclass(frozen=True)
class Channels:
    in_app: bool
    email: bool


# --- sending -------------------------------------------------------------------------------------------------------


def notify(
    *,
    recipients: Iterable,
    kind: str,
    title: Text,
    body: Text = "",
    url: str = "",
    actor=None,
) -> int:
    """Tell each recipient (not the actor themself, not inactive users) of an event of `kind`, in the app and/or by
    email as they chose. Returns how many recipients were notified by at least one channel."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    people = {}
    for user in recipients:
        if user is None or not user.is_active or (actor is not None and user.pk == actor.pk):
            continue
        people[user.pk] = user
    if not people:
        return 0
    channels = channels_for(user_ids=people.keys(), kind=kind)
    languages = _languages(people.keys())
    notices, mails = [], []
    for user_id, user in people.items():
        wanted = channels[user_id]
        mail_to = user.email if wanted.email else ""
        if not (wanted.in_app or mail_to):
            continue
        with translation.override(languages.get(user_id) or settings.LANGUAGE_CODE):
            rendered_title = _render(title)
            rendered_body = _render(body)
        if wanted.in_app:
            notices.append(
                Notification(
                    user_id=user_id,
                    kind=kind,
                    title=_cut(rendered_title, TITLE_MAX),
                    body=_cut(rendered_body, BODY_MAX),
                    url=url[:300],
                )
            )
        if mail_to:
            mails.append((user_id, mail_to, rendered_title, _email_body(rendered_body, url)))
    Notification.objects.bulk_create(notices)
    if mails:
        transaction.on_commit(partial(_send_mails, kind, mails))
    return len(notices) + sum(1 for user_id, *_rest in mails if not channels[user_id].in_app)


def notify_mentions(*, actor, text: str, url: str, title: Text, visible_to: Callable | None = None) -> int:
    """Notify everyone @mentioned by username in `text` (kind "mention"); `visible_to(user) -> bool`, when given,
    leaves out people who may not open `url` (a mention must not leak what they cannot see)."""
    names = mentioned_usernames(text)
    if not names:
        return 0
    people = [
        user
        for user in get_user_model().objects.filter(username__in=names, is_active=True).select_related("profile")
        if visible_to is None or visible_to(user)
    ]
    return notify(recipients=people, kind=Kind.MENTION, title=title, body=text, url=url, actor=actor)


def mentioned_usernames(text: str) -> set[str]:
    return {match.rstrip(".") for match in MENTION.findall(text or "") if match.rstrip(".")}


def _render(value: Text) -> str:
    if callable(value):
        value = value()
    return str(value) if value else ""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _email_body(body: str, url: str) -> str:
    base = getattr(settings, "GUANXI_BASE_URL", "")
    if url and base and url.startswith("/"):
        return f"{body}\n\n{base}{url}" if body else f"{base}{url}"
    return body


def _send_mails(kind: str, mails: list[tuple[int, str, str, str]]) -> None:
    for user_id, address, subject, body in mails:
        try:
            send_mail(subject, body, None, [address])
        except Exception as exc:  # noqa: BLE001 - a mail server outage must not break the change that notified
            logger.warning("notification email (%s) to user %s failed: %s", kind, user_id, exc)


def _languages(user_ids: Iterable[int]) -> dict[int, str]:
    return dict(Profile.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "language"))


# --- preferences ---------------------------------------------------------------------------------------------------


def default_channels(kind: str) -> Channels:
    return Channels(in_app=True, email=kind in EMAIL_BY_DEFAULT)


def channels_for(*, user_ids: Iterable[int], kind: str) -> dict[int, Channels]:
    """Each user's channels for `kind` (their row, else the default), one query."""
    user_ids = list(user_ids)
    stored = {
        user_id: Channels(in_app=in_app, email=email)
        for user_id, in_app, email in NotificationPreference.objects.filter(
            user_id__in=user_ids, kind=kind
        ).values_list("user_id", "in_app", "email")
    }
    return {user_id: stored.get(user_id, default_channels(kind)) for user_id in user_ids}


def preferences_of(user) -> dict[str, Channels]:
    """Every kind with the user's channels for it, in the order of Kind."""
    stored = {
        kind: Channels(in_app=in_app, email=email)
        for kind, in_app, email in NotificationPreference.objects.filter(user=user).values_list(
            "kind", "in_app", "email"
        )
    }
    found = {kind: stored.get(kind, default_channels(kind)) for kind in Kind.values}
    # Reminders keep their email choice in their own setting (the calendar page's "also by email"): one switch.
    from guanxi.activities import reminders

    found[Kind.ACTIVITY_REMINDER] = Channels(
        in_app=found[Kind.ACTIVITY_REMINDER].in_app, email=reminders.preference_of(user).email
    )
    return found


def preferences_set(*, actor, preferences: dict[str, dict]) -> dict[str, Channels]:
    """Set the actor's channels for the kinds given ({kind: {"in_app": bool, "email": bool}}, either key may be left
    out); other kinds keep theirs. All or nothing: an unknown kind or a non-boolean changes nothing (422 naming it)."""
    for kind, value in preferences.items():
        if kind not in KINDS:
            raise ValidationError({kind: _("Unknown kind of notification.")})
        if not isinstance(value, dict) or set(value) - {"in_app", "email"}:
            raise ValidationError({kind: _("Give in_app and email, each true or false.")})
        for channel, flag in value.items():
            if not isinstance(flag, bool):
                raise ValidationError({f"{kind}.{channel}": _("Choose true or false.")})
    with transaction.atomic():
        rows = {
            row.kind: row
            for row in NotificationPreference.objects.select_for_update().filter(user=actor, kind__in=list(preferences))
        }
        for kind, value in preferences.items():
            row = rows.get(kind)
            if row is None:
                default = default_channels(kind)
                row = NotificationPreference(user=actor, kind=kind, in_app=default.in_app, email=default.email)
            before = {"in_app": row.in_app, "email": row.email}
            row.in_app = value.get("in_app", row.in_app)
            row.email = value.get("email", row.email)
            changes = audit.diff(before, {"in_app": row.in_app, "email": row.email})
            if row.pk is None:
                row.save()  # stored even when equal to the default: the choice survives a change of defaults
            elif changes:
                row.save(update_fields=["in_app", "email", "updated_at"])
            if changes:
                audit.record(actor=actor, action="update", instance=row, changes=changes)
        reminder_email = preferences.get(Kind.ACTIVITY_REMINDER, {}).get("email")
        if reminder_email is not None:
            from guanxi.activities import reminders

            current = reminders.preference_of(actor)
            if current.email != reminder_email:
                reminders.preference_set(actor=actor, minutes=current.minutes, email=reminder_email)
    return preferences_of(actor)


# --- reading -------------------------------------------------------------------------------------------------------


def notifications_unread(*, user, limit: int = 10) -> tuple[int, list[Notification]]:
    """How many notices the user has not read, and the newest `limit` of them."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    return unread.count(), list(unread.order_by("-created_at", "-id")[:limit])


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_page(*, user, cursor: str | None = None, limit: int = 50, unread_only: bool = False) -> Page:
    """The user's own notices, newest first, one keyset page (BadCursor for a cursor we did not hand out)."""
    notices = Notification.objects.filter(user=user)
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    return keyset_page(notices, ordering="-created_at", cursor=cursor, limit=limit)


def notification_read(*, actor, notification_id: int) -> Notification:
    notice = Notification.objects.filter(user=actor, pk=notification_id).first()
    if notice is None:
        raise Http404  # someone else's notice is not found, not forbidden
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice


def notifications_read_all(*, actor) -> int:
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())
