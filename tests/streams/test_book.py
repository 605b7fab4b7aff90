from decimal import Decimal

import pytest

from xest.streams import Backoff, LocalBook
from xest.streams.book import BookNotSynced
from xest.streams.simserver import BookOverlay, diff

D = Decimal


def test_levels_set_remove_and_truncate():
    book = LocalBook("BTC/USD", depth=2)
    book.load([("10", "1"), ("9", "2"), ("8", "3")], [("11", "1"), ("12", "2")])
    book.set("bid", "9", "0")  # removes
    book.set("ask", "10.5", "4")  # a new best ask
    book.set("ask", "99", "0")  # removing an absent level is fine
    book.truncate()
    assert book.top("bid") == [(D(10), D(1)), (D(8), D(3))]
    assert book.top("ask") == [(D("10.5"), D(4)), (D(11), D(1))]


def test_a_book_not_known_right_is_not_served():
    book = LocalBook("BTC/USD")
    book.load([("10", "1")], [("11", "1")])
    with pytest.raises(BookNotSynced, match="resyncing"):
        book.snapshot()
    book.synced = True
    assert book.snapshot(1).best_bid.price == D(10)
    book.invalidate()
    with pytest.raises(BookNotSynced):
        book.snapshot()


def test_backoff_grows_with_jitter_up_to_its_cap_and_resets():
    backoff = Backoff(first=1, cap=8)
    delays = [backoff.next() for _ in range(6)]
    for delay, ceiling in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next() <= 1


def test_simulator_diff_turns_old_levels_into_new():
    old = [(D(10), D(1)), (D(9), D(2))]
    new = [(D(10), D(3)), (D(8), D(1))]
    changes = dict(diff(old, new))
    assert changes == {D(10): D(3), D(8): D(1), D(9): D(0)}
    overlay = BookOverlay()
    overlay.set("X", "bid", D(9), D(0))
    overlay.set("X", "ask", D(11), D(5))
    assert overlay.apply("X", old, []) == ([(D(10), D(1))], [(D(11), D(5))])
