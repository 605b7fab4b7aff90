"""Kraken's asset and pair codes, unified.

Kraken names its oldest assets with four-letter codes prefixed X (crypto) or Z (fiat): ``XXBT``,
``XETH``, ``ZUSD``. Newer assets keep plain codes (``USDT``, ``DOT``). Bitcoin is ``XBT`` and
Dogecoin ``XDG`` there, ``BTC`` and ``DOGE`` everywhere else. Balances may also carry a suffix
(``ETH2.S``, ``USD.M``) naming a sub-balance that is not freely tradable; those are kept apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The legacy X/Z codes, exactly: a blanket "strip a leading X or Z from four letters" rule would
# mangle newer codes such as ZEUS or XCAD.
LEGACY_CODES: Mapping[str, str] = {
    "XXBT": "XBT",
    "XBT": "XBT",
    "XETH": "ETH",
    "XETC": "ETC",
    "XLTC": "LTC",
    "XMLN": "MLN",
    "XREP": "REP",
    "XXDG": "XDG",
    "XXLM": "XLM",
    "XXMR": "XMR",
    "XXRP": "XRP",
    "XZEC": "ZEC",
    "XXTZ": "XTZ",
    "XICN": "ICN",
    "XNMC": "NMC",
    "XXVN": "XVN",
    "ZUSD": "USD",
    "ZEUR": "EUR",
    "ZGBP": "GBP",
    "ZJPY": "JPY",
    "ZCAD": "CAD",
    "ZAUD": "AUD",
    "ZCHF": "CHF",
    "ZKRW": "KRW",
}

# Kraken's names that differ from the common ones, after the X/Z prefix is gone.
COMMON_NAMES: Mapping[str, str] = {"XBT": "BTC", "XDG": "DOGE"}

# What each balance suffix means (Kraken documents them under Balance / BalanceEx).
SUFFIX_NOTES: Mapping[str, str] = {
    "S": "staked (legacy staking): locked in staking, not tradable",
    "M": "opt-in rewards (Kraken Earn): held in the rewards program, not tradable until moved",
    "F": "Kraken Rewards (auto earn): earning flexibly, spendable after conversion",
    "B": "yield-bearing balance (Kraken Earn): allocated to an earn strategy, not tradable",
    "P": "parachain: locked in a parachain auction, not tradable",
    "T": "tokenized asset: held apart from the spot balance",
    "HOLD": "on hold: reserved by Kraken (e.g. a pending withdrawal), not tradable",
}


def unify_asset(code: str) -> str:
    """The common code of a Kraken asset: ``XXBT`` → ``BTC``, ``ZUSD`` → ``USD``, ``DOT`` → ``DOT``.

    A suffixed sub-balance keeps its suffix: ``XBT.M`` → ``BTC.M``, ``ETH2.S`` → ``ETH2.S``.
    """
    base, dot, suffix = code.partition(".")
    plain = LEGACY_CODES.get(base.upper(), base.upper())
    plain = COMMON_NAMES.get(plain, plain)
    return f"{plain}.{suffix}" if dot else plain


def balance_note(code: str) -> str:
    """Why a suffixed Kraken balance is kept apart from the plain one ("" for plain codes)."""
    _, dot, suffix = code.partition(".")
    if not dot:
        return ""
    meaning = SUFFIX_NOTES.get(suffix.upper(), "a sub-balance Kraken keeps apart from spot")
    return f"Kraken sub-balance '.{suffix}': {meaning}"


def exchange_asset(code: str) -> str:
    """Kraken's short name for a common code, as ``wsname`` spells it: ``BTC`` → ``XBT``."""
    reverse = {v: k for k, v in COMMON_NAMES.items()}
    return reverse.get(code.upper(), code.upper())


def pair_assets(entry: Mapping[str, Any]) -> tuple[str, str]:
    """The unified (base, quote) of one AssetPairs entry.

    ``wsname`` (``XBT/USD``) is the cleanest source; pairs without one fall back to the
    ``base``/``quote`` asset codes (``XXBT``, ``ZUSD``).
    """
    wsname = entry.get("wsname") or ""
    base, sep, quote = wsname.partition("/")
    if sep and base and quote:
        return unify_asset(base), unify_asset(quote)
    return unify_asset(str(entry["base"])), unify_asset(str(entry["quote"]))
