"""The storage seam: where the transport keeps what processes share.

Four kinds of shared state sit behind one small interface, :class:`Store`:

- the response cache (public answers with a TTL, and the single-flight lock of a miss),
- the rate limiter's budgets and the exchange's verdicts (:class:`~xest.http.limits.LimitState`),
- nonce sources (strictly increasing per API key),
- the executed-quote registry (a quote id claimed once, whoever tries).

Two stores exist. The **directory store** (the default) keeps them in files under
``XEST_CACHE_DIR``: every process of one machine shares them. The **Redis store** keeps them in
a Redis server, so processes on several machines share one budget, one nonce sequence and one
cache; it is chosen by ``XEST_STORE=redis://host:port/db`` or by the config file::

    [store]
    url = "redis://10.0.0.5:6379/0"

Nothing above the transport knows which store is in use.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from xest import errors
from xest.http.limits import LimitState

ENV = "XEST_STORE"


def owner() -> str:
    """This process, as the owner of a claim (a forked child is another owner)."""
    global _owner
    pid = os.getpid()
    if _owner is None or _owner[0] != pid:
        _owner = (pid, f"{pid}-{os.urandom(8).hex()}")
    return _owner[1]


_owner: tuple[int, str] | None = None


class ExecutedQuotes:
    """The quotes of one exchange and API key that were sent for execution, by any process."""

    def claim(self, quote_id: str) -> bool:
        """Mark ``quote_id`` as being executed by this process; False if another process
        already did (True again for this process: it may re-send after confirming that its
        lost acceptance made no order)."""
        raise NotImplementedError

    def release(self, quote_id: str) -> None:
        """Undo a claim whose acceptance provably never left (so it may be tried again)."""
        raise NotImplementedError

    def claimed(self, quote_id: str) -> bool:
        raise NotImplementedError


class SendOrder:
    """A lock per API key held from drawing a nonce until the request's answer is in, so that
    requests reach the exchange in nonce order from every process (and machine) of the store.
    ``acquire`` may raise StoreUnavailable; ``release`` never raises."""

    def acquire(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class Store:
    """What the transport needs from shared storage (see the module's docstring)."""

    kind = "?"

    def describe(self) -> str:
        """Where the state lives, for messages and ``xest cache info`` (no password)."""
        raise NotImplementedError

    def responses(self) -> Any:
        """The response cache: ``get``, ``set``, ``single_flight``, ``info``, ``clear``."""
        raise NotImplementedError

    def limits(self, exchange: str, host: str) -> LimitState:
        raise NotImplementedError

    def nonces(self, api_key: str, exchange: str | None = None) -> Callable[[], int]:
        raise NotImplementedError

    def send_order(self, api_key: str, exchange: str | None = None) -> SendOrder:
        raise NotImplementedError

    def executed_quotes(self, exchange: str, api_key: str) -> ExecutedQuotes:
        raise NotImplementedError

    def restrictions(self, now: float) -> list[dict[str, Any]]:
        """Bans and Retry-After waits in force at ``now``, for every exchange."""
        raise NotImplementedError

    def clear_restrictions(self) -> int:
        """Lift every recorded ban and wait; returns how many exchanges had one."""
        raise NotImplementedError


def key_tag(api_key: str, purpose: str = "store") -> str:
    """A short, non-reversible name for an API key: stores never hold the key itself."""
    return hashlib.sha256(f"xest-{purpose}\0{api_key}".encode()).hexdigest()[:32]


def redacted(url: str) -> str:
    """``url`` without its password (a Redis URL may carry one)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def configured() -> tuple[str, str]:
    """(the store URL asked for, where it was asked): ``XEST_STORE``, else the config file's
    ``[store] url``, else ``""`` (the directory store)."""
    value = os.environ.get(ENV, "").strip()
    if value:
        return value, ENV
    from xest.accounts import config_path

    path = config_path()
    try:
        data = path.read_bytes()
    except OSError:
        return "", ""
    import tomllib

    try:
        table = tomllib.loads(data.decode("utf-8")).get("store", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return "", ""  # the accounts loader reports a broken file in its own words
    url = table.get("url", "") if isinstance(table, dict) else ""
    if not isinstance(url, str):
        raise errors.ConfigError(f'{path}: [store] url must be a string like "redis://host:6379/0"')
    return url.strip(), f"[store] url in {path}"


_current: dict[tuple[str, str], Store] = {}
_current_lock = threading.Lock()


def current() -> Store:
    """The store this process uses now (resolved from the environment and the config file;
    one instance per setting, so a test or tool that switches directories gets a fresh one)."""
    from xest.http.storage import cache_dir

    url, source = configured()
    slot = (url, str(cache_dir()) if not url else "")
    store = _current.get(slot)
    if store is not None:
        return store
    with _current_lock:
        store = _current.get(slot)
        if store is None:
            store = _current[slot] = open_store(url, source)
            while len(_current) > 16:  # tests switch directories often
                _current.pop(next(iter(_current)))
        return store


def open_store(url: str, source: str = ENV) -> Store:
    """The store for ``url`` ("" or ``dir:PATH`` for a directory, ``redis://`` or
    ``rediss://`` for Redis). A Redis store that cannot be reached raises ConfigError."""
    if not url or url in ("dir", "directory"):
        from xest.http.dirstore import DirectoryStore

        return DirectoryStore()
    scheme = urlsplit(url).scheme
    if scheme in ("dir", "file"):
        from xest.http.dirstore import DirectoryStore

        path = url.split(":", 1)[1].removeprefix("//")
        return DirectoryStore(Path(path).expanduser())
    if scheme in ("redis", "rediss", "unix"):
        from xest.http.redis_store import RedisStore

        return RedisStore(url, source)
    raise errors.ConfigError(
        f"{source}={redacted(url)!r} is not a store xest knows: give redis://host:port/db "
        f"for a shared Redis, or unset {ENV} for the directory store"
    )


def reset() -> None:
    """Forget the stores opened so far (tests)."""
    with _current_lock:
        _current.clear()
