"""Business-hour schedules (service.models.hours): read and written by those who configure the service, versioned and
audited. After a change commits, the deadlines of the open tickets that count the schedule move (reschedule.py), as
after a change of the holiday calendar.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.models import OrgUnit
from guanxi.core.permissions import require
from guanxi.core.versioning import update_versioned
from guanxi.service import reschedule
from guanxi.service.models import BusinessHours

PERMISSION = "service.configure_service"


def schedule_list(*, user) -> list[BusinessHours]:
    """Every schedule, the default one first."""
    require(user, PERMISSION)
    schedules = BusinessHours.objects.select_related("branch")
    return sorted(schedules, key=lambda s: (s.branch_id is not None, s.branch.path if s.branch_id else ""))


def schedule_get(*, user, schedule_id: int) -> BusinessHours:
    require(user, PERMISSION)
    schedule = BusinessHours.objects.select_related("branch").filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404
    return schedule


def schedule_create(*, actor, week, branch_id: int | None = None) -> BusinessHours:
    """A branch's own schedule (or the default one, when none exists)."""
    require(actor, PERMISSION)
    branch = None
    if branch_id is not None:
        branch = OrgUnit.objects.filter(pk=branch_id).first()
        if branch is None:
            raise ValidationError({"branch_id": _("No such branch.")})
    schedule = BusinessHours(branch=branch, week=week)
    schedule.full_clean(exclude=["branch"], validate_unique=False, validate_constraints=False)
    taken = _("This branch already has business hours.") if branch else _("Default business hours already exist.")
    if BusinessHours.objects.filter(branch=branch).exists():
        raise ValidationError({"branch_id": taken})
    try:
        with transaction.atomic():
            schedule.save()
            audit.record(actor=actor, action="create", instance=schedule, changes=audit.snapshot(schedule))
            reschedule.hours_changed(schedule)
    except IntegrityError:  # created at the same moment by someone else
        raise ValidationError({"branch_id": taken}) from None
    return schedule


def schedule_update(*, actor, schedule_id: int, version: int, week) -> BusinessHours:
    """Replace the weekly hours; a stale `version` is refused (409) so two administrators do not overwrite each
    other. A change moves the open tickets' deadlines after the commit."""
    require(actor, PERMISSION)

    def apply(schedule: BusinessHours) -> None:
        schedule.week = week
        schedule.full_clean(exclude=["branch"], validate_unique=False, validate_constraints=False)

    with transaction.atomic():
        schedule = update_versioned(
            BusinessHours.objects.select_related("branch"),
            schedule_id,
            actor=actor,
            version=version,
            apply=apply,
            fields=["week"],
        )
        if schedule.version != version:  # saved: the week changed
            reschedule.hours_changed(schedule)
    return schedule


def schedule_delete(*, actor, schedule_id: int) -> None:
    """A branch falls back to the default schedule; the default one stays (409)."""
    require(actor, PERMISSION)
    with transaction.atomic():
        schedule = BusinessHours.objects.select_for_update().filter(pk=schedule_id).first()
        if schedule is None:
            raise Http404
        if schedule.branch_id is None:
            raise Conflict(_("The default business hours cannot be deleted; change them instead."))
        audit.record(actor=actor, action="delete", instance=schedule, changes=audit.snapshot(schedule))
        scope = reschedule.hours_scope(schedule, removed=True)
        schedule.delete()
        reschedule.start(scope)  # the branch's tickets count the default hours now
