"""What the loopback simulator base and the conformance proxy do to headers: the proxy keeps
``Host`` (a signature covering the host verifies behind it), and ``Date`` is the simulated
exchange's clock, kept through the proxy."""

from __future__ import annotations

import email.utils
import time
from urllib.parse import urlsplit

import urllib3

from xest.testing.proxy import FaultProxy
from xest.testing.server import LoopbackServer, SimRequest, route


class Echo(LoopbackServer):
    exchange = "echo-headers"

    @route("GET", "/headers")
    def headers(self, request: SimRequest):
        return {"host": request.header("host")}


def test_proxy_keeps_the_host_header_and_the_upstream_date():
    with Echo(clock_offset=300.0) as upstream, FaultProxy(upstream.url) as proxy:
        answer = urllib3.request("GET", proxy.url + "/headers")
        assert answer.json() == {"host": urlsplit(proxy.url).netloc}
        served = email.utils.parsedate_to_datetime(answer.headers["Date"]).timestamp()
        assert abs(served - (time.time() + 300)) < 5
        assert len(answer.headers.getlist("Date")) == 1
