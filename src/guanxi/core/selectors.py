"""Reads of core data, always for a given user."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404

from guanxi.core import audit_access
from guanxi.core.models import AuditLog, OrgUnit, Preference, SavedFilter
from guanxi.core.scope import ScopeLevel, record_scope


def audit_for_object(*, user, object_type: str, object_id: str) -> QuerySet[AuditLog]:
    """The history of one record, newest first; 404 when the record is absent or outside the user's scope."""
    if not audit_access.can_see(user, object_type, object_id):
        raise Http404
    return (
        AuditLog.objects.filter(object_type=object_type, object_id=str(object_id))
        .select_related("actor")
        .order_by("-at", "-id")
    )


def users_in_scope(*, user) -> QuerySet:
    """Active users whose records `user` could hand work to (same scope rules as records)."""
    users = get_user_model().objects.filter(is_active=True).select_related("profile__org_unit")
    scope = record_scope(user)
    if scope.level is None:
        return users.none()
    if scope.level == ScopeLevel.OWN:
        return users.filter(pk=user.pk)
    if scope.level == ScopeLevel.ALL:
        return users
    return users.filter(profile__org_unit__in=scope.unit_ids)


def org_unit_of(user) -> OrgUnit | None:
    profile = getattr(user, "profile", None)
    return profile.org_unit if profile else None


def preference_get(*, user, key: str, default=None):
    value = Preference.objects.filter(user=user, key=key).values_list("value", flat=True).first()
    return default if value is None else value


def saved_filters(*, user, page: str):
    return SavedFilter.objects.filter(user=user, page=page)
