"""Back-office admin of the service configuration: types, sub-types, causes, SLA targets, the holiday calendar and
business hours; read-only views of what runs in the background (text messages, deadline rescheduling jobs, whose
failed ones an administrator can retry)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from guanxi.core.roles import ADMIN, user_roles
from guanxi.service import assignment, hours, reschedule, services
from guanxi.service.models import (
    AgentAvailability,
    AssignmentRule,
    BusinessHours,
    Holiday,
    RescheduleJob,
    ReturnVisitRule,
    SlaTarget,
    SmsMessage,
    SmsReply,
    TicketCause,
    TicketSubType,
    TicketType,
)

ERROR_SHOWN = 120  # characters of a job's last error in the list (the whole of it on the job's page)


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
    """Saved through the service, so an admin change is audited and moves the open tickets' deadlines like an API
    one (service/reschedule.py)."""

    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    fields = ("date", "kind", "name", "version")
    readonly_fields = ("version",)

    def save_model(self, request, obj, form, change):
        if change:
            data = {"kind": obj.kind, "name": obj.name}
            saved = services.holiday_update(actor=request.user, holiday_id=obj.pk, version=obj.version, data=data)
        else:
            saved = services.holiday_create(actor=request.user, day=obj.date, kind=obj.kind, name=obj.name)
        obj.pk, obj.version = saved.pk, saved.version

    def delete_model(self, request, obj):
        services.holiday_delete(actor=request.user, holiday_id=obj.pk)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would bypass the service
        return actions

    def get_readonly_fields(self, request, obj=None):
        return ("date", "version") if obj is not None else ("version",)


@admin.register(ReturnVisitRule)
class ReturnVisitRuleAdmin(admin.ModelAdmin):
    """Per ticket type: hours after closing until the return visit, retry interval, attempts (return_visits.py)."""

    list_display = ("ticket_type", "delay_hours", "retry_hours", "max_attempts", "channel")


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    """The default weekly schedule and branches' own: seven lists (Monday first) of ["HH:MM", "HH:MM"] intervals.
    Saved through service.hours, so an admin change is versioned and audited like an API one."""

    list_display = ("__str__", "version", "updated_at")
    fields = ("branch", "week", "version")
    readonly_fields = ("version",)

    def save_model(self, request, obj, form, change):
        if change:
            saved = hours.schedule_update(actor=request.user, schedule_id=obj.pk, version=obj.version, week=obj.week)
        else:
            saved = hours.schedule_create(actor=request.user, branch_id=obj.branch_id, week=obj.week)
        obj.pk, obj.version = saved.pk, saved.version

    def delete_model(self, request, obj):
        hours.schedule_delete(actor=request.user, schedule_id=obj.pk)

    def has_delete_permission(self, request, obj=None):
        # The default schedule stays; bulk deletion would bypass the audit.
        return obj is not None and obj.branch_id is not None and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ("branch", "version") if obj is not None else ("version",)


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    """How a team's queue hands out email tickets (service/assignment.py); saved through the service (audited)."""

    list_display = ("team", "strategy", "match_skills", "active", "last_assigned", "version")
    list_filter = ("strategy", "active")
    fields = ("team", "strategy", "match_skills", "active", "version")
    readonly_fields = ("version",)

    def save_model(self, request, obj, form, change):
        data = {key: getattr(obj, key) for key in assignment.RULE_FIELDS}
        if change:
            saved = assignment.rule_update(actor=request.user, rule_id=obj.pk, version=obj.version, data=data)
        else:
            saved = assignment.rule_create(actor=request.user, team_id=obj.team_id, data=data)
        obj.pk, obj.version = saved.pk, saved.version

    def get_readonly_fields(self, request, obj=None):
        return ("team", "version") if obj is not None else ("version",)


@admin.register(AgentAvailability)
class AgentAvailabilityAdmin(admin.ModelAdmin):
    """Agents' availability and skills, as they set them (PUT /agent-availability); read-only here."""

    list_display = ("user", "available", "skills", "updated_at")
    list_filter = ("available",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    """Outbound text messages and their delivery status (service/sms.py); read-only: the gateway's record."""

    list_display = ("created_at", "phone", "purpose", "status", "attempts", "next_attempt_at", "provider_id", "error")
    list_filter = ("status", "purpose")
    search_fields = ("phone",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SmsReply)
class SmsReplyAdmin(admin.ModelAdmin):
    """Customers' replies posted by the gateway (service/sms_inbound.py) and what each did; read-only."""

    list_display = ("received_at", "phone", "content", "outcome", "reply_to")
    list_filter = ("outcome",)
    search_fields = ("phone",)
    raw_id_fields = ("reply_to",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RescheduleJob)
class RescheduleJobAdmin(admin.ModelAdmin):
    """The deadline rescheduling jobs a holiday or business-hours change started (service/reschedule.py), for the
    operator: which change, how far, alive, finished or failed (with the last error). Read-only: the job's runner and
    the sweep write them; an administrator's one write is the "retry" action on failed jobs (through the service, so
    audited)."""

    list_display = (
        "id",
        "change",
        "status",
        "checked",
        "moved",
        "started_at",
        "claimed_at",
        "attempts",
        "finished_at",
        "short_error",
        "error_at",
    )
    list_filter = ("status",)
    date_hierarchy = "created_at"
    readonly_fields = ("change",)
    exclude = ("scope", "claim")
    actions = ["retry"]

    @admin.display(description=_("schedule change"))
    def change(self, job: RescheduleJob) -> str:
        return reschedule.describe(job.scope)

    @admin.display(description=_("last error"))
    def short_error(self, job: RescheduleJob) -> str:
        return job.error if len(job.error) <= ERROR_SHOWN else job.error[: ERROR_SHOWN - 1] + "…"

    @admin.action(description=_("Retry the selected failed jobs"), permissions=["retry"])
    def retry(self, request, queryset):
        count = reschedule.jobs_retry(actor=request.user, job_ids=list(queryset.values_list("pk", flat=True)))
        message = ngettext(
            "%(count)d failed job sent to run again.", "%(count)d failed jobs sent to run again.", count
        ) % {"count": count}
        self.message_user(request, message, messages.SUCCESS if count else messages.WARNING)

    def has_retry_permission(self, request) -> bool:
        return ADMIN in user_roles(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # done ones go with the daily purge (reschedule.reschedules_purge)
