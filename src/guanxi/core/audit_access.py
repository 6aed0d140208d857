"""Which audit histories a user may read: each app registers, per object type, who can see an object.

The audit log itself lives in core, but visibility is the owning app's rule (record scope), so apps register a
predicate here instead of core importing them.
"""

from collections.abc import Callable

_visible: dict[str, Callable] = {}


def register(object_type: str, is_visible: Callable) -> None:
    """`is_visible(user=…, object_id=…) -> bool` decides if `user` may read the object's history."""
    _visible[object_type] = is_visible


def can_see(user, object_type: str, object_id: str) -> bool:
    check = _visible.get(object_type)
    return bool(check and check(user=user, object_id=object_id))
