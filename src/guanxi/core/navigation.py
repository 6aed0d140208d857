"""The main navigation: every module of REQUIREMENTS.md, linked when built, shown as planned otherwise."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str | None  # None: module not built yet
    requirement: str
    staff_only: bool = False


MODULES = [
    NavItem(_("Customers"), "customers:list", "A"),
    NavItem(_("Contacts"), "customers:contacts", "A2"),
    NavItem(_("Search"), "search", "J8"),
    NavItem(_("Imports"), "imports:list", "A4"),
    NavItem(_("Classification"), None, "B"),
    NavItem(_("Sales"), "sales:home", "C"),
    NavItem(_("Activities and calendar"), "activities:home", "D"),
    NavItem(_("Marketing and care"), None, "E"),
    NavItem(_("Service"), "service:home", "F"),
    NavItem(_("Utility operations"), None, "G"),
    NavItem(_("Workbench"), None, "H"),
    NavItem(_("Projects and partners"), None, "I"),
    NavItem(_("Analysis"), None, "K"),
    NavItem(_("Back office"), "admin:index", "J", staff_only=True),
]


def navigation(request) -> dict:
    """Template context: the modules, each with its URL (or None while not built / not installed)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    for item in MODULES:
        if item.staff_only and not user.is_staff:
            continue
        url = None
        if item.url_name:
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                url = None
        items.append(
            {
                "label": item.label,
                "url": url,
                "requirement": item.requirement,
                "active": bool(url) and request.path.startswith(url),
            }
        )
    return {"nav_items": items}
