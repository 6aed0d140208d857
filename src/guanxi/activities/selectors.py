"""Every read of activities, already narrowed to what the user may see.

A user sees an activity when
- its customer is in the user's record scope (core.scope.restrict applied to the customer), or
- it has no customer (a task) and its owner/unit is in the user's scope (restrict applied to the activity), or
- the user owns it or takes part in it;
and never, without customers.access_sensitive_customer, an activity on a sensitive customer.
"""

import operator
from functools import reduce

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from guanxi.activities.filters import ActivityFilters
from guanxi.activities.models import Activity
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.roles import ScopeLevel
from guanxi.core.scope import RecordScope, record_scope, restrict
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import customer_queryset

LIST_RELATED = ("customer", "owner", "linked_type")
# The API's contact_ids / participant_ids: one query each per page (ids only).
LIST_PREFETCH = (
    Prefetch("contacts", queryset=Contact.objects.only("id")),
    Prefetch("participants", queryset=get_user_model().objects.only("id")),
)


def activity_queryset(*, user) -> QuerySet[Activity]:
    """All activities `user` may see (see the module docstring)."""
    scope = record_scope(user)
    activities = Activity.objects.all()
    if scope.level is None:
        return activities.none()
    if scope.level != ScopeLevel.ALL:
        activities = activities.filter(reduce(operator.or_, _visible_through(user, scope)))
    return _without_sensitive(activities, scope)


def activity_scope_parts(*, user) -> list[QuerySet[Activity]]:
    """Querysets whose union is activity_queryset(user), each narrowed by an indexed column, for reads that stop at a
    LIMIT (the search). An account manager's rule is an OR (their customers', their own, the ones they take part in)
    that no index serves, so PostgreSQL read a frequent word's matches among 10,000,000 activities until ten happened
    to be theirs; each part alone starts from an index. Other scopes: one part. Checked against activity_queryset
    in tests/activities/test_activities_scope.py."""
    scope = record_scope(user)
    if scope.level != ScopeLevel.OWN:
        return [activity_queryset(user=user)]
    activities = _without_sensitive(Activity.objects.all(), scope)
    return [activities.filter(condition) for condition in _visible_through(user, scope)]


def _visible_through(user, scope: RecordScope) -> list[Q]:
    """The ways an activity is visible to a user with scope "own", "team" or "branch" (the module docstring's rules):
    activity_queryset ORs them, activity_scope_parts runs one query per condition."""
    on_visible_customer = Q(customer_id__in=restrict(Customer.objects.all(), user).values("pk"))
    owned = Q(owner_id=user.pk)
    participating = Q(Exists(Activity.participants.through.objects.filter(activity_id=OuterRef("pk"), user_id=user.pk)))
    if scope.level == ScopeLevel.OWN:  # a customer-less activity of scope "own" is one the user owns: `owned`
        return [on_visible_customer, owned, participating]
    unit_task = Q(customer__isnull=True) & Q(org_unit_id__in=scope.unit_ids)
    return [on_visible_customer, unit_task, owned, participating]


def _without_sensitive(activities: QuerySet[Activity], scope: RecordScope) -> QuerySet[Activity]:
    if scope.sees_sensitive:
        return activities
    return activities.filter(Q(customer__isnull=True) | Q(customer__sensitive=False))


def activity_list(*, user, filters: ActivityFilters, cursor: str | None = None, limit: int = 50) -> Page:
    """Newest first (by happened_at, then id), keyset-paginated."""
    queryset = filters.apply(activity_queryset(user=user))
    queryset = queryset.select_related(*LIST_RELATED).prefetch_related(*LIST_PREFETCH)
    return keyset_page(queryset, ordering="-happened_at", cursor=cursor, limit=limit)


def activity_get(*, user, activity_id: int) -> Activity:
    """One activity with its contacts and participants; 404 when absent or outside the user's scope."""
    activity = (
        activity_queryset(user=user)
        .select_related("customer", "owner", "org_unit", "linked_type", "created_by", "follow_up_of")
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.only("id", "name", "customer_id")), "participants"
        )
        .filter(pk=activity_id)
        .first()
    )
    if activity is None:
        raise Http404
    return activity


def activity_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and activity_queryset(user=user).filter(pk=int(object_id)).exists()


def activities_of(*, user, instance, limit: int = 50) -> list[Activity]:
    """The latest activities linked to `instance` (a deal, a ticket …) that the user may see: for other apps' pages."""
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(instance)
    return list(
        activity_queryset(user=user)
        .filter(linked_type=content_type, linked_id=instance.pk)
        .select_related(*LIST_RELATED)
        .order_by("-happened_at", "-id")[:limit]
    )


def customer_by_number(*, user, number: str) -> Customer | None:
    """The visible customer with this customer number (what the activity form asks for), or None."""
    number = (number or "").strip().upper()
    if not number:
        return None
    return customer_queryset(user=user).filter(number=number).first()
