"""Periodic satisfaction surveys (满意度调查, E5) of a customer segment.

A survey names a segment with the customer list's own filter (customers.filters.CustomerFilters, stored as JSON) and a
channel (phone, text message, WeChat, email). Sending resolves the segment **within the sender's record scope** and
creates one invitation per customer, recorded with its channel; no SMS gateway or mailing is connected — the
invitations are the to-do list of the agents who call or message the customers and record the answers: a 0–10
"would recommend" score (NPS) and a 1–5 satisfaction. Invitations and answers are visible only where the customer is.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
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

MAX_INVITATIONS = 50_000  # one survey at most; a larger segment is refused (narrow the filter)


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


def invitation_list(
    *, user, survey_id: int, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    survey_get(user=user, survey_id=survey_id)
    invitations = invitation_queryset(user=user).filter(survey_id=survey_id).select_related("customer")
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
    """Invite every customer of the segment the sender may see (one INSERT … SELECT-like bulk insert); returns how
    many were invited. A survey is sent once (409 after)."""
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
        customers = CustomerFilters(**survey.segment).apply(customer_queryset(user=actor))
        ids = list(customers.values_list("pk", flat=True).order_by("pk")[: MAX_INVITATIONS + 1])
        if len(ids) > MAX_INVITATIONS:
            raise ValidationError(
                {"segment": _("The segment has more than %(max)d customers; narrow it.") % {"max": MAX_INVITATIONS}}
            )
        if not ids:
            raise ValidationError({"segment": _("No customer you may see is in this segment.")})
        SurveyInvitation.objects.bulk_create(
            [SurveyInvitation(survey=survey, customer_id=pk, channel=survey.channel, invited_at=now) for pk in ids],
            batch_size=2000,
        )
        sms.survey_messages(survey)  # by text message: sent after the commit
        Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.SENT, sent_at=now, version=version + 1)
        audit.record(
            actor=actor,
            action="survey_send",
            instance=survey,
            changes={"status": [Survey.Status.DRAFT, Survey.Status.SENT], "invitations": [0, len(ids)]},
        )
    return len(ids)


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
    """The customer's answer: 0–10 "would recommend", 1–5 satisfaction. Once (409 after); the survey must be open."""
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
        if invitation.status != SurveyInvitation.Status.INVITED:
            raise Conflict(_("This customer's answer is already recorded."))
        if invitation.survey.status != Survey.Status.SENT:
            raise Conflict(_("This survey is closed."))
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
