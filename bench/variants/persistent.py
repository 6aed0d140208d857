"""Guanxi with persistent SQLite connections only (CONN_MAX_AGE = 60 instead of 0); no other change."""

from guanxi.settings import *  # noqa: F403
from guanxi.settings import DATABASES

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 60
