"""The largest answer xest reads, and the error past it. Apart from :mod:`xest.http.answer`
because that module needs urllib3 and a transport must be made without loading it."""

from __future__ import annotations

import os

from xest import errors

__all__ = ["DEFAULT_MAX_ANSWER", "TooLarge", "max_answer_from_env"]

DEFAULT_MAX_ANSWER = 64 * 1024 * 1024  # bytes, decompressed: Binance's exchangeInfo is ~15 MB


class TooLarge(Exception):
    """The answer passed the size limit (raised inside the reader, mapped by the transport)."""

    def __init__(self, size: int, limit: int, where: str) -> None:
        super().__init__(f"{where} {size} bytes > {limit}")
        self.size, self.limit, self.where = size, limit, where


def max_answer_from_env(default: int = DEFAULT_MAX_ANSWER) -> int:
    value = os.environ.get("XEST_MAX_ANSWER_MB")
    if not value:
        return default
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = -1
    if not 0 < megabytes <= 4096:
        raise errors.ConfigError(
            f"XEST_MAX_ANSWER_MB={value!r} is not a size: give megabytes, e.g. 64"
        )
    return int(megabytes * 1024 * 1024)
