"""Periodic satisfaction surveys (满意度调查, E5) of a customer segment.

A survey names a segment with the customer list's own filter (customers.filters.CustomerFilters, stored as JSON) and a
channel (phone, text message, WeChat, email). Sending resolves the segment **within the sender's record scope** and
creates one invitation per customer, recorded with its channel: by text message each customer's mobile gets the
invitation through the SMS backend (sms.survey_messages) and a 0–10 reply is recorded (sms_inbound); otherwise the
invitations are the to-do list of the agents who call or message the customers and record the answers: a 0–10
"would recommend" score (NPS) and a 1–5 satisfaction. Invitations and answers are visible only where the customer is.

Sending is a background job: the request checks the segment (one COUNT), marks the survey `sending` and, after the
commit, starts the Celery task `service.survey_send`, which invites the customers in chunks (`survey_deliver`). The job
is safe to run twice or at once with itself: each chunk locks the survey row, invitations are unique per customer
(`one_invitation_per_customer`) and a text message is queued only for an invitation that has none. The survey shows its
progress (`send_done` of `send_total`) and becomes `sent` when the job finishes; the minute sweep restarts a job that
stopped (`surveys_resume`).

An invitation may be answered as soon as it reached its customer (`delivered_at`: its text message was sent, or, by
the other channels, it was created), while the rest of the survey is still being sent; not before, not twice, not once
the survey is closed (`answer_refusal`, the one rule for the page, the API and the text-message reply).
"""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as SchemaError

from guanxi.core import audit
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import require
from guanxi.core.selectors import org_unit_of
from guanxi.customers.filters import CustomerFilters
from guanxi.customers.selectors import customer_queryset
from guanxi.service import sms
from guanxi.service.models import ContactChannel, Survey, SurveyInvitation

logger = logging.getLogger(__name__)
MAX_INVITATIONS = 50_000  # one survey at most; a larger segment is refused (narrow the filter)
SEND_CHUNK = 1000  # customers invited per transaction of the sending job
ANSWERABLE = (Survey.Status.SENDING, Survey.Status.SENT)  # a delivered invitation may be answered (answer_refusal)
RESUME_AFTER = timedelta(minutes=5)  # a sending job silent this long is started again by the sweep


# --- reads ----------------------------------------------------------------------------------------------------------


def survey_list(*, user, cursor: str | None = None, limit: int = 50) -> Page:
    """Surveys (newest first). A survey's name and segment are not confidential; its invitations are scoped."""
    if not user.has_perm("service.view_ticket"):
        return Page(items=[], next=None)
    return keyset_page(Survey.objects.select_related("created_by"), ordering="-id", cursor=cursor, limit=limit)


def survey_get(*, user, survey_id: int) -> Survey:
    if not user.has_perm("service.view_ticket"):
        raise Http404
    survey = Survey.objects.select_related("created_by", "team").filter(pk=survey_id).first()
    if survey is None:
        raise Http404
    return survey


def invitation_queryset(*, user):
    """Invitations of the customers `user` may see."""
    return SurveyInvitation.objects.filter(customer_id__in=customer_queryset(user=user).values("pk"))


def customer_invitations(*, customer) -> QuerySet[SurveyInvitation]:
    """The invitations of a customer the caller already sees (scope-checked by the caller, e.g. the 360 view): an
    invitation is visible exactly when its customer is (invitation_queryset), so no scope subquery is needed."""
    return SurveyInvitation.objects.filter(customer_id=customer.pk)


def invitation_list(
    *, user, survey: Survey, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    """The survey's invitations of the customers `user` may see; `survey` as survey_get gave it to the caller (the
    permission checked there), so it is not read again."""
    invitations = invitation_queryset(user=user).filter(survey_id=survey.pk).select_related("customer")
    if status:
        invitations = invitations.filter(status=status)
    return keyset_page(invitations, ordering="id", cursor=cursor, limit=limit)


def invitation_get(*, user, invitation_id: int, for_update: bool = False) -> SurveyInvitation:
    invitations = invitation_queryset(user=user).filter(pk=invitation_id)
    if for_update:
        ids = list(invitations.values_list("pk", flat=True))
        if not ids:
            raise Http404
        SurveyInvitation.objects.select_for_update().filter(pk=ids[0]).values_list("pk").first()
        invitations = SurveyInvitation.objects.filter(pk=ids[0])
    invitation = invitations.select_related("customer", "survey").first()
    if invitation is None:
        raise Http404
    return invitation


def invitation_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and invitation_queryset(user=user).filter(pk=int(object_id)).exists()


def answer_refusal(invitation: SurveyInvitation, survey: Survey | None = None) -> str | None:
    """Why `invitation` may not be answered now, or None when it may: answered already, its survey closed (or not
    sent), or not delivered to the customer yet. `survey`: the invitation's, when the caller has it (a page of
    invitations of one survey), to save a query each."""
    survey = survey or invitation.survey
    if invitation.status != SurveyInvitation.Status.INVITED:
        return _("This customer's answer is already recorded.")
    if survey.status not in ANSWERABLE:
        return _("This survey is closed.")
    if invitation.delivered_at is None:
        return _("This invitation has not reached the customer yet; it can be answered once it is delivered.")
    return None


def invitation_answerable(invitation: SurveyInvitation, survey: Survey | None = None) -> bool:
    return answer_refusal(invitation, survey) is None


def send_progress(survey: Survey) -> int | None:
    """Percent of the survey's customers invited while it is being sent; None otherwise. A percentage, not counts:
    the sender's segment may hold customers the reader may not see."""
    if survey.status != Survey.Status.SENDING:
        return None
    if not survey.send_total:
        return 0
    return min(100, survey.send_done * 100 // survey.send_total)


def survey_counts(*, user, survey_id: int) -> dict:
    """Invited and answered, over the customers `user` may see."""
    from django.db.models import Count, Q

    return (
        invitation_queryset(user=user)
        .filter(survey_id=survey_id)
        .aggregate(invited=Count("id"), answered=Count("id", filter=Q(status=SurveyInvitation.Status.ANSWERED)))
    )


# --- writes ---------------------------------------------------------------------------------------------------------


def _segment(data) -> dict:
    try:
        filters = CustomerFilters(**(data or {}))
    except (SchemaError, TypeError) as exc:
        raise ValidationError({"segment": _("The customer segment is not a valid customer filter.")}) from exc
    return filters.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def survey_create(*, actor, name: str, channel: str, segment: dict | None = None, description: str = "") -> Survey:
    """A draft survey (team leads and managers: service.manage_ticket)."""
    require(actor, "service.manage_ticket")
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the survey a name.")
    if channel not in ContactChannel.values:
        errors["channel"] = _("Choose phone, text message, WeChat or email.")
    try:
        segment = _segment(segment)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        survey = Survey.objects.create(
            name=name[:200],
            description=(description or "").strip(),
            channel=channel,
            segment=segment,
            team=org_unit_of(actor),
            created_by=actor,
        )
        audit.record(actor=actor, action="create", instance=survey, changes=audit.snapshot(survey))
    return survey


def survey_send(*, actor, survey_id: int, version: int) -> int:
    """Start sending: check the segment the sender may see (one COUNT, at most MAX_INVITATIONS), mark the survey
    `sending` and start the job `service.survey_send` after the commit; returns how many customers are to be invited.
    A survey is sent once (409 after)."""
    require(actor, "service.manage_ticket")
    now = timezone.now()
    with transaction.atomic():
        survey = Survey.objects.select_for_update().filter(pk=survey_id).first()
        if survey is None:
            raise Http404
        if survey.version != version:
            raise StaleVersion(survey.version)
        if survey.status != Survey.Status.DRAFT:
            raise Conflict(_("This survey was already sent."))
        total = _segment_customers(survey, actor).order_by()[: MAX_INVITATIONS + 1].count()
        if total > MAX_INVITATIONS:
            raise ValidationError(
                {"segment": _("The segment has more than %(max)d customers; narrow it.") % {"max": MAX_INVITATIONS}}
            )
        if not total:
            raise ValidationError({"segment": _("No customer you may see is in this segment.")})
        Survey.objects.filter(pk=survey.pk).update(
            status=Survey.Status.SENDING,
            sent_at=now,
            sent_by=actor,
            send_total=total,
            send_done=0,
            send_updated_at=now,
            version=version + 1,
        )
        audit.record(
            actor=actor,
            action="survey_send",
            instance=survey,
            changes={"status": [Survey.Status.DRAFT, Survey.Status.SENDING], "invitations": [0, total]},
        )
        start_sending(survey.pk)
    return total


def start_sending(survey_id: int) -> None:
    """After the commit, hand the survey to the task `service.survey_send` (tests replace this to run it in-process)."""
    transaction.on_commit(lambda: enqueue(survey_id))


def enqueue(survey_id: int) -> bool:
    """Send the job to the broker; with the broker down the survey stays `sending` and the sweep starts it later."""
    from guanxi.service.tasks import survey_send as task

    try:
        task.apply_async((survey_id,), retry=False)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many kinds for an unreachable broker
        logger.warning("Survey %s: broker unavailable, the sweep will start the sending: %s", survey_id, exc)
        return False
    return True


def _segment_customers(survey: Survey, user):
    return CustomerFilters(**survey.segment).apply(customer_queryset(user=user))


def survey_deliver(survey_id: int, *, chunk: int | None = None) -> dict:
    """The job: invite the segment's customers (in the sender's scope, in id order) `chunk` at a time, one
    transaction each, then mark the survey `sent`. Safe to run twice or concurrently: every chunk locks the survey
    row, skips customers already invited (the unique key) and queues a text message only for invitations without
    one. A survey no longer `sending` (finished, or never sent) is left alone."""
    chunk = chunk or SEND_CHUNK
    survey = Survey.objects.select_related("sent_by").filter(pk=survey_id).first()
    if survey is None or survey.status != Survey.Status.SENDING:
        return {"survey": survey_id, "invited": 0}
    customers = _segment_customers(survey, survey.sent_by).order_by("pk").values_list("pk", flat=True)
    last, invited = 0, 0
    while True:
        with transaction.atomic():
            locked = Survey.objects.select_for_update().filter(pk=survey_id, status=Survey.Status.SENDING).first()
            if locked is None:
                return {"survey": survey_id, "invited": invited}  # another run finished it meanwhile
            done = SurveyInvitation.objects.filter(survey_id=survey_id).count()
            room = MAX_INVITATIONS - done  # the segment may have grown since the request counted it
            ids = list(customers.filter(pk__gt=last)[: min(chunk, max(room, 0))]) if room > 0 else []
            if not ids:
                Survey.objects.filter(pk=survey_id).update(
                    status=Survey.Status.SENT,
                    send_done=done,
                    send_updated_at=timezone.now(),
                    version=locked.version + 1,
                )
                return {"survey": survey_id, "invited": invited}
            now = timezone.now()
            # By text message the invitation reaches the customer when its message is sent (sms._send); by the
            # other channels it is the agents' to-do list, delivered as it is created.
            delivered = None if locked.channel == "sms" else now
            SurveyInvitation.objects.bulk_create(
                [
                    SurveyInvitation(
                        survey_id=survey_id,
                        customer_id=pk,
                        channel=locked.channel,
                        invited_at=now,
                        delivered_at=delivered,
                    )
                    for pk in ids
                ],
                ignore_conflicts=True,
            )
            sms.survey_messages(locked, customer_ids=ids)  # by text message: sent after this chunk's commit
            after = SurveyInvitation.objects.filter(survey_id=survey_id).count()
            invited += after - done
            Survey.objects.filter(pk=survey_id).update(send_done=after, send_updated_at=now)
        last = ids[-1]


def surveys_resume(*, now=None) -> int:
    """The sweep: surveys left `sending` without progress for RESUME_AFTER (the worker died, the broker was down)
    are handed to the job again; it continues where the invitations stop."""
    now = now or timezone.now()
    stuck = list(
        Survey.objects.filter(status=Survey.Status.SENDING, send_updated_at__lt=now - RESUME_AFTER).values_list(
            "pk", flat=True
        )
    )
    for pk in stuck:
        Survey.objects.filter(pk=pk).update(send_updated_at=now)  # one restart per period, not one per minute
        enqueue(pk)
    return len(stuck)


def survey_close(*, actor, survey_id: int, version: int) -> Survey:
    require(actor, "service.manage_ticket")
    with transaction.atomic():
        survey = Survey.objects.select_for_update().filter(pk=survey_id).first()
        if survey is None:
            raise Http404
        if survey.version != version:
            raise StaleVersion(survey.version)
        if survey.status != Survey.Status.SENT:
            raise Conflict(_("Only a sent survey can be closed."))
        previous = survey.status
        survey.status = Survey.Status.CLOSED
        survey.version = version + 1
        survey.save(update_fields=["status", "version"])
        audit.record(actor=actor, action="survey_close", instance=survey, changes={"status": [previous, survey.status]})
    return survey


def invitation_answer(
    *, actor, invitation_id: int, version: int, recommend: int, satisfaction: int, comment: str = ""
) -> SurveyInvitation:
    """The customer's answer: 0–10 "would recommend", 1–5 satisfaction. Once, on a delivered invitation of an open
    survey (409 otherwise: answer_refusal)."""
    require(actor, "service.change_ticket")
    errors = {}
    if recommend is None or not 0 <= recommend <= 10:
        errors["recommend"] = _("“Would recommend” is from 0 (not at all) to 10 (certainly).")
    if satisfaction is None or not 1 <= satisfaction <= 5:
        errors["satisfaction"] = _("Satisfaction is from 1 (very dissatisfied) to 5 (very satisfied).")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        invitation = invitation_get(user=actor, invitation_id=invitation_id, for_update=True)
        if invitation.version != version:
            raise StaleVersion(invitation.version)
        refusal = answer_refusal(invitation)
        if refusal is not None:
            raise Conflict(refusal)
        before = audit.snapshot(invitation)
        invitation.status = SurveyInvitation.Status.ANSWERED
        invitation.recommend = recommend
        invitation.satisfaction = satisfaction
        invitation.comment = (comment or "").strip()
        invitation.answered_at = now
        invitation.recorded_by = actor
        invitation.version = version + 1
        invitation.save()
        audit.record(
            actor=actor,
            action="survey_answer",
            instance=invitation,
            changes=audit.diff(before, audit.snapshot(invitation)),
        )
    return invitation


def invitation_answer_by_text(*, invitation_id: int, recommend: int, comment: str = "") -> str:
    """A customer's 0–10 reply to the survey's text message (sms_inbound): recorded as their "would recommend" score
    (satisfaction stays empty: the message asks one question), with no recording user — the audit entry says it came
    by text message. "recorded", or "answered" when it may not be answered (answer_refusal: answered already, the
    survey closed, not delivered)."""
    if not 0 <= recommend <= 10:
        raise ValidationError({"recommend": _("“Would recommend” is from 0 (not at all) to 10 (certainly).")})
    with transaction.atomic():
        invitation = (
            SurveyInvitation.objects.select_for_update(of=("self",))
            .select_related("survey")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None:
            raise Http404
        if answer_refusal(invitation) is not None:
            return "answered"
        before = audit.snapshot(invitation)
        invitation.status = SurveyInvitation.Status.ANSWERED
        invitation.recommend = recommend
        invitation.comment = (comment or "").strip()[:2000]
        invitation.answered_at = timezone.now()
        invitation.version += 1
        invitation.save()
        changes = audit.diff(before, audit.snapshot(invitation))
        audit.record(actor=None, action="survey_answer", instance=invitation, changes={**changes, "via": "sms"})
    return "recorded"
