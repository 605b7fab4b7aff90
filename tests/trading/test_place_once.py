"""place_once: a lost answer is reconciled by client id, never blindly retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xest import errors
from xest.http.validity import record_window
from xest.models import Order, ServerTime
from xest.trading import place_once, prepare_order

T0 = datetime(2030, 1, 1, tzinfo=UTC)


class Scripted:
    """A connector whose place_order and order answers are scripted, one per call.

    Each placement records a validity window ending at ``T0`` (unless ``window=False``); the
    server's clock reads ``T0 - 1 s`` for the first ``open_for`` readings, then ``T0 + 1 s``."""

    exchange = "scripted"

    def __init__(self, sends, lookups=(), *, window=True, open_for=0):
        self.sends = list(sends)
        self.lookups = list(lookups)
        self.sent = []
        self.looked = []
        self.window = window
        self.open_for = open_for
        self.readings = 0

    def server_time(self):
        self.readings += 1
        later = self.readings > self.open_for
        return ServerTime(T0 + timedelta(seconds=1 if later else -1))

    def _next(self, script, request):
        outcome = script.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome == "order":
            return _order(request["client_id"])
        return outcome

    def place_order(self, symbol, side, type, amount, price=None, **kw):
        self.sent.append(kw)
        if self.window:
            record_window(T0)
        return self._next(self.sends, kw)

    def order(self, order_id=None, *, client_id=None, symbol=None):
        self.looked.append(client_id)
        return self._next(self.lookups, {"client_id": client_id})


def _order(client_id, amount="0.5"):
    return Order(
        "O1", "BTC/USD", "buy", "limit", "open", amount, price="50000", client_id=client_id
    )


def _request(**kw):
    return prepare_order(None, "buy", "limit", "0.5", "50000", symbol="BTC/USD", **kw)


def _nap(seconds):
    pass


def lost():
    return errors.ExchangeUnavailable("connection reset")


def test_answered_placement_is_sent_once():
    c = Scripted(["order"])
    order = place_once(c, _request(client_id="c1"), sleep=_nap)
    assert order.client_id == "c1" and len(c.sent) == 1 and c.looked == []


def test_lost_answer_with_order_found_is_not_sent_again():
    c = Scripted([lost()], ["order"])
    order = place_once(c, _request(client_id="c1"), sleep=_nap)
    assert order.id == "O1" and len(c.sent) == 1 and c.looked == ["c1"]


def test_lost_answer_without_order_is_sent_again_with_the_same_client_id():
    c = Scripted([errors.RequestTimeout("slow"), "order"], [errors.OrderNotFound("none")] * 2)
    order = place_once(c, _request(), sleep=_nap)
    assert len(c.sent) == 2
    assert c.sent[0]["client_id"] == c.sent[1]["client_id"] == order.client_id


def test_unanswerable_lookup_sends_nothing_more_and_names_the_client_id():
    c = Scripted([lost()], [lost()] * 200)
    with pytest.raises(errors.OrderStateUnknown, match="client-id c9") as info:
        place_once(c, _request(client_id="c9"), sleep=_nap, patience=10)
    assert len(c.sent) == 1 and len(c.looked) > 3 and info.value.client_id == "c9"


def test_lookup_not_supported_sends_nothing_more():
    c = Scripted([lost()], [errors.NotSupported("no lookup by client id")])
    with pytest.raises(errors.OrderStateUnknown, match="nothing was sent again"):
        place_once(c, _request(), sleep=_nap)
    assert len(c.sent) == 1


def test_not_found_inside_the_window_is_never_taken_for_not_placed():
    # Binance's late market order: absent at first, then it lands, still inside its window.
    c = Scripted([lost()], [errors.OrderNotFound("no")] * 5 + ["order"], open_for=5)
    assert place_once(c, _request(client_id="c1"), sleep=_nap).id == "O1"
    assert len(c.sent) == 1 and len(c.looked) == 6


def test_without_a_window_a_lost_placement_is_never_sent_again():
    c = Scripted([lost(), "order"], [errors.OrderNotFound("no")] * 500, window=False)
    with pytest.raises(errors.OrderStateUnknown, match="no known end"):
        place_once(c, _request(), sleep=_nap, patience=30)
    assert len(c.sent) == 1


def test_garbled_answers_and_odd_exceptions_are_doubts_not_failures():
    for exc in (errors.BadResponse("half a JSON body"), RecursionError("deep"), KeyError("x")):
        c = Scripted([exc], ["order"])
        assert place_once(c, _request(client_id="c1"), sleep=_nap).id == "O1"
        assert len(c.sent) == 1 and c.looked == ["c1"]


def test_attempts_are_bounded():
    c = Scripted([lost()] * 3, [errors.OrderNotFound("none")] * 3)
    with pytest.raises(errors.ExchangeUnavailable, match="was not placed: 3 attempts"):
        place_once(c, _request(), attempts=3, sleep=_nap)
    assert len(c.sent) == 3


def test_duplicate_on_a_resend_adopts_the_order_that_landed():
    # The first look-up missed the order (slow to show); the resend is refused as a duplicate.
    c = Scripted([lost(), errors.DuplicateOrder("dup")], [errors.OrderNotFound("no"), "order"])
    assert place_once(c, _request(client_id="c1"), sleep=_nap).id == "O1"
    assert len(c.sent) == 2


def test_duplicate_on_the_first_send_is_the_callers_problem():
    c = Scripted([errors.DuplicateOrder("client id in use")])
    with pytest.raises(errors.DuplicateOrder):
        place_once(c, _request(client_id="used"), sleep=_nap)
    assert c.looked == []


def test_found_order_that_is_not_ours_is_refused():
    other = _order("c1", amount="7")
    c = Scripted([lost()], [other])
    with pytest.raises(errors.DuplicateOrder, match="belongs to another order"):
        place_once(c, _request(client_id="c1"), sleep=_nap)


def test_refusals_before_handling_are_not_reconciled():
    for exc in (errors.RateLimited("429"), errors.OnMaintenance("down")):
        c = Scripted([exc])
        with pytest.raises(type(exc)):
            place_once(c, _request(), sleep=_nap)
        assert c.looked == []


def test_validation_is_retried_directly():
    c = Scripted([lost(), "order"])
    place_once(c, _request(validate=True), lookup_delay=0)
    assert len(c.sent) == 2 and c.looked == [] and c.sent[0]["validate"]


def test_lookups_wait_a_little_first_then_back_off():
    waits = []
    c = Scripted([lost()], [lost(), "order"])
    place_once(c, _request(), lookup_delay=0.2, sleep=waits.append)
    assert waits == [0.2, 0.4]


def test_the_window_is_proved_closed_by_the_exchanges_clock_before_a_resend():
    c = Scripted(
        [errors.RequestTimeout("slow"), "order"], [errors.OrderNotFound("no")] * 9, open_for=3
    )
    place_once(c, _request(), sleep=_nap)
    assert len(c.sent) == 2 and c.readings == 4 and len(c.looked) == 4


def test_a_stale_timestamp_is_retried_once_at_once():
    c = Scripted([errors.InvalidNonce("-1021"), "order"])
    assert place_once(c, _request(), sleep=_nap).id == "O1"
    assert len(c.sent) == 2 and c.looked == []
    c = Scripted([errors.InvalidNonce("-1021"), errors.InvalidNonce("-1021")])
    with pytest.raises(errors.InvalidNonce):
        place_once(c, _request(), sleep=_nap)
    assert len(c.sent) == 2
