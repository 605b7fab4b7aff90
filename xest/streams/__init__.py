"""Streams: exchange feeds over websockets, consumed in threads (no asyncio asked of users).

A connector declares the streams it offers (``Connector.streams``: ``ticker``, ``book``,
``trades``, ``orders``, ``balances``) and builds a :class:`Feed` for each: the exchange's
dialect (subscribe messages, parsing, book sequencing). :class:`Stream` runs a feed in a
thread: it connects with ``websockets.sync.client``, reconnects with backoff after a drop or a
stale feed, resyncs by itself when a feed finds its local state wrong, and hands parsed values
to the caller as an iterator (``close()``, context manager). :class:`LocalBook` is the order
book a feed keeps; it is served only while it is known right.
"""

from xest.streams.backoff import Backoff
from xest.streams.book import LocalBook
from xest.streams.feed import Feed, Resync, StaleFeed
from xest.streams.stream import Stream

STREAM_KINDS = ("ticker", "book", "trades", "orders", "balances")
PRIVATE_STREAMS = frozenset({"orders", "balances"})

__all__ = [
    "PRIVATE_STREAMS",
    "STREAM_KINDS",
    "Backoff",
    "Feed",
    "LocalBook",
    "Resync",
    "StaleFeed",
    "Stream",
]
