"""Guanxi with server-side parameter binding on PostgreSQL: psycopg prepares statements a connection repeats, so
PostgreSQL stops planning the same list and detail queries on every request."""

from guanxi.settings import *  # noqa: F403
from guanxi.settings import DATABASES

if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
