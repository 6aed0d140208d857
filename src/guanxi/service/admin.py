"""Back-office admin of the service configuration: types, sub-types, causes, SLA targets, the holiday calendar."""

from django.contrib import admin

from guanxi.service.models import Holiday, ReturnVisitRule, SlaTarget, TicketCause, TicketSubType, TicketType


class SubTypeInline(admin.TabularInline):
    model = TicketSubType
    extra = 0


class CauseInline(admin.TabularInline):
    model = TicketCause
    extra = 0


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "around_the_clock", "active", "order")
    inlines = [SubTypeInline, CauseInline]


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    list_display = ("ticket_type", "priority", "grade", "response_minutes", "resolution_minutes")
    list_filter = ("ticket_type", "priority", "grade")


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"


@admin.register(ReturnVisitRule)
class ReturnVisitRuleAdmin(admin.ModelAdmin):
    """Per ticket type: hours after closing until the return visit, retry interval, attempts (return_visits.py)."""

    list_display = ("ticket_type", "delay_hours", "retry_hours", "max_attempts", "channel")
