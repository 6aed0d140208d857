"""Business-hour schedules under /api/v1/business-hours (tag "service"): for those who configure the service only.

Mounted on the service router (service/api.py). A week is seven lists (Monday first) of ["HH:MM", "HH:MM"] intervals.
"""

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from guanxi.core.schemas import WRITE, ErrorOut
from guanxi.service import hours
from guanxi.service.models import BusinessHours

router = Router(tags=["service"])
ADMIN_READ = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

Interval = list[str]  # ["08:30", "12:00"]; the service checks the times and their order
Week = list[list[Interval]]


class BranchOut(Schema):
    id: int
    name: str


class BusinessHoursOut(Schema):
    id: int
    branch: BranchOut | None
    week: Week
    version: int


class BusinessHoursIn(Schema):
    model_config = ConfigDict(extra="forbid")

    branch_id: int | None = None
    week: Week = Field(..., min_length=7, max_length=7)


class BusinessHoursPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    week: Week = Field(..., min_length=7, max_length=7)


def _out(schedule: BusinessHours) -> dict:
    branch = {"id": schedule.branch_id, "name": schedule.branch.name} if schedule.branch_id else None
    return {"id": schedule.pk, "branch": branch, "week": schedule.week, "version": schedule.version}


@router.get("/business-hours", response={200: list[BusinessHoursOut], **ADMIN_READ})
def list_business_hours(request: HttpRequest):
    """The default schedule and the branches' own, which the business-hour SLA clocks count."""
    return [_out(schedule) for schedule in hours.schedule_list(user=request.user)]


@router.post("/business-hours", response={201: BusinessHoursOut, **WRITE})
def create_business_hours(request: HttpRequest, payload: BusinessHoursIn):
    return 201, _out(hours.schedule_create(actor=request.user, branch_id=payload.branch_id, week=payload.week))


@router.get("/business-hours/{schedule_id}", response={200: BusinessHoursOut, **ADMIN_READ})
def get_business_hours(request: HttpRequest, schedule_id: int):
    return _out(hours.schedule_get(user=request.user, schedule_id=schedule_id))


@router.patch("/business-hours/{schedule_id}", response={200: BusinessHoursOut, **WRITE})
def update_business_hours(request: HttpRequest, schedule_id: int, payload: BusinessHoursPatch):
    """Replace a schedule's week; `version` must be the one read (409 otherwise)."""
    schedule = hours.schedule_update(
        actor=request.user, schedule_id=schedule_id, version=payload.version, week=payload.week
    )
    return _out(schedule)


@router.delete("/business-hours/{schedule_id}", response={204: None, **WRITE})
def delete_business_hours(request: HttpRequest, schedule_id: int):
    """A branch's schedule goes (the branch counts the default hours again); the default one stays (409)."""
    hours.schedule_delete(actor=request.user, schedule_id=schedule_id)
    return 204, None
