"""Guanxi with the two statement-saving changes that change no behaviour: the org unit is read only for team and
branch scopes, and a region or category subtree is one statement."""

from guanxi.settings import *  # noqa: F403
from guanxi.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "variants.apps.PatchesConfig"]
BENCH_PATCHES = ["scope_unit_lazily", "subtree_one_query"]
