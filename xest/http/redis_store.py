"""The Redis store: the shared state of processes on several machines, in one Redis server.

Chosen by ``XEST_STORE=redis://host:port/db`` (or ``[store] url`` in the config file). Every key
starts with ``xest:1:<exchange>:``; anything tied to an API key is named by a hash of the key,
never the key itself. What each operation does:

- cache entries are ``SET ... PX ttl`` (JSON, not pickle: nothing executable comes back from a
  shared server); a miss takes a lock ``SET NX PX`` that expires on its own, so a crashed
  leader never blocks the others for long;
- rate-limit budgets and verdicts are one hash per exchange and host, changed only by Lua
  scripts (read, decide and write in one atomic step);
- nonces are ``max(last + 1, clock)`` in one Lua script, so a Redis restarted empty (or a key
  moved from the directory store) never goes backwards;
- executed quotes are ``SET NX EX``.

Failures: unreachable when the store is opened → ConfigError naming ``XEST_STORE``. Lost while
running → cached reads go on without the cache (and with this process's own limiter state),
after one warning; signed calls (a nonce, a per-key budget, a quote claim) raise
StoreUnavailable before anything is sent.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from xest import errors
from xest.http import store as seam
from xest.http.endpoint import DecayingCounter, RateLimitPolicy
from xest.http.limits import LimitState, Reading
from xest.http.nonce import SCALE
from xest.http.store import ENV, ExecutedQuotes, SendOrder, Store, key_tag, redacted

log = logging.getLogger("xest.http")

PREFIX = "xest:1:"
LIMITS_TTL = 2 * 86400  # seconds a limiter hash outlives its last use (bans are clamped below)
EXECUTED_TTL = 7 * 86400
ORDER_TTL = 60.0  # seconds a send-order lock lives if its holder dies (longer than any call)
FETCH_LOCK = 30.0  # seconds a cache miss's fetch lock lives unless released (a crashed leader)
RETRY_DOWN = 1.0  # seconds reads skip a Redis found down before trying it again

_SPEND = """
local now = tonumber(ARGV[1])
if #ARGV > 7 and redis.call('EXISTS', KEYS[1]) == 0 then
  -- Gone (a Redis restarted empty): carry on from what this process last saw, rather than
  -- hand out a fresh budget the exchange is not giving.
  for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
local h = redis.call('HMGET', KEYS[1], 'ban_until', 'ban_status', 'blocked_until', ARGV[2])
local ban = tonumber(h[1]) or 0
local status = tonumber(h[2]) or 0
local blocked = tonumber(h[3]) or 0
local function out(wait)
  return {string.format('%.17g', ban), tostring(status), string.format('%.17g', blocked), wait,
          redis.call('HGET', KEYS[1], ARGV[2]) or ''}
end
if ban > now or blocked > now then return out('0') end
local a, b = nil, nil
if h[4] then
  local sp = string.find(h[4], ' ')
  a = tonumber(string.sub(h[4], 1, sp - 1))
  b = tonumber(string.sub(h[4], sp + 1))
end
local cost = tonumber(ARGV[6])
local wait = '0'
if ARGV[3] == 'd' then
  local maximum, decay = tonumber(ARGV[4]), tonumber(ARGV[5])
  local level = a or 0
  local since = b or now
  -- Time never moves back in a bucket (see xest.http.limits.spend_pair).
  if since > now then now = since end
  level = math.max(0, level - decay * (now - since))
  if level + cost <= maximum or level == 0 then
    redis.call('HSET', KEYS[1], ARGV[2], string.format('%.17g %.17g', level + cost, now))
  elseif decay <= 0 then
    wait = 'inf'
  else
    wait = string.format('%.17g', (level + cost - maximum) / decay)
  end
else
  local limit, window = tonumber(ARGV[4]), tonumber(ARGV[5])
  local start = math.floor(now / window) * window
  local used = b or 0
  if a and a > start then start = a end
  if (a or start) ~= start then used = 0 end
  if used + cost <= limit or used == 0 then
    redis.call('HSET', KEYS[1], ARGV[2], string.format('%.17g %.17g', start, used + cost))
  else
    wait = string.format('%.17g', math.max(start + window - now, 0.001))
  end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
return out(wait)
"""

_OBSERVE = """
local now = tonumber(ARGV[1])
for i = 2, #ARGV, 3 do
  local field, window, used = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local start = math.floor(now / window) * window
  local base = 0
  local old = redis.call('HGET', KEYS[1], field)
  if old then
    local sp = string.find(old, ' ')
    local old_start = tonumber(string.sub(old, 1, sp - 1))
    if old_start > start then start = old_start end
    if old_start == start then base = tonumber(string.sub(old, sp + 1)) end
  end
  redis.call('HSET', KEYS[1], field, string.format('%.17g %.17g', start, math.max(base, used)))
end
return 1
"""

# KEYS[1] hash; ARGV: field, until, [status field, status]: raise a verdict, never lower it.
_VERDICT = """
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0
local til = tonumber(ARGV[2])
if til > old then
  redis.call('HSET', KEYS[1], ARGV[1], string.format('%.17g', til))
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], ARGV[3], ARGV[4]) end
else
  til = old
end
redis.call('EXPIRE', KEYS[1], math.max(tonumber(ARGV[5]), math.ceil(til - tonumber(ARGV[6]))))
return string.format('%.17g', til)
"""

# The nonce: above the last one, and above the clock (in the directory store's scale). Nonces
# pass 2**53, beyond Lua's numbers: compared as decimal strings, incremented by INCR (64-bit).
_NONCE = """
local last = redis.call('GET', KEYS[1])
local floor = ARGV[1]
if (not last) or #floor > #last or (#floor == #last and floor > last) then
  redis.call('SET', KEYS[1], floor)
  return floor
end
redis.call('INCR', KEYS[1])
return redis.call('GET', KEYS[1])
"""

# A cache read that, on a miss, takes the key's fetch lock in the same round trip:
# {0, answer} | {1} (the lock is ours) | {2} (someone else is fetching).
_GET_OR_LOCK = """
local v = redis.call('GET', KEYS[1])
if v then return {0, v} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {2}
"""

# Store an answer and let go of its fetch lock, in one round trip.
_SET_RELEASE = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""

# Claim a quote for this process (or find it already ours): 1, else 0.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _connection_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.ConnectionError, redis.TimeoutError, OSError)


class RedisStore(Store):
    kind = "redis"

    def __init__(self, url: str, source: str = ENV) -> None:
        self.url = url
        self.source = source
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            raise errors.ConfigError(
                f"{self._named()} asks for a Redis store, but the redis package is not "
                'installed: pip install "redis>=5"'
            ) from None
        try:
            self.client = redis.Redis.from_url(
                url,
                socket_connect_timeout=1.0,
                socket_timeout=2.0,
                # One attempt: callers decide (a read goes on without the cache, a signed
                # call stops); redis-py's own retries would only add seconds of waiting.
                retry=Retry(NoBackoff(), 0),
                decode_responses=False,
            )
            self.client.ping()
        except ValueError as exc:
            raise errors.ConfigError(f"{self._named()} is not a Redis URL ({exc})") from None
        except (redis.RedisError, OSError) as exc:  # ConnectionError and TimeoutError too
            raise errors.ConfigError(
                f"{self._named()}: cannot reach Redis ({_reason(exc)}); start the server, fix "
                f"the address, or unset {ENV} to use the directory store of this machine"
            ) from None
        self._scripts = {
            name: self.client.register_script(text)
            for name, text in (
                ("spend", _SPEND),
                ("observe", _OBSERVE),
                ("verdict", _VERDICT),
                ("nonce", _NONCE),
                ("release", _RELEASE),
                ("claim", _CLAIM),
                ("get_or_lock", _GET_OR_LOCK),
                ("set_release", _SET_RELEASE),
            )
        }
        self._down_until = 0.0  # reads skip Redis until then, after a failure
        self._warned = False
        self._lock = threading.Lock()

    def _named(self) -> str:
        where = f"{ENV}=" if self.source == ENV else f"{self.source}: "
        return f"{where}{redacted(self.url)}"

    def describe(self) -> str:
        return f"redis {redacted(self.url)}"

    # -- failures ------------------------------------------------------------------------------

    def available(self) -> bool:
        """False while a recent failure says Redis is down (reads skip it for a second)."""
        return time.monotonic() >= self._down_until

    def lost(self, exc: BaseException, doing: str) -> None:
        """Note a failure: warn once per outage, and let reads skip Redis for a while."""
        with self._lock:
            self._down_until = time.monotonic() + RETRY_DOWN
            if self._warned:
                return
            self._warned = True
        log.warning(
            "the Redis store %s is unreachable (%s, while %s): reads go on without the shared "
            "cache, signed calls stop until it is back",
            redacted(self.url),
            _reason(exc),
            doing,
        )

    def back(self) -> None:
        if self._warned:
            with self._lock:
                if self._warned:
                    self._warned = False
                    log.warning("the Redis store %s is reachable again", redacted(self.url))

    def unavailable(self, exc: BaseException, what: str) -> errors.StoreUnavailable:
        self.lost(exc, what)
        return errors.StoreUnavailable(
            f"the shared store ({self._named()}) is unreachable ({_reason(exc)}), so xest "
            f"will not {what} (that could repeat a nonce or an execution on another machine); "
            "nothing was sent: retry when Redis is back"
        )

    def call(self, what: str, fn: Callable[[], Any]) -> Any:
        """Run a Redis operation a signed call depends on: StoreUnavailable if it fails (at
        once, without trying, within a second of the last failure)."""
        if not self.available():
            raise errors.StoreUnavailable(
                f"the shared store ({self._named()}) was unreachable a moment ago, so xest "
                f"will not {what} (that could repeat a nonce or an execution on another "
                "machine); nothing was sent: retry when Redis is back"
            )
        try:
            result = fn()
        except _connection_errors() as exc:
            raise self.unavailable(exc, what) from None
        self.back()
        return result

    def script(self, name: str) -> Any:
        return self._scripts[name]

    # -- the seam ------------------------------------------------------------------------------

    def responses(self) -> RedisResponses:
        return RedisResponses(self)

    def limits(self, exchange: str, host: str) -> LimitState:
        digest = hashlib.sha256(host.encode()).hexdigest()[:16]
        return RedisLimits(self, f"{PREFIX}{exchange}:lim:{digest}", f"{exchange} {host}")

    def nonces(self, api_key: str, exchange: str | None = None) -> Callable[[], int]:
        return RedisNonces(self, f"{PREFIX}{exchange or '*'}:nonce:{key_tag(api_key, 'nonce')}")

    def send_order(self, api_key: str, exchange: str | None = None) -> SendOrder:
        return RedisOrder(self, f"{PREFIX}{exchange or '*'}:order:{key_tag(api_key, 'nonce')}")

    def executed_quotes(self, exchange: str, api_key: str) -> ExecutedQuotes:
        return RedisExecuted(self, f"{PREFIX}{exchange}:quote:{key_tag(api_key, 'quotes')}:")

    def restrictions(self, now: float) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for key in self.call("list bans", lambda: list(self.client.scan_iter(f"{PREFIX}*:lim:*"))):
            values = self.call(
                "read bans",
                functools.partial(self.client.hmget, key, "meta", "ban_until", "blocked_until"),
            )
            meta = (values[0] or b"").decode(errors="replace")
            exchange, _, host = meta.partition(" ")
            for kind, raw in (("banned", values[1]), ("waiting", values[2])):
                until = float(raw or 0)
                if until > now:
                    found.append(
                        {"exchange": exchange, "host": host or "?", "kind": kind, "until": until}
                    )
        return found

    def clear_restrictions(self) -> int:
        cleared = 0
        for key in self.call("list bans", lambda: list(self.client.scan_iter(f"{PREFIX}*:lim:*"))):
            removed = self.call(
                "clear bans",
                functools.partial(
                    self.client.hdel, key, "ban_until", "ban_status", "blocked_until"
                ),
            )
            cleared += bool(removed)
        return cleared


class RedisLimits(LimitState):
    def __init__(self, store: RedisStore, key: str, meta: str) -> None:
        self.store, self.key = store, key
        self.client = store.client
        # What this process last saw of the hash, to re-seed it if Redis comes back empty.
        self._seen: dict[str, str] = {"meta": meta}
        try:  # for `xest cache info`; a store down now is handled by each operation
            self.client.hset(key, "meta", meta)
        except _connection_errors() as exc:
            store.lost(exc, "recording the limiter")

    def header(self) -> tuple[float, int, float]:
        values = self.store.call(
            "read the exchange's verdicts",
            lambda: self.client.hmget(self.key, "ban_until", "ban_status", "blocked_until"),
        )
        return float(values[0] or 0), int(float(values[1] or 0)), float(values[2] or 0)

    def spend(
        self, bucket: str, policy: RateLimitPolicy, cost: float, now: float
    ) -> tuple[float, int, float, float]:
        if isinstance(policy, DecayingCounter):
            args = ("d", repr(float(policy.maximum)), repr(float(policy.decay)))
        else:
            args = ("w", repr(float(policy.limit)), repr(float(policy.window)))
        seed = [x for item in self._seen.items() for x in item]
        field = f"b:{bucket}"
        result = self.store.call(
            "spend rate-limit budget",
            lambda: self.store.script("spend")(
                keys=[self.key],
                args=[repr(now), field, *args, repr(float(cost)), LIMITS_TTL, *seed],
            ),
        )
        ban, status, blocked, wait, pair = (
            x.decode() if isinstance(x, bytes) else x for x in result
        )
        seen = self._seen
        if pair:
            seen[field] = pair
        if float(ban) or float(blocked):
            seen.update(ban_until=ban, ban_status=status, blocked_until=blocked)
        else:
            for name in ("ban_until", "ban_status", "blocked_until"):
                seen.pop(name, None)
        return float(ban), int(float(status)), float(blocked), float(wait)

    def observe(self, readings: Sequence[Reading], now: float) -> None:
        args: list[Any] = [repr(now)]
        for bucket, window, used in readings:
            args += [f"b:{bucket}", repr(float(window)), repr(float(used))]
        self.store.call(
            "record used weight",
            lambda: self.store.script("observe")(keys=[self.key], args=args),
        )

    def _verdict(self, fields: list[Any], until: float) -> float:
        now = time.time()
        result = self.store.call(
            "record the exchange's verdict",
            lambda: self.store.script("verdict")(
                keys=[self.key], args=[*fields[:1], repr(until), *fields[1:], LIMITS_TTL, now]
            ),
        )
        return float(result)

    def block(self, until: float) -> float:
        until = self._verdict(["blocked_until", "", ""], until)
        self._seen["blocked_until"] = repr(until)
        return until

    def ban(self, until: float, status: int) -> float:
        until = self._verdict(["ban_until", "ban_status", str(status)], until)
        self._seen.update(ban_until=repr(until), ban_status=str(status))
        return until

    def clear(self) -> None:
        self.store.call(
            "clear the exchange's verdicts",
            lambda: self.client.hdel(self.key, "ban_until", "ban_status", "blocked_until"),
        )

    def buckets(self) -> dict[str, tuple[float, float]]:
        raw = self.store.call("read the limiter", lambda: self.client.hgetall(self.key))
        found = {}
        for field, value in raw.items():
            name = field.decode()
            if name.startswith("b:"):
                a, b = value.decode().split()
                found[name[2:]] = (float(a), float(b))
        return found


class RedisNonces:
    """Callable: one atomic script per nonce, above the last and above the clock."""

    def __init__(self, store: RedisStore, key: str) -> None:
        self.store, self.key = store, key
        self._last = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<RedisNonces {self.key.rsplit(':', 1)[-1][:8]}…>"

    def __call__(self) -> int:
        with self._lock:
            floor = max((time.time_ns() // 1000) * SCALE, self._last + 1)
            result = self.store.call(
                "draw a nonce",
                lambda: self.store.script("nonce")(keys=[self.key], args=[str(floor)]),
            )
            nonce = int(result)
            self._last = nonce
            return nonce


class RedisOrder(SendOrder):
    """The send order of one key across machines: ``SET NX PX`` with a token, released by a
    compare-and-delete script. It expires by itself after :data:`ORDER_TTL` (a holder that
    died mid-call blocks the others no longer than that)."""

    def __init__(self, store: RedisStore, key: str) -> None:
        self.store, self.key = store, key
        self._lock = threading.Lock()  # threads of this process queue here, not in Redis
        self._token = b""

    def acquire(self) -> None:
        self._lock.acquire()
        try:
            token = os.urandom(12).hex().encode()
            deadline = time.monotonic() + ORDER_TTL
            pause = 0.0005
            set_nx = self.store.client.set
            while not self.store.call(
                "order a signed request",
                lambda: set_nx(self.key, token, nx=True, px=int(ORDER_TTL * 1000)),
            ):
                if time.monotonic() > deadline:  # the holder's lock has expired meanwhile
                    deadline = time.monotonic() + ORDER_TTL
                time.sleep(pause)
                pause = min(pause * 1.5, 0.005)
            self._token = token
        except BaseException:
            self._lock.release()
            raise

    def release(self) -> None:
        try:
            self.store.script("release")(keys=[self.key], args=[self._token])
        except _connection_errors() as exc:
            self.store.lost(exc, "releasing the order of signed requests")  # it expires
        finally:
            self._token = b""
            self._lock.release()


class RedisExecuted(ExecutedQuotes):
    def __init__(self, store: RedisStore, prefix: str) -> None:
        self.store, self.prefix = store, prefix

    def _key(self, quote_id: str) -> str:
        return self.prefix + key_tag(quote_id, "quote")

    def claim(self, quote_id: str) -> bool:
        return bool(
            self.store.call(
                "execute the quote",
                lambda: self.store.script("claim")(
                    keys=[self._key(quote_id)], args=[seam.owner(), EXECUTED_TTL]
                ),
            )
        )

    def release(self, quote_id: str) -> None:
        self.store.call(
            "release the quote",
            lambda: self.store.script("release")(keys=[self._key(quote_id)], args=[seam.owner()]),
        )

    def claimed(self, quote_id: str) -> bool:
        return bool(
            self.store.call("read the quote", lambda: self.store.client.exists(self._key(quote_id)))
        )


class RedisResponses:
    """The response cache in Redis: the same methods as the directory store's ResponseCache.

    A miss costs two round trips besides the remote call: ``get`` takes the key's fetch lock in
    the same script when the answer is missing (the transport's ``single_flight`` and its
    re-check then cost nothing), and ``set`` stores the answer and releases the lock in one.
    """

    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self.client = store.client
        self._local = threading.local()  # (key, token) of the fetch lock this thread holds

    @staticmethod
    def _key(key: str) -> str:
        exchange = key.split(" ", 2)[1] if key.count(" ") >= 2 else "*"
        return f"{PREFIX}{exchange}:cache:{hashlib.sha256(key.encode()).hexdigest()[:40]}"

    def _held(self, key: str) -> str | None:
        held = getattr(self._local, "lock", None)
        return held[1] if held is not None and held[0] == key else None

    def _release(self, key: str, token: str) -> None:
        self._local.lock = None
        try:
            self.store.script("release")(keys=[self._key(key) + ":lock"], args=[token])
        except _connection_errors() as exc:
            self.store.lost(exc, "releasing a cache lock")

    def get(self, key: str) -> Any:
        if not self.store.available():
            return None
        if self._held(key) is not None:
            return None  # this thread is fetching it: nobody else stored it meanwhile
        held = getattr(self._local, "lock", None)
        if held is not None:  # a lock taken for another key and never used
            self._release(*held)
        answer_key = self._key(key)
        token = os.urandom(12).hex()
        try:
            found = self.store.script("get_or_lock")(
                keys=[answer_key, answer_key + ":lock"], args=[token, int(FETCH_LOCK * 1000)]
            )
        except _connection_errors() as exc:
            self.store.lost(exc, "reading the cache")
            return None
        self.store.back()
        if found[0] == 0:
            return _decode_answer(found[1])
        if found[0] == 1:
            self._local.lock = (key, token)
        return None

    def set(self, key: str, answer: Any, ttl: float) -> None:
        if not self.store.available() or ttl <= 0:
            return
        answer_key, token = self._key(key), self._held(key)
        px = max(1, int(ttl * 1000))
        try:
            if token is None:
                self.client.set(answer_key, _encode_answer(answer), px=px)
            else:
                self._local.lock = None
                self.store.script("set_release")(
                    keys=[answer_key, answer_key + ":lock"],
                    args=[_encode_answer(answer), px, token],
                )
        except _connection_errors() as exc:
            self.store.lost(exc, "storing in the cache")

    @contextmanager
    def single_flight(self, key: str, timeout: float) -> Iterator[bool]:
        """Hold the key's fetch lock in Redis for one remote call (taken already by a missing
        ``get`` of this thread, else waited for). It expires by itself (a crashed leader
        blocks nobody for long); waiters poll for the answer or the lock's end."""
        if not self.store.available():
            yield False
            return
        token = self._held(key)
        if token is not None:
            try:
                yield True
            finally:
                if self._held(key) == token:  # no answer stored: let the others fetch
                    self._release(key, token)
            return
        lock = self._key(key) + ":lock"
        token = os.urandom(12).hex()
        ttl = max(1, math.ceil(timeout * 1000))
        deadline = time.monotonic() + timeout
        pause = 0.002
        outcome: bool | None = False  # True: the lock is ours; None: the leader's answer is in
        try:
            while not (outcome := bool(self.client.set(lock, token, nx=True, px=ttl))):
                # Someone else is fetching: the answer appears, or their lock goes away.
                if self.client.exists(self._key(key)):
                    outcome = None
                    break
                if time.monotonic() >= deadline:
                    break
                time.sleep(pause)
                pause = min(pause * 1.5, 0.02)
        except _connection_errors() as exc:
            self.store.lost(exc, "taking a cache lock")
        try:
            if outcome and self.client.exists(self._key(key)):
                # The lock was free because the leader had just stored its answer.
                self.store.script("release")(keys=[lock], args=[token])
                outcome = None
        except _connection_errors() as exc:
            self.store.lost(exc, "taking a cache lock")
            outcome = False
        if not outcome:
            # "True" tells the caller to look in the cache again before calling.
            yield outcome is None
            return
        self._local.lock = (key, token)
        try:
            yield True
        finally:
            if self._held(key) == token:
                self._release(key, token)

    def info(self) -> Any:
        from xest.http.cache import CacheInfo

        keys = self.store.call("count the cache", lambda: list(self.client.scan_iter(_CACHE)))
        size = 0
        for key in keys:
            size += int(
                self.store.call("size the cache", functools.partial(self.client.strlen, key))
            )
        return CacheInfo(self.store.describe(), len(keys), size)

    def clear(self) -> int:
        keys = self.store.call("list the cache", lambda: list(self.client.scan_iter(_CACHE)))
        if not keys:
            return 0
        return int(self.store.call("clear the cache", lambda: self.client.delete(*keys)))


_CACHE = f"{PREFIX}*:cache:*"


def _encode_answer(answer: Any) -> bytes:
    return json.dumps(
        {"s": answer.status, "h": answer.headers, "t": answer.text}, separators=(",", ":")
    ).encode()


def _decode_answer(raw: bytes) -> Any:
    from xest.http.cache import CachedAnswer
    from xest.http.outcomes import decode_json

    try:
        item = json.loads(raw)
        return CachedAnswer(item["s"], item["h"], decode_json(item["t"]), item["t"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return None  # not ours, or damaged: a miss


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
