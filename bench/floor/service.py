"""The floor of the service scenario (bench/service_bench.py): the team queue — a team's open tickets by SLA due
time, keyset-paginated, sensitive customers left out — through the ORM as Guanxi does, same JSON fields, without
auth, scope, masking, middleware or per-item schemas."""

import base64
import json
from datetime import datetime

from django.db import models
from django.db.models import Q
from ninja import NinjaAPI

from floor.models import Customer, User

OPEN = ("new", "accepted", "in_progress", "waiting", "reopened")


class OrgUnit(models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        app_label = "floor"
        managed = False
        db_table = "core_orgunit"

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    number = models.CharField(max_length=32)
    customer = models.ForeignKey(Customer, null=True, on_delete=models.DO_NOTHING, related_name="+")
    contact_id = models.BigIntegerField(null=True)
    caller_name = models.CharField(max_length=100)
    caller_phone = models.CharField(max_length=32)
    caller_address = models.CharField(max_length=300)
    channel = models.CharField(max_length=16)
    ticket_type = models.CharField(max_length=32)
    sub_type_id = models.BigIntegerField(null=True)
    priority = models.CharField(max_length=16)
    subject = models.CharField(max_length=200)
    description = models.TextField()
    receiver = models.ForeignKey(User, on_delete=models.DO_NOTHING, related_name="+")
    owner = models.ForeignKey(User, on_delete=models.DO_NOTHING, related_name="+")
    team = models.ForeignKey(OrgUnit, null=True, on_delete=models.DO_NOTHING, related_name="+")
    status = models.CharField(max_length=16)
    sla_grade = models.CharField(max_length=16)
    around_the_clock = models.BooleanField()
    response_due_at = models.DateTimeField()
    resolution_due_at = models.DateTimeField()
    sla_due_at = models.DateTimeField()
    sla_state = models.SmallIntegerField()
    paused_at = models.DateTimeField(null=True)
    responded_at = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)
    response_breached = models.BooleanField()
    resolution_breached = models.BooleanField()
    resolution = models.TextField()
    cause_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()
    version = models.IntegerField()

    class Meta:
        app_label = "floor"
        managed = False
        db_table = "service_ticket"

    def __str__(self) -> str:
        return self.number


api = NinjaAPI(title="floor-service", docs_url=None, urls_namespace="floor-service")

FIELDS = [f.attname for f in Ticket._meta.concrete_fields if f.attname not in ("receiver_id", "owner_id", "team_id")]


def _person(user) -> dict:
    return {"id": user.pk, "name": f"{user.first_name} {user.last_name}".strip() or user.username}


def ticket_data(t: Ticket) -> dict:
    return {
        **{name: getattr(t, name) for name in FIELDS},
        "customer_name": t.customer.name if t.customer_id else None,
        "receiver": _person(t.receiver),
        "owner": _person(t.owner),
        "team": {"id": t.team.pk, "name": t.team.name} if t.team_id else None,
    }


@api.get("/team-queue")
def team_queue(request, team: int, cursor: str | None = None, limit: int = 50):
    queryset = (
        Ticket.objects.select_related("customer", "owner", "receiver", "team")
        .filter(team_id=team, status__in=OPEN)
        .filter(Q(customer__isnull=True) | Q(customer__sensitive=False))
    )
    if cursor:
        due, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        due = datetime.fromisoformat(due)
        queryset = queryset.filter(Q(sla_due_at__gte=due) & (Q(sla_due_at__gt=due) | Q(sla_due_at=due, id__gt=last_id)))
    rows = list(queryset.order_by("sla_due_at", "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        raw = json.dumps([rows[-1].sla_due_at.isoformat(), rows[-1].pk]).encode()
        next_cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return {"items": [ticket_data(t) for t in rows], "next": next_cursor}
