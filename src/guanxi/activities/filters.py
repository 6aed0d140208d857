"""The activity list filter: one definition shared by the API and the pages."""

from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone
from pydantic import BaseModel, Field

from guanxi.activities.models import Activity


class ActivityFilters(BaseModel):
    kind: Activity.Kind | None = None
    status: Activity.Status | None = None
    customer_id: int | None = Field(None, description="Activities on this customer")
    owner_id: int | None = Field(None, description="Activities owned by this user")
    date_from: date | None = Field(None, description="Happened (or planned) on or after this day (Asia/Shanghai)")
    date_to: date | None = Field(None, description="Happened (or planned) on or before this day (Asia/Shanghai)")
    linked_type: str | None = Field(
        None,
        max_length=100,
        pattern=r"^[a-z_]+\.[a-z_]+$",
        description="The linked object's type, e.g. sales.opportunity",
    )
    linked_id: int | None = Field(None, description="The linked object's id (with linked_type)")
    q: str | None = Field(None, max_length=100, description="Subject substring")

    def apply(self, queryset: QuerySet[Activity]) -> QuerySet[Activity]:
        for field in ("kind", "status", "customer_id", "owner_id"):
            value = getattr(self, field)
            if value is not None:
                queryset = queryset.filter(**{field: value})
        if self.date_from is not None:
            queryset = queryset.filter(happened_at__gte=day_start(self.date_from))
        if self.date_to is not None:
            queryset = queryset.filter(happened_at__lt=day_start(self.date_to + timedelta(days=1)))
        if self.linked_type:
            app_label, model = self.linked_type.split(".")
            try:  # get_by_natural_key is cached per process: no query
                content_type = ContentType.objects.get_by_natural_key(app_label, model)
            except ContentType.DoesNotExist:
                return queryset.none()
            queryset = queryset.filter(linked_type=content_type)
        if self.linked_id is not None:
            queryset = queryset.filter(linked_id=self.linked_id)
        if self.q and self.q.strip():
            queryset = queryset.filter(subject__icontains=self.q.strip())
        return queryset


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())
