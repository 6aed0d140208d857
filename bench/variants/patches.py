"""Proposed src changes as patches, each mirroring the src function it replaces (see bench/RESULTS.md, Notes).

auth_one_query      core/services.token_authenticate: the org unit joined in, and the two sensitive-data permissions
                    as EXISTS columns of the token query; record_scope and masking use them. Auth and scope then cost
                    2 statements (token, groups) instead of 3 (admin) or 5 (an account manager). Measured: no gain
                    (the EXISTS with an OR over two join paths costs what the statements it replaces cost); kept for
                    the record, not in any variant.
auth_cached         core/services.token_authenticate: the token with its user, profile, roles, record scope and
                    sensitive-data flags cached (Django cache, 30 s) under the token's hash; a request with a known
                    token makes no auth or scope statement. token_revoke deletes the entry (this process; every
                    process with REDIS_URL), so revocation and role changes take effect within 30 s at worst.
scope_unit_lazily   core/scope.record_scope: the org unit is only needed for team and branch scopes.
subtree_one_query   core/tree.subtree_ids: path and descendants in one statement (a subquery), no ORDER BY.
"""

from django.db.models import Exists, OuterRef, Q


def auth_one_query() -> None:
    from django.contrib.auth.models import Permission
    from django.utils import timezone

    from guanxi.core import auth, scope, services
    from guanxi.core.models import ApiToken

    def has(codename: str, app_label: str):
        return Exists(
            Permission.objects.filter(
                Q(group__user=OuterRef("user_id")) | Q(user=OuterRef("user_id")),
                content_type__app_label=app_label,
                codename=codename,
            )
        )

    def token_authenticate(clear: str):
        token = (
            ApiToken.objects.select_related("user", "user__profile", "user__profile__org_unit")
            .annotate(
                _sensitive_customers=has("access_sensitive_customer", "customers"),
                _sensitive_fields=has("view_sensitive_fields", "core"),
            )
            .filter(key_hash=services._hash(clear), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        user = token.user
        superuser = user.is_active and user.is_superuser
        user._guanxi_sensitive_customers = superuser or token._sensitive_customers
        user._guanxi_sees_fields = superuser or token._sensitive_fields  # read by masking.sees_sensitive_fields
        return token

    original_record_scope = scope.record_scope

    def record_scope(user):
        known = getattr(user, "_guanxi_sensitive_customers", None)
        if known is None or getattr(user, "_guanxi_scope", None) is not None:
            return original_record_scope(user)
        has_perm = user.has_perm
        user.has_perm = lambda perm, obj=None: (
            known if perm == "customers.access_sensitive_customer" else has_perm(perm, obj)
        )
        try:
            return original_record_scope(user)
        finally:
            del user.has_perm

    services.token_authenticate = token_authenticate
    auth.token_authenticate = token_authenticate
    scope.record_scope = record_scope


AUTH_CACHE_SECONDS = 30


def auth_cached() -> None:
    from django.core.cache import cache
    from django.utils import timezone

    from guanxi.core import auth, masking, scope, services
    from guanxi.core.models import ApiToken
    from guanxi.core.roles import user_roles

    original = services.token_authenticate
    original_revoke = services.token_revoke

    def token_authenticate(clear: str):
        key = "auth-token:" + services._hash(clear)
        token = cache.get(key)
        if token is None:
            token = original(clear)
            if token is None:
                return None
            user = token.user
            user_roles(user)  # computed once, cached on the user object, pickled with it
            scope.record_scope(user)
            masking.sees_sensitive_fields(user)
            cache.set(key, token, AUTH_CACHE_SECONDS)
            return token
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
            cache.set(key, token, AUTH_CACHE_SECONDS)
        return token

    def token_revoke(*, actor, token) -> None:
        original_revoke(actor=actor, token=token)
        cache.delete("auth-token:" + token.key_hash)

    services.token_authenticate = token_authenticate
    auth.token_authenticate = token_authenticate
    services.token_revoke = token_revoke


def scope_unit_lazily() -> None:
    from guanxi.core import scope
    from guanxi.core.roles import ScopeLevel, user_roles

    original = scope.record_scope
    original_unit = scope._user_unit

    def record_scope(user):
        levels = [scope.ROLE_SCOPES[role] for role in user_roles(user) if role in scope.ROLE_SCOPES]
        if levels and max(levels) in (ScopeLevel.TEAM, ScopeLevel.BRANCH):
            return original(user)
        scope._user_unit = lambda _user: None
        try:
            return original(user)
        finally:
            scope._user_unit = original_unit

    scope.record_scope = record_scope


def subtree_one_query() -> None:
    from django.db.models import Subquery

    from guanxi.core import tree
    from guanxi.customers import filters

    def subtree_ids(model, node_id: int) -> list[int]:
        path = model.objects.filter(pk=node_id).values("path")[:1]
        return list(model.objects.filter(path__startswith=Subquery(path)).order_by().values_list("id", flat=True))

    tree.subtree_ids = subtree_ids
    filters.subtree_ids = subtree_ids
