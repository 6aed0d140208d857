"""variants.lean plus the authenticated token, roles and record scope cached for 30 s (patches.auth_cached)."""

from variants.lean import *  # noqa: F403

BENCH_PATCHES = ["scope_unit_lazily", "subtree_one_query", "auth_cached"]
