"""Guanxi with the proposed query-count changes (auth in one statement, lazy org unit, one-statement subtree)."""

from guanxi.settings import *  # noqa: F403
from guanxi.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "variants.apps.PatchesConfig"]
BENCH_PATCHES = ["auth_one_query", "scope_unit_lazily", "subtree_one_query"]
