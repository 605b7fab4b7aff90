"""Issue 15.10: secrets stay out of every message, traceback and log line, also when a server
echoes the request back."""

from __future__ import annotations

import logging
import traceback

import pytest
from hostile import HostileServer, echo

from xest import errors, registry
from xest.credentials import Credentials

KEY = "KEYKEYkeykey0123456789abcdefABCDEF"
SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="  # base64, as Kraken's are


def _connector(exchange, url):
    if exchange not in registry.connectors():
        pytest.skip(f"no {exchange} connector installed")
    return registry.connector_class(exchange).create(
        url, credentials=Credentials(KEY, SECRET, "alice"), cache=False
    )


def _everything(exc: BaseException) -> str:
    """The message, and the traceback rendered with every frame's locals, chain included."""
    rendered = traceback.TracebackException.from_exception(exc, capture_locals=True)
    return str(exc) + "".join(rendered.format())


def _signatures(server) -> list[str]:
    found = []
    for request in server.requests:
        text = request.decode("latin-1")
        for marker in ("signature=", "API-Sign: ", "api-sign: "):
            if marker in text:
                found.append(text.split(marker, 1)[1].split("&")[0].split("\r\n")[0][:40])
    return [s for s in found if len(s) >= 8]


@pytest.mark.parametrize("exchange", ["kraken", "binance"])
@pytest.mark.parametrize("as_json", [True, False])
def test_an_echoed_request_leaks_nothing(exchange, as_json):
    with HostileServer(echo(400, as_json=as_json)) as server:
        connector = _connector(exchange, server.url)
        with pytest.raises(errors.XestError) as info:
            connector.balances()
        text = _everything(info.value)
        signatures = _signatures(server)
    assert signatures, "the test must see the signature it looks for"
    for needle in (KEY, SECRET, *signatures):
        assert needle not in text
    assert "<redacted>" in str(info.value) or "HTTP 400" in str(info.value)


def test_urllib3_debug_lines_carry_no_signature(caplog):
    caplog.set_level(logging.DEBUG)
    with HostileServer(echo(400)) as server:
        with pytest.raises(errors.XestError):
            _connector("binance", server.url).balances()
        signatures = _signatures(server)
    assert signatures and any("urllib3" in r.name for r in caplog.records)
    for needle in (KEY, SECRET, *signatures):
        assert needle not in caplog.text


def test_an_unmapped_json_4xx_echo_is_redacted_by_the_transport():
    """No connector mapping: the transport's own HTTP-status error quotes the JSON body."""
    from xest.http import Endpoint, Transport

    def signer(req, creds, ctx):
        req.params["key"] = creds.key  # into the query string: echoed on the request line
        req.params["signature"] = "f00d" * 16

    private = Endpoint("private", "GET", "/private", signed=True)
    with HostileServer(echo(403, as_json=True)) as server:
        transport = Transport("hostile", server.url, cache=False, retries=1)
        with pytest.raises(errors.ExchangeError, match="HTTP 403") as info:
            transport.request(private, signer=signer, credentials=Credentials(KEY, SECRET))
    text = _everything(info.value)
    assert "<redacted>" in str(info.value)
    for needle in (KEY, "f00d" * 16):
        assert needle not in text
