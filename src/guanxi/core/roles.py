"""The roles Guanxi ships with: a Django group each, with its permissions and its record scope."""

from enum import IntEnum

from django.utils.translation import gettext_lazy as _


class ScopeLevel(IntEnum):
    """How far a role sees (数据权限). Higher is wider; a user with several roles gets the widest."""

    OWN = 1  # 本人
    TEAM = 2  # 本部门及下属 (the user's own unit and below)
    BRANCH = 3  # the user's branch and below
    ALL = 4  # 全部


ADMIN = "admin"
EXECUTIVE = "executive"
BRANCH_MANAGER = "branch_manager"
TEAM_LEAD = "team_lead"
ACCOUNT_MANAGER = "account_manager"
SERVICE_AGENT = "service_agent"
ANALYST = "analyst"

ROLE_LABELS = {
    ADMIN: _("Administrator"),
    EXECUTIVE: _("Executive"),
    BRANCH_MANAGER: _("Branch manager"),
    TEAM_LEAD: _("Team lead"),
    ACCOUNT_MANAGER: _("Account manager"),
    SERVICE_AGENT: _("Service agent"),
    ANALYST: _("Analyst"),
}

ROLE_SCOPES = {
    ADMIN: ScopeLevel.ALL,
    EXECUTIVE: ScopeLevel.ALL,
    BRANCH_MANAGER: ScopeLevel.BRANCH,
    TEAM_LEAD: ScopeLevel.TEAM,
    ACCOUNT_MANAGER: ScopeLevel.OWN,
    SERVICE_AGENT: ScopeLevel.BRANCH,
    ANALYST: ScopeLevel.BRANCH,
}

_READ = ["customers.view_customer", "customers.view_contact", "customers.view_category", "customers.view_region"]
_WRITE = _READ + [
    "customers.add_customer",
    "customers.change_customer",
    "customers.delete_customer",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
]
_SENSITIVE = ["customers.access_sensitive_customer", "core.view_sensitive_fields"]

ROLE_PERMISSIONS: dict[str, list[str] | str] = {
    ADMIN: "__all__",
    EXECUTIVE: _READ + _SENSITIVE + ["core.view_auditlog"],
    BRANCH_MANAGER: _WRITE + _SENSITIVE + ["customers.transfer_customer", "core.view_auditlog"],
    TEAM_LEAD: _WRITE + ["customers.transfer_customer", "core.view_auditlog"],
    ACCOUNT_MANAGER: _WRITE,
    SERVICE_AGENT: _READ,
    ANALYST: _READ,
}


def app_role_permissions() -> dict[str, list[str]]:
    """Permissions other apps grant to the roles: each app may declare `ROLE_PERMISSIONS` in its own `roles.py`.

    Core names the roles; the apps that add models (activities, sales …) say what each role may do with them, so this
    module does not grow with every app.
    """
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    granted: dict[str, list[str]] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("guanxi.") or config.name == "guanxi.core":
            continue
        module_name = f"{config.name}.roles"
        if find_spec(module_name) is None:
            continue
        for role, perms in getattr(import_module(module_name), "ROLE_PERMISSIONS", {}).items():
            granted.setdefault(role, []).extend(perms)
    return granted


def sync_role_groups(**kwargs) -> None:
    """Create or refresh one group per role with exactly its permissions. Runs after every migrate."""
    from django.contrib.auth.models import Group, Permission

    every = Permission.objects.select_related("content_type")
    by_name = {f"{p.content_type.app_label}.{p.codename}": p for p in every}
    extra = app_role_permissions()
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        names = list(by_name) if perms == "__all__" else [*perms, *extra.get(role, [])]
        group.permissions.set([by_name[name] for name in names if name in by_name])


def user_roles(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    cached = getattr(user, "_guanxi_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached.add(ADMIN)
        user._guanxi_roles = cached
    return cached
