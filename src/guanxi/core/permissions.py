"""Action permissions (what a role may do), as opposed to record scope (which rows it sees)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def require(user, perm: str) -> None:
    if not (user and user.is_authenticated and user.has_perm(perm)):
        raise PermissionDenied(_("You are not allowed to do this."))
