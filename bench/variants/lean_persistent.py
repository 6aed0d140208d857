"""variants.cached plus persistent SQLite connections (Guanxi sets CONN_MAX_AGE = 0 on SQLite, so every request opens
the file and runs its three PRAGMAs); PostgreSQL already keeps connections for 60 s."""

from variants.cached import *  # noqa: F403
from variants.cached import DATABASES

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 60
