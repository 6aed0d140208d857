"""Guanxi with prepared statements on PostgreSQL: server-side parameter binding plus psycopg's automatic preparation
(Django turns it off by default, prepare_threshold=None, for the sake of PgBouncer in transaction mode). A statement a
connection runs a second time is prepared, so PostgreSQL stops planning the same list and detail queries on every
request. OPTIONS only, no code change."""

from guanxi.settings import *  # noqa: F403
from guanxi.settings import DATABASES

if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
