"""What a 429 or a 418 means for every process: the wait or the ban recorded in the shared
rate-limit state, and the error the caller gets."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from xest import errors
from xest.http.endpoint import Response
from xest.http.limiter import DEFAULT_BACKOFF, DEFAULT_BAN, RateLimiter, retry_after_seconds

__all__ = ["refusal"]

log = logging.getLogger("xest.http")


def refusal(
    limiter: RateLimiter, response: Response, check: Callable[[Response], None] | None
) -> errors.RateLimited:
    """Record a 429's wait or a 418's ban for every process, and the error to raise.

    The connector's ``check`` sees the answer too: an exchange may say more than the
    headers (Binance's 418 body gives the ban's end to the millisecond), and its own words
    make the better message. The longer of the two verdicts is what every process obeys.
    """
    status, endpoint = response.status, response.endpoint
    retry_after = retry_after_seconds(response.headers)
    theirs: errors.RateLimited | None = None
    if check is not None and response.data is not None:
        try:
            check(response)
        except errors.RateLimited as exc:
            theirs = exc
        except errors.XestError:
            pass  # mapped to something else: the status decides
    now = time.time()
    if status == 418 or (theirs is not None and theirs.ban_until):
        seconds = retry_after if retry_after is not None else DEFAULT_BAN
        if theirs is not None and theirs.ban_until:
            told = theirs.ban_until - now
            # On a 418 the header's length is a floor too; the longer verdict wins.
            seconds = max(seconds, told) if status == 418 else told
        until = limiter.ban(seconds, status)
        log.warning(
            "%s: HTTP %s, this IP is banned for %.0f s; every xest process refuses calls "
            "to it until then",
            limiter.exchange,
            status,
            seconds,
        )
        if theirs is not None:
            theirs.ban_until, theirs.retry_after = until, max(until - now, 0.0)
            return theirs
        return errors.RateLimited(
            f"{limiter.host} banned this IP for {seconds:.0f} s (HTTP {status}, too many "
            "requests); xest refuses every call to it, from every process, until the ban ends",
            exchange=limiter.exchange,
            code=status,
            retry_after=seconds,
            ban_until=until,
        )
    seconds = retry_after if retry_after is not None else DEFAULT_BACKOFF
    if theirs is not None and theirs.retry_after:
        seconds = max(seconds, theirs.retry_after)
    limiter.block(seconds)
    log.warning(
        "%s %s: HTTP 429, every xest process waits %.2f s before its next call to %s",
        endpoint.method,
        endpoint.path,
        seconds,
        limiter.exchange,
    )
    if theirs is not None:
        theirs.retry_after = seconds
        return theirs
    return errors.RateLimited(
        f"{limiter.host} says too many requests (HTTP 429); wait {seconds:g} s before the next "
        "call (xest makes every process wait)",
        exchange=limiter.exchange,
        code=status,
        retry_after=seconds,
    )
