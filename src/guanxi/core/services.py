"""Writes of core data: users and API tokens."""

import hashlib
import secrets

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, principals, throttle
from guanxi.core.models import ApiToken, OrgUnit, Preference, Profile, SavedFilter
from guanxi.core.roles import ADMIN, ROLE_SCOPES

TOKEN_PREFIX = "gx_"


class BadCredentials(Exception):
    pass


@transaction.atomic
def user_create(
    *,
    actor=None,
    username: str,
    password: str,
    role: str,
    org_unit_code: str | None = None,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    language: str = "",
    manager_tier: str = "",
):
    """A local account with one role and its place in the organisation."""
    if role not in ROLE_SCOPES:
        raise ValidationError({"role": _("Unknown role %(role)s.") % {"role": role}})
    unit = None
    if org_unit_code:
        unit = OrgUnit.objects.filter(code=org_unit_code).first()
        if unit is None:
            raise ValidationError({"org_unit": _("No organisation unit with code %(code)s.") % {"code": org_unit_code}})
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("A user with that username already exists.")})
    user = User(username=username, email=email, first_name=full_name[:150])
    user.is_staff = role == ADMIN
    user.is_superuser = role == ADMIN
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    Profile.objects.create(user=user, org_unit=unit, phone=phone, language=language, manager_tier=manager_tier)
    audit.record(actor=actor, action="create", instance=user, changes={"role": [None, role]})
    return user


@transaction.atomic
def profile_update(*, actor, language: str | None = None, phone: str | None = None) -> Profile:
    """A user's own preferences: UI/API language (zh-hans, en, or "" for the browser's) and phone."""
    profile, _created = Profile.objects.get_or_create(user=actor)
    before = audit.snapshot(profile)
    if language is not None:
        profile.language = language
    if phone is not None:
        profile.phone = phone.strip()
    profile.full_clean(exclude=["user", "org_unit"])
    changes = audit.diff(before, audit.snapshot(profile))
    if changes:
        profile.save()
        audit.record(actor=actor, action="update", instance=profile, changes=changes)
    return profile


def token_issue(*, username: str, password: str, client: str | None, name: str = "") -> tuple[ApiToken, str]:
    """Check the password and return a new token and its clear text. Failures are throttled per account and per
    client IP (core.throttle)."""
    throttle.check(username=username, ip=client)
    user = authenticate(username=username, password=password)
    if user is None:
        throttle.failed(username=username, ip=client)
        raise BadCredentials
    throttle.succeeded(username=username)
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, key_hash=_hash(clear), prefix=clear[:8])
        audit.record(actor=user, action="token_issue", instance=token, object_repr=f"{token.prefix}…")
    return token, clear


def token_authenticate(clear: str) -> ApiToken | None:
    """The live token for `clear`, with its user; records when it was last used (at most once a minute).

    The token with its user's roles, scope and rights comes from the principal cache when it is there
    (core.principals), re-checked against the database at most every RECHECK_SECONDS.
    """
    key_hash = _hash(clear)
    now = timezone.now()
    token = principals.get(key_hash)
    if token is not None and (now - token.checked_at).total_seconds() > principals.RECHECK_SECONDS:
        live = list(
            ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True, user__is_active=True).values_list(
                "last_used_at", flat=True
            )[:1]
        )
        if not live:
            principals.forget(key_hash)
            return None
        token.last_used_at, token.checked_at = live[0], now
        principals.put(key_hash, token)
    elif token is None:
        token = (
            ApiToken.objects.select_related("user", "user__profile")
            .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        _resolve_rights(token.user)
        token.checked_at = now
        principals.put(key_hash, token)
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        principals.put(key_hash, token)
    return token


def _resolve_rights(user) -> None:
    """Compute what the principal cache keeps on the user object: roles, record scope, sensitive-data rights."""
    from guanxi.core.masking import sees_sensitive_fields
    from guanxi.core.roles import user_roles
    from guanxi.core.scope import record_scope

    user_roles(user)
    record_scope(user)
    sees_sensitive_fields(user)


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="token_revoke", instance=token, object_repr=f"{token.prefix}…")
        principals.forget(token.key_hash)


def _hash(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


def preference_set(*, actor, key: str, value) -> None:
    """Remember a UI choice of the user (not audited: it changes nobody's data but their own view)."""
    Preference.objects.update_or_create(user=actor, key=key, defaults={"value": value})


def saved_filter_save(*, actor, page: str, name: str, query: str):
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the filter a name.")})
    saved, _created = SavedFilter.objects.update_or_create(
        user=actor, page=page, name=name[:100], defaults={"query": query[:2000]}
    )
    return saved


def saved_filter_delete(*, actor, filter_id: int) -> None:
    SavedFilter.objects.filter(user=actor, pk=filter_id).delete()
