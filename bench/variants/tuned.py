"""Every proposal that needs no schema change: variants.cached (fewer statements, auth and scope cached), prepared
statements on PostgreSQL (variants.ssb), persistent SQLite connections, and no per-request health check
(CONN_HEALTH_CHECKS costs one `SELECT 1` round trip on every request)."""

from variants.lean_persistent import *  # noqa: F403
from variants.lean_persistent import DATABASES
from variants.ssb import DATABASES as _ssb  # noqa: F401  (sets server_side_binding on the shared dict)

DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
