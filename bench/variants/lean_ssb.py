"""Both: the query-count changes of variants.lean and server-side binding of variants.ssb."""

from variants.lean import *  # noqa: F403
from variants.ssb import DATABASES  # noqa: F401
