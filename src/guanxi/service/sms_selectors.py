"""Reads of text messages for service supervisors: the list page and `GET /api/v1/sms` share `SmsFilters` and
`sms_list`.

Scope: a message is visible exactly where what it was sent for is — a return visit's where its ticket is
(return_visits.visit_queryset), a survey invitation's where its customer is (surveys.invitation_queryset). Only those
who supervise the service (service.manage_ticket: team leads, branch managers, admins) list messages at all.
"""

from datetime import date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone
from pydantic import BaseModel, Field

from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import require
from guanxi.service import return_visits, surveys
from guanxi.service.models.sms import SmsMessage


class SmsFilters(BaseModel):
    status: SmsMessage.Status | None = None
    purpose: SmsMessage.Purpose | None = None
    date_from: date | None = Field(None, description="Created on or after this day (local time)")
    date_to: date | None = Field(None, description="Created on or before this day (local time)")

    def apply(self, queryset: QuerySet[SmsMessage]) -> QuerySet[SmsMessage]:
        if self.status is not None:
            queryset = queryset.filter(status=self.status.value)
        if self.purpose is not None:
            queryset = queryset.filter(purpose=self.purpose.value)
        zone = timezone.get_current_timezone()
        if self.date_from is not None:
            queryset = queryset.filter(created_at__gte=datetime.combine(self.date_from, time.min, tzinfo=zone))
        if self.date_to is not None:
            queryset = queryset.filter(created_at__lte=datetime.combine(self.date_to, time.max, tzinfo=zone))
        return queryset


def sms_queryset(*, user) -> QuerySet[SmsMessage]:
    """The messages `user` may see (see the module docstring)."""
    require(user, "service.manage_ticket")
    visits = return_visits.visit_queryset(user=user).values("pk")
    invitations = surveys.invitation_queryset(user=user).values("pk")
    return SmsMessage.objects.filter(
        Q(purpose=SmsMessage.Purpose.RETURN_VISIT, object_id__in=visits)
        | Q(purpose=SmsMessage.Purpose.SURVEY, object_id__in=invitations)
    )


def sms_list(*, user, filters: SmsFilters, cursor: str | None = None, limit: int = 50) -> Page:
    """Newest first (keyset on created_at)."""
    return keyset_page(filters.apply(sms_queryset(user=user)), ordering="-created_at", cursor=cursor, limit=limit)
