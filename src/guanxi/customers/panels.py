"""The customer 360 view (客户统一视图) as a registry of panels.

Each app registers its panels here (activities, deals, tickets, bills … later) without `customers` importing them.
A panel's `data(user=…, customer=…)` returns JSON-ready data, already scoped and masked: the 360 page renders it with
the panel's template and `GET /api/v1/customers/{id}/overview` returns it under the panel's key.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise

from guanxi.core.selectors import preference_get

PREFERENCE_KEY = "customer360.panels"


@dataclass(frozen=True)
class Panel:
    key: str
    label: str | Promise
    data: Callable[..., dict | list]
    template: str
    order: int = 100


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    _panels[panel.key] = panel


def all_panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.key))


def chosen_panels(user) -> list[Panel]:
    """The user's panels in the user's order (个性化数据显示); all panels in default order until they choose."""
    keys = preference_get(user=user, key=PREFERENCE_KEY)
    if not isinstance(keys, list):
        return all_panels()
    return [_panels[key] for key in keys if key in _panels]


def panel_data(*, user, customer, panels: list[Panel]) -> dict:
    return {panel.key: panel.data(user=user, customer=customer) for panel in panels}
