"""The process's one connection pool: keep-alive connections per host, sized for the
process's concurrency, fresh after a fork, their log lines redacted. urllib3 (with ssl) loads
when the pool is first made, not when xest is imported."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

from xest import errors
from xest.http.redact import redact
from xest.http.storage import fork_generation

if TYPE_CHECKING:
    import urllib3
    from urllib3.util.retry import Retry

__all__ = ["DEFAULT_MAX_CONNECTIONS", "no_retries", "pool", "pool_lock", "pool_size"]


class _RedactingFilter(logging.Filter):
    """urllib3 logs request lines at DEBUG, query string included: Binance signs GETs there."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


for _name in ("urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_RedactingFilter())

pool_lock = threading.Lock()
_pool: urllib3.PoolManager | None = None
_pool_generation = -1
# Connections kept open per host. A connection in use beyond it is closed when it comes back
# ("pool is full, discarding connection"), so this is the concurrency a client can sustain
# without reconnecting: XEST_MAX_CONNECTIONS, else DEFAULT_MAX_CONNECTIONS, raised by any
# Transport(max_connections=N). Idle slots cost nothing: connections open on demand.
DEFAULT_MAX_CONNECTIONS = 64
_pool_size = 0


def pool() -> urllib3.PoolManager:
    """The process's one connection pool (thread safe, keep-alive; fresh after a fork, so a
    child never shares its parent's sockets)."""
    global _pool, _pool_generation
    if _pool is not None and _pool_generation == fork_generation():
        return _pool
    with pool_lock:
        if _pool is None or _pool_generation != fork_generation():
            from xest.http.answer import new_pool  # urllib3, on first use

            _pool = new_pool(pool_size())  # its connections obey each request's whole-call deadline
            _pool_generation = fork_generation()
        return _pool


def pool_size(at_least: int = 0) -> int:
    """Connections kept per host; ``at_least`` raises it for the whole process (the pool is
    made anew at that size: calls under way finish on the old one)."""
    global _pool, _pool_size
    if not _pool_size:
        _pool_size = _env_count("XEST_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS)
    if at_least > _pool_size:
        _pool_size = at_least
        _pool = None
    return _pool_size


_no_retry: Retry | None = None


def no_retries() -> Retry:
    """One instance for every call (``retries=False`` would build a new Retry per request):
    total=False hands connection errors straight back to us, where the endpoint's policy
    decides."""
    global _no_retry
    if _no_retry is None:
        from urllib3.util.retry import Retry

        _no_retry = Retry(total=False, redirect=False)
    return _no_retry


def _env_count(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) <= 10_000:
        raise errors.ConfigError(f"{name}={value!r} is not a count: give a number, e.g. 64")
    return int(value)
