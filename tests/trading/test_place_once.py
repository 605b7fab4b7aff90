"""place_once: a lost answer is reconciled by client id, never blindly retried."""

from __future__ import annotations

import pytest

from xest import errors
from xest.models import Order
from xest.trading import place_once, prepare_order


class Scripted:
    """A connector whose place_order and order answers are scripted, one per call."""

    def __init__(self, sends, lookups=()):
        self.sends = list(sends)
        self.lookups = list(lookups)
        self.sent = []
        self.looked = []

    def _next(self, script, request):
        outcome = script.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome == "order":
            return _order(request["client_id"])
        return outcome

    def place_order(self, symbol, side, type, amount, price=None, **kw):
        self.sent.append(kw)
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
    c = Scripted([lost()], [lost(), lost(), lost()])
    with pytest.raises(errors.ExchangeUnavailable, match="client-id c9"):
        place_once(c, _request(client_id="c9"), sleep=_nap)
    assert len(c.sent) == 1 and len(c.looked) == 3


def test_lookup_not_supported_sends_nothing_more():
    c = Scripted([lost()], [errors.NotSupported("no lookup by client id")])
    with pytest.raises(errors.ExchangeUnavailable, match="nothing was sent again"):
        place_once(c, _request(), sleep=_nap)
    assert len(c.sent) == 1


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


def test_after_a_timeout_absence_is_confirmed_again_before_resending():
    waits = []
    c = Scripted([errors.RequestTimeout("slow")], [errors.OrderNotFound("not yet"), "order"])
    order = place_once(c, _request(), lookup_delay=0, timeout_settle=1.5, sleep=waits.append)
    assert order.id == "O1" and len(c.sent) == 1 and waits == [1.5]


def test_a_stale_timestamp_is_retried_once_at_once():
    c = Scripted([errors.InvalidNonce("-1021"), "order"])
    assert place_once(c, _request(), sleep=_nap).id == "O1"
    assert len(c.sent) == 2 and c.looked == []
    c = Scripted([errors.InvalidNonce("-1021"), errors.InvalidNonce("-1021")])
    with pytest.raises(errors.InvalidNonce):
        place_once(c, _request(), sleep=_nap)
    assert len(c.sent) == 2
