"""The command line as a contract: public reads need no account, URLs are checked, exit codes
say the kind of failure, JSON is plain and documented, amounts are sane numbers."""

from __future__ import annotations

import json
import os
import warnings
from decimal import Decimal

import pytest

from xest.schemas import parse as jdoc
from xest.schemas import validate

# -- public reads never touch accounts ------------------------------------------------------------


@pytest.fixture
def unset_default_account(monkeypatch, tmp_path):
    """A config whose default fakex account takes its key from an unset variable."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.carol]\nexchange = "fakex"\nkey_env = "CAROL_KEY_NOT_SET"\n'
        'secret_env = "CAROL_SECRET_NOT_SET"\ndefault = true\n'
    )
    os.chmod(config, 0o600)
    monkeypatch.setenv("XEST_CONFIG", str(config))
    return config


@pytest.fixture
def broken_toml(monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[accounts.carol]\nexchange = "fakex"\nkey_env = \n')
    os.chmod(config, 0o600)
    monkeypatch.setenv("XEST_CONFIG", str(config))
    return config


PUBLIC_READS = [
    ("status", "fakex"),
    ("time", "fakex", "--samples", "1"),
    ("ticker", "fakex", "BTC/USD"),
    ("markets", "fakex"),
    ("book", "fakex", "BTC/USD"),
    ("trades", "fakex", "BTC/USD"),
    ("candles", "fakex", "BTC/USD", "1h", "--limit", "2"),
]


@pytest.mark.parametrize("config", ["unset_default_account", "broken_toml"])
def test_public_reads_need_no_account(xest_cli, sim, config, request):
    request.getfixturevalue(config)
    for args in PUBLIC_READS:
        result = xest_cli(*args, "--url", sim.url)
        assert result.code == 0, f"{args}: {result.err}"
        assert "CAROL" not in result.err and "TOML" not in result.err
    watch = xest_cli("watch", "fakex", "--url", sim.url, "--iterations", "1", "--json")
    assert watch.code == 0, watch.err
    assert jdoc(watch.out)["status"] == "online"


def test_commands_needing_the_account_report_the_config(xest_cli, sim, unset_default_account):
    result = xest_cli("balance", "fakex", "--url", sim.url)
    assert result.code == 3
    assert "$CAROL_KEY_NOT_SET" in result.err


def test_broken_config_says_file_line_and_column(xest_cli, sim, broken_toml):
    result = xest_cli("balance", "fakex", "--url", sim.url)
    assert result.code == 3
    assert str(broken_toml) in result.err and "line 3" in result.err and "column" in result.err


# -- URLs are checked before any request -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://127.0.0.1:8080", "only http:// and https://"),
        ("htp://127.0.0.1:8080", "scheme 'htp'"),
        ("not a url", "contains spaces"),
        ("127.0.0.1:8080", "has no scheme: write http://127.0.0.1:8080"),
        ("http://127.0.0.1:99999", "invalid port"),
        ("http://:8080", "has no host"),
    ],
)
def test_bad_urls_are_usage_errors(xest_cli, fake, url, says):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no urllib3 FutureWarning either
        result = xest_cli("status", "fakex", "--url", url)
    assert result.code == 2, result.err
    assert says in result.err and "try again" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_bad_url_from_the_environment_names_the_variable(xest_cli, fake, monkeypatch):
    monkeypatch.setenv("XEST_FAKEX_URL", "ftp://example")
    result = xest_cli("status", "fakex")
    assert result.code == 2 and "$XEST_FAKEX_URL" in result.err


def test_tls_to_a_plain_port_says_so(xest_cli, sim):
    result = xest_cli("status", "fakex", "--url", sim.url.replace("http://", "https://"))
    assert result.code == 4
    assert "does not speak TLS" in result.err and "http://" in result.err
    assert "WRONG_VERSION_NUMBER" not in result.err


# -- exit codes by kind ---------------------------------------------------------------------------


def test_exit_codes_by_kind(xest_cli, sim, fake):
    assert xest_cli("status", "fakex", "--url", sim.url).code == 0
    assert xest_cli("status").code == 2  # usage: a missing argument
    assert xest_cli("balance", "fakex", "--url", sim.url).code == 3  # no credentials
    sim.down = True
    assert xest_cli("status", "fakex", "--url", sim.url, "--no-cache").code == 4
    sim.down = False
    assert xest_cli("ticker", "fakex", "NOPE/USD", "--url", sim.url).code == 6
    assert xest_cli("ticker", "nosuchex", "BTC/USD").code == 6


def test_exit_codes_are_documented_in_the_readme():
    from pathlib import Path

    from xest.cli import exits

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for code, kind in exits.KINDS.items():
        if code in (exits.OK, exits.INTERRUPTED):
            continue
        assert f"| {code} " in readme, f"exit code {code} ({kind}) is not in the README"


# -- JSON ----------------------------------------------------------------------------------------


def test_errors_under_json_are_one_object_on_stderr(xest_cli, sim):
    sim.down = True
    result = xest_cli("ticker", "fakex", "BTC/USD", "--url", sim.url, "--json", "--no-cache")
    assert result.code == 4 and result.out == ""
    document = json.loads(result.err)
    error = validate(document)
    assert error["type"] in ("ExchangeUnavailable", "GatewayError") and error["exchange"] == "fakex"
    assert error["kind"] == "network" and error["exit_code"] == 4 and "503" in error["message"]
    usage = xest_cli("status", "--json")
    assert usage.code == 2 and validate(json.loads(usage.err))["kind"] == "usage"


def test_one_failing_exchange_has_the_shape_of_several(xest_cli, sim):
    sim.down = True
    result = xest_cli("status", "fakex", "--url", sim.url, "--json", "--no-cache")
    assert result.code == 4
    [row] = jdoc(result.out)
    assert row["status"] == "unknown" and row["error"]["kind"] == "network"
    clock = xest_cli("time", "fakex", "--url", sim.url, "--json", "--no-cache")
    [row] = jdoc(clock.out)
    assert row["offset_ms"] is None and row["error"]["kind"] == "network"


def test_json_decimals_are_plain_and_balances_have_totals(xest_cli, fake):
    from xest.cli.output import to_jsonable
    from xest.models import Balance, Market

    balance = to_jsonable(Balance("BTC", Decimal("1E-8"), Decimal("0E-10")))
    assert balance == {
        "asset": "BTC",
        "free": "0.00000001",
        "locked": "0",
        "id": "",
        "note": "",
        "total": "0.0000000100",  # the digits the sum has, in plain notation
    }
    market = to_jsonable(Market("BTC/USD", "BTCUSD", "BTC", "USD", amount_step=Decimal("1E-8")))
    assert market["amount_step"] == "0.00000001"
    result = xest_cli("balance", "fakex", "--sim", "--json")
    data = jdoc(result.out)
    assert data["BTC"]["total"] == "0.6"
    assert "E" not in result.out.replace("EUR", "")


def test_durations_are_milliseconds_everywhere(xest_cli, fake):
    from datetime import timedelta

    from xest.cli.output import to_jsonable
    from xest.models import ServerTime

    reading = to_jsonable(ServerTime(0, resolution=timedelta(seconds=1)))
    assert reading["resolution_ms"] == 1000 and "resolution" not in reading
    frame = jdoc(xest_cli("watch", "fakex", "--sim", "--iterations", "1", "--json").out)
    assert "offset" not in frame and "error" not in frame
    assert isinstance(frame["offset_ms"], float) and frame["error_ms"] < 5000


def test_every_document_kind_has_a_schema_file():
    from xest import schemas

    kinds = set(schemas.kinds())
    assert {"status", "time", "balance", "orders", "order", "quote", "watch", "error"} <= kinds
    for kind in kinds:
        assert schemas.load(kind)["properties"]["schema"]["const"] == f"xest.{kind}/1"


def test_other_commands_json_validates(xest_cli, fake):
    for args in (
        ("plugins", "list"),
        ("accounts", "list"),
        ("config", "path"),
        ("sim", "status"),
        ("sim", "stop"),
    ):
        result = xest_cli(*args, "--json")
        assert result.code == 0, f"{args}: {result.err}"
        jdoc(result.out)


# -- amounts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("1e400", "too large"),
        ("-1", "must be greater than zero"),
        ("0.0000000000000000001", "more than 18 decimal places"),
        ("lots", "not a number"),
        ("nan", "not a finite number"),
    ],
)
def test_bad_amounts_are_refused_before_any_prompt(xest_cli, sim, amount, says):
    result = xest_cli("order", "fakex", "BTC/USD", "buy", amount, "--url", sim.url)
    assert result.code == 2, result.err
    assert says in result.err and "No such option" not in result.err
    assert "[y/N]" not in result.err


def test_amounts_in_exponent_notation_become_plain():
    from xest.cli.options import AMOUNT

    assert str(AMOUNT.convert("1E+2", None, None)) == "100"
    small = AMOUNT.convert("1e-8", None, None)
    assert small == Decimal("0.00000001") and f"{small:f}" == "0.00000001"


# -- visible waiting -------------------------------------------------------------------------------


def test_long_waits_say_what_they_wait_for(xest_cli, capsys, monkeypatch, tmp_path):
    import time

    from xest.cli import progress
    from xest.cli.options import Options

    class Ctx:
        def find_root(self):
            return self

        obj = Options(progress=True)

    monkeypatch.setattr(progress, "options", lambda: Ctx.obj)
    monkeypatch.setattr(progress, "THRESHOLD", 0.05)
    with progress.waiting("order 42 to be final", expected=30):
        time.sleep(0.3)
    progress.install()
    # The real limiter, on a fake clock: a full counter makes the next call wait 4 s.
    from xest.http.endpoint import DecayingCounter
    from xest.http.limiter import RateLimiter

    now = [1000.0]
    limiter = RateLimiter(
        "kraken",
        "api.example",
        {"calls": DecayingCounter(maximum=2, decay=0.5)},
        directory=tmp_path,
        clock=lambda: now[0],
        sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
    )
    limiter.acquire("calls", 2, max_wait=10)
    assert limiter.acquire("calls", 2, max_wait=10) == pytest.approx(4, abs=0.1)
    err = capsys.readouterr().err
    assert "waiting: order 42 to be final (up to 30 s)" in err
    assert "kraken: waiting 4.0 s for the rate limit" in err
    Ctx.obj = Options(json=True)
    with progress.waiting("silent", expected=30):
        time.sleep(0.2)
    assert "silent" not in capsys.readouterr().err


def test_every_error_class_has_an_exit_code_of_its_kind():
    from xest import errors
    from xest.cli import exits

    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.XestError):
            assert exits.code_for(cls("x")) in (2, 3, 4, 5, 6), name
    assert exits.code_for(errors.StoreUnavailable("x")) == exits.NETWORK
    assert exits.code_for(errors.UsageError("x")) == exits.USAGE
    assert exits.code_for(errors.OrderNotFound("x")) == exits.NOT_FOUND
    assert exits.code_for(ValueError("x")) == exits.UNEXPECTED
