"""What the simulated Kraken lists: a few assets and pairs with Kraken's real precisions."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

import attrs


@attrs.frozen
class AssetDef:
    code: str  # Kraken's code, e.g. XXBT
    altname: str  # e.g. XBT
    decimals: int
    display_decimals: int


@attrs.frozen
class PairDef:
    key: str  # canonical pair name, e.g. XXBTZUSD
    altname: str
    wsname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    ordermin: Decimal
    costmin: Decimal
    tick_size: Decimal
    mid: Decimal  # where the simulated book starts
    lot: Decimal  # a typical book level's volume


ASSETS: tuple[AssetDef, ...] = (
    AssetDef("XXBT", "XBT", 10, 5),
    AssetDef("XETH", "ETH", 10, 5),
    AssetDef("XXDG", "XDG", 8, 2),
    AssetDef("ZUSD", "USD", 4, 2),
    AssetDef("USDT", "USDT", 8, 4),
    AssetDef("DOT", "DOT", 10, 8),
    AssetDef("ETH2.S", "ETH2.S", 10, 5),
    AssetDef("USD.M", "USD.M", 4, 2),
)

D = Decimal
PAIRS: tuple[PairDef, ...] = (
    PairDef(
        "XXBTZUSD",
        "XBTUSD",
        "XBT/USD",
        "XXBT",
        "ZUSD",
        1,
        8,
        5,
        D("0.0001"),
        D("0.5"),
        D("0.1"),
        D("30000.0"),
        D("0.5"),
    ),
    PairDef(
        "XETHZUSD",
        "ETHUSD",
        "ETH/USD",
        "XETH",
        "ZUSD",
        2,
        8,
        5,
        D("0.002"),
        D("0.5"),
        D("0.01"),
        D("1850.00"),
        D("4"),
    ),
    PairDef(
        "XETHXXBT",
        "ETHXBT",
        "ETH/XBT",
        "XETH",
        "XXBT",
        5,
        8,
        6,
        D("0.01"),
        D("0.00002"),
        D("0.00001"),
        D("0.06170"),
        D("4"),
    ),
    PairDef(
        "XBTUSDT",
        "XBTUSDT",
        "XBT/USDT",
        "XXBT",
        "USDT",
        1,
        8,
        5,
        D("0.0001"),
        D("0.5"),
        D("0.1"),
        D("30010.0"),
        D("0.5"),
    ),
    PairDef(
        "XDGUSD",
        "XDGUSD",
        "XDG/USD",
        "XXDG",
        "ZUSD",
        7,
        8,
        5,
        D("50"),
        D("0.5"),
        D("0.0000001"),
        D("0.0650000"),
        D("40000"),
    ),
    PairDef(
        "USDTZUSD",
        "USDTUSD",
        "USDT/USD",
        "USDT",
        "ZUSD",
        4,
        8,
        5,
        D("5"),
        D("0.5"),
        D("0.0001"),
        D("1.0002"),
        D("20000"),
    ),
    PairDef(
        "DOTUSD",
        "DOTUSD",
        "DOT/USD",
        "DOT",
        "ZUSD",
        4,
        8,
        5,
        D("0.2"),
        D("0.5"),
        D("0.0001"),
        D("5.1230"),
        D("800"),
    ),
)

# Kraken's base fee tier (percent): taker 0.26 %, maker 0.16 %.
TAKER_FEE = Decimal("0.0026")
MAKER_FEE = Decimal("0.0016")
FEE_SCHEDULE = [[0, Decimal("0.26")], [50000, Decimal("0.24")], [100000, Decimal("0.22")]]
MAKER_SCHEDULE = [[0, Decimal("0.16")], [50000, Decimal("0.14")], [100000, Decimal("0.12")]]

DEMO_KEY = "xest-kraken-demo-key"
DEMO_SECRET = base64.b64encode(hashlib.sha512(b"xest kraken simulator demo").digest()).decode()
DEMO_BALANCES: dict[str, Decimal] = {
    "ZUSD": D("100000.0000"),
    "XXBT": D("2.5000000000"),
    "XETH": D("40.0000000000"),
    "USDT": D("50000.00000000"),
    "XXDG": D("250000.00000000"),
    "DOT": D("500.0000000000"),
    "ETH2.S": D("3.2000000000"),
    "USD.M": D("1500.0000"),
}

# A second, smaller demo account, so that "select a user" shows different figures.
BOB_KEY = "xest-kraken-demo-key-bob"
BOB_SECRET = base64.b64encode(hashlib.sha512(b"xest kraken simulator demo bob").digest()).decode()
BOB_BALANCES: dict[str, Decimal] = {
    "ZUSD": D("2500.0000"),
    "XXBT": D("0.1500000000"),
    "XETH": D("1.0000000000"),
    "USDT": D("1000.00000000"),
}

ASSET_BY_CODE = {a.code: a for a in ASSETS}


def pair_lookup() -> dict[str, PairDef]:
    """Every name a request may use for a pair (key, altname, wsname) → its definition."""
    names: dict[str, PairDef] = {}
    for p in PAIRS:
        for name in (p.key, p.altname, p.wsname):
            names[name.upper()] = p
    return names
