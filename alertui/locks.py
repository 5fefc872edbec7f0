"""A Redis lock that keeps two sync runs (beat, a second worker, `manage.py sync`) apart."""

from contextlib import contextmanager

import redis
from django.conf import settings


class LockUnavailable(Exception):
    """Redis could not be reached, so we cannot know whether another run is going on."""


@contextmanager
def exclusive(name: str, timeout: int = 300):
    """Yield True while holding the lock, False when another run holds it.

    The lock expires after `timeout` seconds, so a run killed mid-way does not block the
    next ones for longer than that.
    """
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=3)
    lock = client.lock(f"alertui:lock:{name}", timeout=timeout, blocking=False)
    try:
        acquired = lock.acquire()
    except redis.RedisError as e:
        raise LockUnavailable(f"Redis is unreachable ({e}); not running {name}") from e
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except redis.RedisError:
                pass  # it expires by itself
