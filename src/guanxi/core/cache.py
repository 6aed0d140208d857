"""The Redis cache, tolerant of Redis being down: the web app keeps serving without it.

What Guanxi keeps in the cache is an optimisation or a soft limit (cached API principals, login-failure counters), so
while Redis cannot be reached a read is a miss and a write is skipped, with a warning in the log; nothing fails.
Consequences during an outage: every API request rebuilds its principal (slower), and login failures are not counted
(the throttle is off until Redis is back: availability is chosen over the soft limit). Short socket timeouts keep a
dead Redis from stalling requests.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_WARN_EVERY_SECONDS = 30.0


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0

    def __init__(self, server, params):
        options = params.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 1)
        super().__init__(server, params)

    def _down(self, exc: Exception, default=None):
        now = time.monotonic()
        if now - ResilientRedisCache._last_warning > _WARN_EVERY_SECONDS:
            ResilientRedisCache._last_warning = now
            logger.warning("Redis cache unavailable, serving without it: %s", exc)
        return default

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except _DOWN as exc:
            return self._down(exc, False)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _DOWN as exc:
            return self._down(exc, default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except _DOWN as exc:
            return self._down(exc)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except _DOWN as exc:
            return self._down(exc, False)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _DOWN as exc:
            return self._down(exc, False)

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except _DOWN as exc:
            return self._down(exc, {})

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except _DOWN as exc:
            return self._down(exc, False)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _DOWN as exc:
            self._down(exc)
            raise ValueError("cache unavailable") from exc  # callers treat it as a missing key

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except _DOWN as exc:
            return self._down(exc, list(data))

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except _DOWN as exc:
            return self._down(exc)

    def clear(self):
        try:
            return super().clear()
        except _DOWN as exc:
            return self._down(exc, False)
