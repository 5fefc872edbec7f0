"""A Redis lock that keeps two sync runs (beat, a second worker, `manage.py sync`) apart."""

import logging
from contextlib import contextmanager

import redis
from django.conf import settings

from alertui.clients import change_bound, sync_bound

log = logging.getLogger(__name__)

# Seconds a lock outlasts the longest its holder's calls to Alertmanager or Prometheus can take
# (alertui.clients), for the database work around them: a lock must not expire while its
# holder still works, or a second run or change would start alongside it.
MARGIN = 60


def sync_lock_timeout(cluster: str | None = None) -> int:
    return lock_timeout_for(sync_bound(cluster))


def lock_timeout_for(bound: float) -> int:
    """How long a sync's lock lasts (and its task may run: alertui.sync.schedule), for calls
    that take at most `bound` seconds."""
    return max(300, int(bound) + MARGIN)


def change_lock_timeout(cluster: str | None = None) -> int:
    return max(60, int(change_bound(cluster)) + MARGIN)


class LockUnavailable(Exception):
    """Redis could not be reached, so we cannot know whether another run is going on."""


@contextmanager
def exclusive(name: str, timeout: int | None = None):
    """Yield True while holding the lock, False when another run holds it.

    The lock expires after `timeout` seconds (by default: longer than a sync's calls can
    take), so a run killed mid-way does not block the next ones for longer than that.
    """
    timeout = timeout or sync_lock_timeout()
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=3)
    lock = client.lock(f"{settings.LOCK_PREFIX}:lock:{name}", timeout=timeout, blocking=False)
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


class LockBusy(Exception):
    """Someone else held the lock for longer than we were willing to wait."""


@contextmanager
def serialized(name: str, wait: float = 20, timeout: int | None = None):
    """Wait for the lock, then hold it. Used around a change to one silence, so that two people
    acting on it at once are handled one after the other and the second sees the first's result.
    It expires after `timeout` seconds (by default: longer than a change's calls can take).

    Without Redis the change goes ahead unserialized: silence changes must keep working when
    Redis is down, and Alertmanager itself stays consistent (last write wins).
    """
    timeout = timeout or change_lock_timeout()
    # A person waits on this: a Redis that hangs costs one second per command, not five.
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    lock = client.lock(
        f"{settings.LOCK_PREFIX}:lock:{name}", timeout=timeout, blocking_timeout=wait
    )
    try:
        acquired = lock.acquire()
    except redis.RedisError as e:
        log.warning("Redis unreachable (%s); %s goes ahead without its lock", e, name)
        acquired = None
    if acquired is False:
        raise LockBusy(name)
    try:
        yield
    finally:
        if acquired:
            try:
                lock.release()
            except redis.RedisError:
                pass  # it expires by itself
