"""Writes xest/schemas/*.json, the JSON contract of the CLI: python3 scripts/build_schemas.py."""

import json
import pathlib

OUT = pathlib.Path("xest/schemas")
DEC = {
    "type": "string",
    "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
    "description": "a decimal in plain notation (never an exponent)",
}
ODEC = {"anyOf": [DEC, {"type": "null"}]}
TIME = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$",
}
OTIME = {"anyOf": [TIME, {"type": "null"}]}
STR = {"type": "string"}
OSTR = {"type": ["string", "null"]}
MS = {"type": ["number", "null"], "description": "milliseconds"}
BOOL = {"type": "boolean"}
SYMBOL = {"type": "string", "pattern": r"^[^/]+/[^/]+$"}


def obj(props, required=None):
    return {
        "type": "object",
        "properties": props,
        "required": sorted(required if required is not None else props),
    }


def arr(items):
    return {"type": "array", "items": items}


ERROR = obj(
    {
        "type": STR,
        "kind": {
            "enum": [
                "usage",
                "config",
                "network",
                "refused",
                "not_found",
                "wait_timeout",
                "unexpected",
                "interrupted",
            ]
        },
        "message": STR,
        "exchange": OSTR,
        "code": {"type": ["string", "integer", "null"]},
        "exit_code": {"type": "integer"},
    }
)
OERROR = {"anyOf": [ERROR, {"type": "null"}]}
MARKET = obj(
    {
        "symbol": SYMBOL,
        "id": STR,
        "base": STR,
        "quote": STR,
        "active": BOOL,
        "price_step": ODEC,
        "amount_step": ODEC,
        "min_amount": ODEC,
        "min_cost": ODEC,
        "max_amount": ODEC,
        "min_price": ODEC,
        "max_price": ODEC,
        "cost_step": ODEC,
    }
)
TICKER = obj(
    {
        "symbol": SYMBOL,
        "id": STR,
        "bid": ODEC,
        "ask": ODEC,
        "last": ODEC,
        "high": ODEC,
        "low": ODEC,
        "volume": ODEC,
        "timestamp": OTIME,
    }
)
LEVEL = obj({"price": DEC, "amount": DEC})
BOOK = obj({"symbol": SYMBOL, "bids": arr(LEVEL), "asks": arr(LEVEL), "timestamp": OTIME})
CANDLE = obj(
    {
        "symbol": SYMBOL,
        "interval": STR,
        "open_time": TIME,
        "open": DEC,
        "high": DEC,
        "low": DEC,
        "close": DEC,
        "volume": DEC,
    }
)
PTRADE = obj(
    {
        "symbol": SYMBOL,
        "price": DEC,
        "amount": DEC,
        "side": {"enum": ["buy", "sell", None]},
        "timestamp": OTIME,
        "id": STR,
    }
)
BALANCE = obj({"asset": STR, "free": DEC, "locked": DEC, "total": DEC, "note": STR})
ORDER = obj(
    {
        "id": STR,
        "symbol": SYMBOL,
        "side": {"enum": ["buy", "sell"]},
        "type": STR,
        "status": STR,
        "amount": DEC,
        "filled": DEC,
        "remaining": DEC,
        "price": ODEC,
        "average_price": ODEC,
        "client_id": OSTR,
        "time_in_force": OSTR,
        "created": OTIME,
        "updated": OTIME,
        "fee": ODEC,
        "fee_asset": OSTR,
    }
)
TRADE = obj(
    {
        "id": STR,
        "order_id": STR,
        "symbol": SYMBOL,
        "side": {"enum": ["buy", "sell"]},
        "price": DEC,
        "amount": DEC,
        "timestamp": TIME,
        "fee": ODEC,
        "fee_asset": OSTR,
    }
)
QUOTE = obj(
    {
        "id": STR,
        "symbol": SYMBOL,
        "side": {"enum": ["buy", "sell"]},
        "amount": DEC,
        "price": DEC,
        "cost": DEC,
        "expires_at": TIME,
        "created_at": OTIME,
        "state": STR,
        "seconds_left": {"type": "number"},
    }
)
STATUS_ROW = obj(
    {"exchange": STR, "status": STR, "message": STR, "updated": OTIME, "error": OERROR}
)
TIME_ROW = obj(
    {
        "exchange": STR,
        "server_time": OTIME,
        "estimated_now": OTIME,
        "offset_ms": MS,
        "error_ms": MS,
        "error": OERROR,
    }
)
SIM_ROW = obj(
    {
        "exchange": STR,
        "url": STR,
        "pid": {"type": "integer"},
        "accounts": arr(STR),
        "started": {"type": "number"},
    }
)
ACCOUNT = obj(
    {
        "name": STR,
        "exchange": STR,
        "default": BOOL,
        "key": STR,
        "secret": STR,
        "ready": STR,
        "source": STR,
    }
)
WATCH = obj(
    {
        "exchange": STR,
        "url": STR,
        "at": TIME,
        "status": STR,
        "since": OTIME,
        "stale": BOOL,
        "last_error": OSTR,
        "server_time": OTIME,
        "error_ms": MS,
        "offset_ms": MS,
        "checked": OTIME,
        "account": OSTR,
        "balances": {"anyOf": [arr(BALANCE), {"type": "null"}]},
        "balances_at": OTIME,
        "open_orders": arr(ORDER),
        "account_stale": BOOL,
        "account_error": OSTR,
        "events": arr(obj({"at": TIME, "source": STR, "kind": STR, "text": STR})),
    },
    required=[
        "exchange",
        "url",
        "at",
        "status",
        "since",
        "stale",
        "last_error",
        "server_time",
        "error_ms",
        "offset_ms",
        "checked",
        "events",
    ],
)
PLUGIN = {"type": "object", "required": ["distribution"], "properties": {"distribution": STR}}

DOCS = {
    "status": ("Each exchange's status (`xest status`)", arr(STATUS_ROW)),
    "time": (
        "Each exchange's clock (`xest time`); offsets and errors in milliseconds",
        arr(TIME_ROW),
    ),
    "markets": ("An exchange's markets (`xest markets`)", arr(MARKET)),
    "ticker": ("Tickers (`xest ticker`)", arr(TICKER)),
    "book": ("An order book (`xest book`)", BOOK),
    "candles": ("OHLCV candles (`xest candles`)", arr(CANDLE)),
    "trades": ("Public trades (`xest trades`)", arr(PTRADE)),
    "balance": (
        "An account's balances by asset (`xest balance`)",
        {"type": "object", "additionalProperties": BALANCE},
    ),
    "orders": ("An account's orders (`xest orders`)", arr(ORDER)),
    "my_trades": ("An account's fills (`xest my-trades`)", arr(TRADE)),
    "order": ("One order (`xest order`, `xest order-status`, `xest cancel`)", ORDER),
    "order_validate": (
        "An order the exchange checked without placing it (`xest order --validate`)",
        obj({"valid": BOOL, "order": {"type": ["object", "null"]}}),
    ),
    "quote": ("A firm quote (`xest quote`)", QUOTE),
    "quote_accept": (
        "An executed quote and its order (`xest quote --accept`, `xest quote accept`)",
        obj({"quote": QUOTE, "order": ORDER}),
    ),
    "accounts": ("Named accounts, never their secrets (`xest accounts list`)", arr(ACCOUNT)),
    "config_path": (
        "Where the config file is (`xest config path`)",
        obj({"path": STR, "exists": BOOL}),
    ),
    "plugins": ("Installed plugins (`xest plugins list`)", arr(PLUGIN)),
    "watch": ("One frame of `xest watch` (JSON lines: one document per refresh)", WATCH),
    "sim_started": ("A simulator started in the foreground (`xest sim EXCHANGE`)", SIM_ROW),
    "sim_status": ("Running simulators (`xest sim status`, `xest sim start`)", arr(SIM_ROW)),
    "sim_stop": ("Simulators stopped (`xest sim stop`)", obj({"stopped": arr(STR)})),
    "sim_control": (
        "A simulator control applied (`xest sim price|fill|maintenance|skew`)",
        {
            "type": "object",
            "required": ["exchange", "action"],
            "properties": {"exchange": STR, "action": STR},
        },
    ),
    "cache_info": (
        "The response cache (`xest cache info`)",
        obj(
            {
                "location": STR,
                "entries": {"type": "integer"},
                "size_bytes": {"type": "integer"},
                "restrictions": arr({"type": "object"}),
            }
        ),
    ),
    "cache_clear": (
        "The response cache emptied (`xest cache clear`)",
        obj({"location": STR, "removed": {"type": "integer"}}),
    ),
}
for kind, (title, data) in DOCS.items():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://xest.invalid/schemas/{kind}.json",
        "title": title,
        "type": "object",
        "required": ["schema", "data"],
        "properties": {"schema": {"const": f"xest.{kind}/1"}, "data": data},
    }
    (OUT / f"{kind}.json").write_text(json.dumps(schema, indent=2) + "\n")
err = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://xest.invalid/schemas/error.json",
    "title": "A failure under --json: one object on stderr; the exit code says its kind",
    "type": "object",
    "required": ["schema", "error"],
    "properties": {"schema": {"const": "xest.error/1"}, "error": ERROR},
}
(OUT / "error.json").write_text(json.dumps(err, indent=2) + "\n")
