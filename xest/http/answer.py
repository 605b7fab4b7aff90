"""Reading an answer off the wire, bounded in size and time.

The connection pool's connections attach themselves to the request's
:class:`~xest.http.deadline.Deadline`, so a server that trickles its answer is cut off when
the deadline passes. The body is read in chunks, counted on the wire and after decompression
(gzip and deflate are decoded here, under the limit; a 1 MB gzip bomb never becomes 1 GB), and
refused with a BadResponse past either limit.
"""

from __future__ import annotations

import zlib

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from xest.http.answer_size import DEFAULT_MAX_ANSWER, TooLarge, max_answer_from_env
from xest.http.deadline import current

__all__ = ["DEFAULT_MAX_ANSWER", "TooLarge", "max_answer_from_env", "new_pool", "read_body"]


class _DeadlineConnection(HTTPConnection):
    def request(self, *args, **kwargs):
        deadline = current()
        if deadline is not None:
            deadline.attach(self)
        return super().request(*args, **kwargs)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def request(self, *args, **kwargs):
        deadline = current()
        if deadline is not None:
            deadline.attach(self)
        return super().request(*args, **kwargs)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _DeadlineConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def new_pool(maxsize: int) -> urllib3.PoolManager:
    """A pool keeping ``maxsize`` connections per host, each bound by its request's deadline."""
    manager = urllib3.PoolManager(num_pools=16, maxsize=maxsize, block=False, retries=False)
    manager.pool_classes_by_scheme = {"http": _Pool, "https": _HTTPSPool}
    return manager


def read_body(raw: urllib3.BaseHTTPResponse, limit: int) -> bytes:
    """The whole body, decompressed; TooLarge past ``limit`` bytes (on the wire or decoded).

    A blocking read is fine here: the request's deadline shuts the socket down under it. A bad
    compressed stream raises ValueError; an unknown encoding too (none was asked for).
    """
    headers = raw.headers
    length = headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLarge(int(length), limit, "announced")
    if length is not None and length.isdigit():
        # Announced and within the limit: http.client never reads past Content-Length, so a
        # plain read is bounded already (and skips urllib3's buffered read-up-to-amount loop).
        wire = raw.read(decode_content=False)
    else:
        wire = raw.read(limit + 1, decode_content=False)
    if len(wire) > limit:
        raise TooLarge(len(wire), limit, "on the wire")
    if length is not None and length.isdigit() and len(wire) < int(length):
        # Cut short (the connection dropped, or the deadline shut it): a network failure.
        raise urllib3.exceptions.ProtocolError(f"answer cut short: {len(wire)} of {length} bytes")
    encoding = headers.get("Content-Encoding")
    if encoding is None:
        return wire
    encoding = encoding.strip().lower()
    if encoding in ("identity", ""):
        return wire
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    inflate = zlib.decompressobj(47)  # gzip or zlib header, detected
    try:
        # At most one byte past the limit comes out; input is left over only then.
        out = inflate.decompress(wire, limit + 1)
        if len(out) <= limit and not inflate.unconsumed_tail:
            out += inflate.flush()
    except zlib.error as exc:
        raise ValueError(f"bad {encoding} stream: {exc}") from None
    if len(out) > limit or inflate.unconsumed_tail:
        raise TooLarge(max(len(out), limit + 1), limit, "decompressed")
    return out
