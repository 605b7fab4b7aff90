"""A loopback server speaking Kraken's spot REST dialect, for tests and ``--sim``.

Same paths and envelopes as Kraken (``{"error": [], "result": ...}``), errors as HTTP 200 with
Kraken's error strings, private calls checked like Kraken checks them (API-Key, API-Sign, a
nonce that must increase). State: a few pairs with real precisions, a deterministic book,
balances per API key, orders that rest or fill against the book, fees.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from xest.testing.server import SimRequest, SimResponse, route
from xest.testing.state import SimBalance, SimPrice
from xest.testing.state import SimOrder as Inspected
from xest_kraken import signing
from xest_kraken.simulator import data, market
from xest_kraken.simulator.data import PairDef
from xest_kraken.simulator.engine import Account, Engine, Ids, Reject
from xest_kraken.simulator.wire import fail, ok
from xest_kraken.simulator.wire import integer as _int
from xest_kraken.simulator.ws import StreamRoutes

STATUSES = ("online", "maintenance", "cancel_only", "post_only")
INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)


class KrakenSimulator(StreamRoutes):
    """The simulated Kraken. ``demo_credentials()`` gives a funded account's key and secret."""

    exchange: ClassVar[str] = "kraken"
    signature_scheme = signing.scheme()

    def __init__(
        self, port: int = 0, *, clock_offset: float = 0.0, seed: int = 7, **options: Any
    ) -> None:
        super().__init__(port, clock_offset=clock_offset)
        self.status = "online"
        self.status_changed = self.now()
        self.pairs = data.pair_lookup()
        self.mids: dict[str, Decimal] = {p.key: p.mid for p in data.PAIRS}
        self.accounts: dict[str, Account] = {}
        self.public_fills: list[tuple[str, list]] = []
        self.engine = Engine(Ids(seed), self.public_fills)
        self.add_account(data.DEMO_KEY, data.DEMO_SECRET, data.DEMO_BALANCES)
        self.add_account(data.BOB_KEY, data.BOB_SECRET, data.BOB_BALANCES)

    # -- controls for tests and the conformance suite --------------------------------------------

    def demo_credentials(self) -> tuple[str, str]:
        """Key and secret of the first demo account (alice)."""
        return data.DEMO_KEY, data.DEMO_SECRET

    def demo_accounts(self) -> dict[str, tuple[str, str]]:
        """The funded demo accounts by name (alice, bob), each a (key, secret) pair."""
        return {"alice": self.demo_credentials(), "bob": (data.BOB_KEY, data.BOB_SECRET)}

    def add_account(
        self,
        key: str | None = None,
        secret: str | None = None,
        balances: dict[str, Any] | None = None,
        permissions: set[str] | frozenset[str] = frozenset({"query", "trade"}),
    ) -> tuple[str, str]:
        """A new API key (funded with ``balances``, Kraken asset codes); returns key, secret."""
        key = key or "sim-" + secrets.token_hex(12)
        secret = secret or base64.b64encode(secrets.token_bytes(64)).decode()
        with self.lock:
            self.accounts[key] = Account(
                key,
                secret,
                {k: Decimal(str(v)) for k, v in (balances or {}).items()},
                frozenset(permissions),
            )
        return key, secret

    def set_status(self, status: str) -> None:
        """What SystemStatus says, and how trading behaves (maintenance, cancel_only, ...)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        with self.lock:
            self.status, self.status_changed = status, self.now()

    def set_price(self, pair: str, mid: Any) -> None:
        """Move a pair's book to a new mid; resting orders it now crosses fill as makers."""
        with self.lock:
            p = self.pair(pair)
            self.mids[p.key] = Decimal(str(mid))
            self.overlay.clear(p.key)  # a new mid moves the whole book
            for account in self.accounts.values():
                self.engine.rest_crossing(account, self.book(p), self.now(), p.key)
        self.publish()

    def fill(self, txid: str, amount: Any = None) -> None:
        """Fill a resting order (all of it, or ``amount``) at its limit price, as a maker."""
        with self.lock:
            for account in self.accounts.values():
                order = account.orders.get(txid)
                if order is not None and order.status == "open" and order.price is not None:
                    vol = (
                        order.remaining
                        if amount is None
                        else min(Decimal(str(amount)), order.remaining)
                    )
                    self.engine.fill(account, order, order.price, vol, True, self.now())
                    break
            else:
                raise KeyError(f"no open limit order {txid}")
        self.publish()

    def account(self, key: str | None = None) -> Account:
        return self.accounts[key or data.DEMO_KEY]

    # -- inspection (xest.testing.state) and the base's signature checks ---------------------------

    def api_secret(self, key: str) -> str | None:
        account = self.accounts.get(key)
        return account.secret if account is not None else None

    def refuse(self, request: SimRequest, reason: str, kind: str) -> SimResponse:
        return fail("EAPI:Invalid nonce" if kind == "nonce" else "EAPI:Invalid signature")

    def inspect_prices(self) -> dict[str, SimPrice]:
        with self.lock:
            prices = {}
            for p in data.PAIRS:
                bids, asks = self.book(p)
                d = p.pair_decimals
                prices[p.key] = SimPrice(market.q(bids[0][0], d), market.q(asks[0][0], d))
            return prices

    def inspect_balances(self, key: str | None = None) -> dict[str, SimBalance]:
        with self.lock:
            account = self.account(key)
            out = {}
            for code, total in account.balances.items():
                held = Decimal(self._amount(code, account.held(code)))
                out[code] = SimBalance(Decimal(self._amount(code, total)) - held, held)
            return out

    def inspect_orders(self, key: str | None = None) -> list[Inspected]:
        statuses = {"pending": "open", "closed": "filled", "canceled": "cancelled"}
        with self.lock:
            return [
                Inspected(
                    id=o.txid,
                    market=o.pair.key,
                    side=o.side,
                    amount=o.vol,
                    filled=o.vol_exec,
                    status=statuses.get(o.status, o.status),
                    price=o.price,
                    client_id=o.cl_ord_id,
                )
                for o in self.account(key).orders.values()
            ]

    def credit(self, asset: str, amount: Any, key: str | None = None) -> None:
        with self.lock:
            balances = self.account(key).balances
            balances[asset] = balances.get(asset, Decimal(0)) + Decimal(str(amount))

    def fill_order(self, order_id: str, amount: Any = None) -> None:
        self.fill(order_id, amount)

    # -- helpers ---------------------------------------------------------------------------------

    def pair(self, name: str) -> PairDef:
        p = self.pairs.get(name.upper())
        if p is None:
            raise Reject("EQuery:Unknown asset pair")
        return p

    def book(self, p: PairDef):
        return self.overlay.apply(p.key, *market.book(p, self.mids[p.key]))

    def not_found(self, request: SimRequest) -> SimResponse:
        return fail("EGeneral:Unknown method", status=404)

    def handle(self, request: SimRequest) -> SimResponse:
        try:
            return super().handle(request)
        except Reject as exc:
            return fail(exc.text)

    # -- public ----------------------------------------------------------------------------------

    @route("GET", "/0/public/Time")
    @route("POST", "/0/public/Time")
    def time(self, request: SimRequest) -> dict:
        now = self.now()
        stamp = datetime.fromtimestamp(now, UTC)
        return ok({"unixtime": int(now), "rfc1123": stamp.strftime("%a, %d %b %y %H:%M:%S +0000")})

    @route("GET", "/0/public/SystemStatus")
    @route("POST", "/0/public/SystemStatus")
    def system_status(self, request: SimRequest) -> dict:
        stamp = datetime.fromtimestamp(self.status_changed, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return ok({"status": self.status, "timestamp": stamp})

    @route("GET", "/0/public/Assets")
    @route("POST", "/0/public/Assets")
    def assets(self, request: SimRequest) -> dict:
        wanted = request.params.get("asset")
        out = {}
        for a in data.ASSETS:
            if wanted and a.code not in wanted.split(",") and a.altname not in wanted.split(","):
                continue
            out[a.code] = {
                "aclass": "currency",
                "altname": a.altname,
                "decimals": a.decimals,
                "display_decimals": a.display_decimals,
                "status": "enabled",
            }
        if wanted and not out:
            raise Reject("EQuery:Unknown asset")
        return ok(out)

    def _pairs(self, request: SimRequest) -> list[PairDef]:
        names = request.params.get("pair")
        if not names:
            return list(data.PAIRS)
        return [self.pair(n) for n in names.split(",")]

    @route("GET", "/0/public/AssetPairs")
    @route("POST", "/0/public/AssetPairs")
    def asset_pairs(self, request: SimRequest) -> dict:
        return ok({p.key: self._pair_info(p) for p in self._pairs(request)})

    def _pair_info(self, p: PairDef) -> dict:
        return {
            "altname": p.altname,
            "wsname": p.wsname,
            "aclass_base": "currency",
            "base": p.base,
            "aclass_quote": "currency",
            "quote": p.quote,
            "lot": "unit",
            "cost_decimals": p.cost_decimals,
            "pair_decimals": p.pair_decimals,
            "lot_decimals": p.lot_decimals,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": data.FEE_SCHEDULE,
            "fees_maker": data.MAKER_SCHEDULE,
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": str(p.ordermin),
            "costmin": str(p.costmin),
            "tick_size": str(p.tick_size),
            "status": "online",
        }

    @route("GET", "/0/public/Ticker")
    @route("POST", "/0/public/Ticker")
    def ticker(self, request: SimRequest) -> dict:
        return ok({p.key: self._ticker(p) for p in self._pairs(request)})

    def _ticker(self, p: PairDef) -> dict:
        d = p.pair_decimals
        bids, asks = self.book(p)
        day, _ = market.candles(p, self.mids[p.key], self.now(), 1440, None)
        today = day[-1]
        last = self._trades(p)[-1]
        return {
            "a": [market.text(asks[0][0], d), "1", market.text(asks[0][1], 3)],
            "b": [market.text(bids[0][0], d), "1", market.text(bids[0][1], 3)],
            "c": [last[0], last[1]],
            "v": [today[6], day[-2][6]],
            "p": [today[5], day[-2][5]],
            "t": [today[7], today[7] + day[-2][7]],
            "l": [today[3], min(today[3], day[-2][3], key=Decimal)],
            "h": [today[2], max(today[2], day[-2][2], key=Decimal)],
            "o": today[1],
        }

    @route("GET", "/0/public/Depth")
    @route("POST", "/0/public/Depth")
    def depth(self, request: SimRequest) -> dict:
        p = self.pair(request.params.get("pair", ""))
        count = _int(request.params.get("count", "100"), "count", 1, 500)
        d, stamp = p.pair_decimals, int(self.now())
        bids, asks = self.book(p)

        def rows(levels):
            return [
                [market.text(px, d), market.text(v, 3), stamp - i]
                for i, (px, v) in enumerate(levels[:count])
            ]

        return ok({p.key: {"asks": rows(asks), "bids": rows(bids)}})

    @route("GET", "/0/public/OHLC")
    @route("POST", "/0/public/OHLC")
    def ohlc(self, request: SimRequest) -> dict:
        p = self.pair(request.params.get("pair", ""))
        interval = _int(request.params.get("interval", "1"), "interval", 1, 21600)
        if interval not in INTERVALS:
            raise Reject("EGeneral:Invalid arguments:interval")
        since = request.params.get("since")
        rows, last = market.candles(
            p, self.mids[p.key], self.now(), interval, _int(since, "since") if since else None
        )
        return ok({p.key: rows, "last": last})

    def _trades(self, p: PairDef) -> list[list]:
        rows = market.public_trades(p, self.mids[p.key], self.now())
        rows += [row for key, row in self.public_fills if key == p.key]
        return rows

    @route("GET", "/0/public/Trades")
    @route("POST", "/0/public/Trades")
    def trades(self, request: SimRequest) -> dict:
        p = self.pair(request.params.get("pair", ""))
        rows = self._trades(p)
        since = request.params.get("since")
        if since:
            cut = Decimal(_int(since, "since"))
            cut = cut / 10**9 if cut > 10**12 else cut  # Kraken's cursor is in nanoseconds
            rows = [r for r in rows if Decimal(str(r[2])) > cut]
        count = request.params.get("count")
        if count:
            rows = rows[-_int(count, "count", 1, 1000) :]
        return ok({p.key: rows, "last": str(int(self.now() * 10**9))})

    # -- authentication --------------------------------------------------------------------------

    def authenticate(self, request: SimRequest) -> Account:
        """Kraken's checks, in Kraken's order: key, signature, nonce."""
        account = self.accounts.get(request.header("API-Key") or "")
        if account is None:
            raise Reject("EAPI:Invalid key")
        nonce = request.form.get("nonce", "")
        digest = hashlib.sha256((nonce + request.body).encode()).digest()
        mac = hmac.new(
            base64.b64decode(account.secret), request.path.encode() + digest, hashlib.sha512
        )
        expected = base64.b64encode(mac.digest()).decode()
        if not hmac.compare_digest(expected, request.header("API-Sign") or ""):
            raise Reject("EAPI:Invalid signature")
        if not nonce.isdigit() or int(nonce) <= account.last_nonce:
            raise Reject("EAPI:Invalid nonce")
        account.last_nonce = int(nonce)
        if self.status == "maintenance":
            raise Reject("EService:Unavailable")
        return account
