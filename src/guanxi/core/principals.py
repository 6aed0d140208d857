"""The principal behind an API token, cached: the token with its user, roles, record scope and sensitive-data rights.

Without the cache every API request rebuilt these from three to six statements (token with user and profile, groups,
permissions, the scope's org subtree) before doing any work; with it, a busy client's request makes none.

Freshness: revoking a token deletes its entry and any change to users (deactivation included), profiles, group
membership, permissions or org units drops every entry (a generation number). With Redis the cache is shared, so
this holds for every process at once. With the embedded per-process cache another process could keep an entry:
there the token is re-checked against the database (revoked? user still active?) at most RECHECK_SECONDS after its
last check, and rights are rebuilt at most PRINCIPAL_SECONDS after they were read.
"""

from django.core.cache import cache

PRINCIPAL_SECONDS = 30
RECHECK_SECONDS = 5
_GENERATION = "guanxi:principals:generation"


def _key(key_hash: str) -> str:
    generation = cache.get(_GENERATION)
    if generation is None:
        cache.add(_GENERATION, 1, timeout=None)
        generation = cache.get(_GENERATION, 1)
    return f"guanxi:principal:{generation}:{key_hash}"


def get(key_hash: str):
    return cache.get(_key(key_hash))


def put(key_hash: str, token) -> None:
    cache.set(_key(key_hash), token, PRINCIPAL_SECONDS)


def forget(key_hash: str) -> None:
    cache.delete(_key(key_hash))


def forget_all(**kwargs) -> None:
    """Signal receiver: who may see what has changed somewhere, so no cached principal is trusted any more."""
    try:
        cache.incr(_GENERATION)
    except ValueError:  # not set yet (or evicted): the next _key() starts a fresh generation
        cache.add(_GENERATION, 2, timeout=None)


def connect_signals() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from guanxi.core.models import OrgUnit, Profile

    user_model = get_user_model()
    for model in (user_model, Profile, OrgUnit, Group):
        post_save.connect(forget_all, sender=model, dispatch_uid=f"guanxi.principals.save.{model.__name__}")
        post_delete.connect(forget_all, sender=model, dispatch_uid=f"guanxi.principals.delete.{model.__name__}")
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(forget_all, sender=through, dispatch_uid=f"guanxi.principals.m2m.{through.__name__}")
