"""Reading more rows than an exchange gives in one answer: page after page, transparently.

Connectors call :func:`collect` with a function that reads one page from a cursor. A page that
brings nothing new while the cursor stays put would loop for ever: it raises instead. Each page
is logged (``xest.paging``), so an interface can show progress on long reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from xest import errors

__all__ = ["MAX_PAGES", "collect"]

T = TypeVar("T")
log = logging.getLogger("xest.paging")

MAX_PAGES = 1000  # a bound even for a pager that advances: 10^6 rows at 1000 a page


def collect(
    fetch: Callable[[Any], tuple[Sequence[T], Any]],
    *,
    first: Any,
    want: int | None,
    key: Callable[[T], Hashable],
    exchange: str,
    what: str,
) -> list[T]:
    """Rows from successive pages, without duplicates, in the order the pages give them.

    ``fetch(cursor)`` returns one page and the next cursor (None: no more pages). Stops when
    ``want`` rows are read, the pages run out, or a page brings nothing new; raises BadResponse
    when the exchange keeps answering the same page from an unchanged cursor.
    """
    rows: list[T] = []
    seen: set[Hashable] = set()
    cursor = first
    for page_number in range(1, MAX_PAGES + 1):
        page, following = fetch(cursor)
        fresh = [row for row in page if key(row) not in seen]
        seen.update(key(row) for row in fresh)
        rows.extend(fresh)
        log.info("%s: %s page %d, %d rows so far", exchange, what, page_number, len(rows))
        if want is not None and len(rows) >= want:
            break
        if following is None or not page or not fresh:
            break  # no more pages, or a page of rows already read: the end of the data
        if following == cursor:
            raise errors.BadResponse(
                f"paging {what} did not advance (cursor {cursor!r} again); stopped after "
                f"{len(rows)} rows",
                exchange=exchange,
                code="pager_stuck",
            )
        cursor = following
    else:
        raise errors.BadResponse(
            f"paging {what} went past {MAX_PAGES} pages; ask for fewer rows",
            exchange=exchange,
            code="pager_stuck",
        )
    return rows
