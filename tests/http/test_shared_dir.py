"""The shared state directory never kills or stops a process (issue 15, findings 8 and 9)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest
from httpsupport import PRIVATE, STATUS, TIME

from xest import errors
from xest.credentials import Credentials
from xest.http import DecayingCounter, Transport
from xest.http.storage import cache_dir


def test_truncating_the_rate_limit_file_does_not_kill_running_processes(sim, tmp_path):
    # A running process keeps spending while another truncates its state file (a cleanup
    # script, a full disk): with a memory map this was SIGBUS, the process dead.
    script = textwrap.dedent(
        f"""
        import pathlib, sys, time
        from xest.http import DecayingCounter, Transport
        from xest.http.endpoint import Endpoint
        t = Transport("echo", {sim.url!r}, rate_limits={{"public": DecayingCounter(1e6, 1)}})
        t.request(Endpoint("time", "GET", "/time"))
        (path,) = pathlib.Path({str(cache_dir() / "limits")!r}).glob("*.limits")
        for size in (0, 7, 100):
            with open(path, "r+b") as f:
                f.truncate(size)
            time.sleep(0.06)  # past this process's lease: the next call spends from the file
            t.limiter.acquire("public", 1, max_wait=0)
            t.request(Endpoint("time", "GET", "/time"))
        print("alive", t.limiter.state()["buckets"]["public"][0] >= 1)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.split() == ["alive", "True"]


def _unusable(tmp_path, monkeypatch, what: str) -> None:
    """Make one part of the cache directory unusable without relying on permissions (tests
    may run as root): a file where a directory should be."""
    root = tmp_path / "cache"
    monkeypatch.setenv("XEST_CACHE_DIR", str(root))
    if what == "root":
        root.write_text("not a directory")
        return
    root.mkdir()
    (root / what).write_text("not a directory")


@pytest.mark.parametrize("what", ["root", "responses", "limits", "nonces"])
def test_an_unusable_cache_directory_degrades_with_one_warning(
    what, sim, tmp_path, monkeypatch, caplog
):
    _unusable(tmp_path, monkeypatch, what)
    caplog.set_level(logging.WARNING, logger="xest.http")
    t = Transport("echo", sim.url, rate_limits={"public": DecayingCounter(100, 1)})
    creds = Credentials("KEY-unusable-dir-1", "SECRET-unusable-dir-1", "dave")

    def sign(req, c, ctx):
        req.headers["API-Key"] = c.key
        req.params["nonce"] = str(ctx.nonce())

    for _ in range(3):
        t.request(STATUS)
        t.request(TIME)
    nonces = [int(t.request(PRIVATE, signer=sign, credentials=creds).data["nonce"]) for _ in "ab"]
    assert nonces[0] < nonces[1]
    if what in ("root", "responses"):
        assert sim.hits["/status"] == 3  # no cache, but every read answered
    else:
        assert sim.hits["/status"] == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings, "a degraded directory must be said"
    kinds = [w.split("for the shared ")[1].split(" (")[0] for w in warnings]
    assert len(kinds) == len(set(kinds))  # one warning per kind of state, not one per call
    assert all("XEST_CACHE_DIR" in w for w in warnings)


def test_cache_commands_on_an_unusable_directory_are_xest_errors(tmp_path, monkeypatch):
    from xest.http.cache import ResponseCache

    root = tmp_path / "cache"
    root.mkdir()
    (root / "responses").mkdir()
    (root / "responses" / "cache.db").mkdir()  # diskcache cannot open its database
    monkeypatch.setenv("XEST_CACHE_DIR", str(root))
    with pytest.raises(errors.XestError, match="XEST_CACHE_DIR"):
        ResponseCache().clear()
