"""Where a running simulator is found: one state file per exchange under the xest home.

``sim/<exchange>.json`` holds what anyone may see (pid, URL, control URL, demo account names);
``sim/<exchange>.keys.json`` (mode 0600) holds the demo accounts' keys and the control token.
Keys open nothing but that simulator; still, they are never printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import attrs

from xest import errors


@attrs.frozen(repr=False)
class RunningSim:
    exchange: str
    url: str
    pid: int
    control_url: str
    started: float
    accounts: tuple[str, ...]
    stream_urls: dict[str, str] = attrs.field(eq=False)
    _keys: dict[str, tuple[str, str]] = attrs.field(eq=False)
    token: str = attrs.field(eq=False)

    def __repr__(self) -> str:
        return f"RunningSim({self.exchange!r}, {self.url!r}, pid={self.pid})"

    def credentials(self, account: str | None) -> tuple[str, str, str]:
        """``(name, key, secret)`` of a demo account (the first when none is named)."""
        name = account or (self.accounts[0] if self.accounts else "")
        if name not in self._keys:
            known = ", ".join(self.accounts) or "none"
            raise errors.ConfigError(
                f"the {self.exchange} simulator has no demo account {name!r}; its accounts: "
                f"{known} (--account NAME)"
            )
        key, secret = self._keys[name]
        return name, key, secret


def sim_dir() -> Path:
    from xest.http.storage import private_dir

    return private_dir("sim")


def _paths(exchange: str) -> tuple[Path, Path]:
    base = sim_dir()
    return base / f"{exchange}.json", base / f"{exchange}.keys.json"


def write(
    exchange: str,
    url: str,
    control_url: str,
    token: str,
    keys: dict[str, tuple[str, str]],
    stream_urls: dict[str, str] | None = None,
) -> None:
    """Announce this process's simulator of ``exchange`` (keys first, in a 0600 file)."""
    state, secret_file = _paths(exchange)
    _write_private(secret_file, {"token": token, "accounts": {k: list(v) for k, v in keys.items()}})
    public = {
        "exchange": exchange,
        "url": url,
        "pid": os.getpid(),
        "control_url": control_url,
        "started": time.time(),
        "accounts": list(keys),
        "stream_urls": dict(stream_urls or {}),  # its websocket endpoints, when it serves any
    }
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps(public))
    os.replace(tmp, state)  # readers see the whole file or none


def _write_private(path: Path, value: Any) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(value, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def remove(exchange: str, pid: int | None = None) -> None:
    """Forget ``exchange``'s simulator (only if it is ``pid``'s, when given)."""
    state, secret_file = _paths(exchange)
    if pid is not None:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(state.read_text()).get("pid") != pid:
                return
    for path in (state, secret_file):
        path.unlink(missing_ok=True)


def alive(pid: int) -> bool:
    if hasattr(os, "waitpid"):
        # A simulator this process started (`xest sim start` inside a longer-lived process)
        # that has exited stays a zombie until reaped: reap it, or it would look alive.
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except (ChildProcessError, OSError):
            done = 0
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find(exchange: str) -> RunningSim | None:
    """The running simulator of ``exchange``, or None (a dead one's files are removed)."""
    state, secret_file = _paths(exchange)
    try:
        public = json.loads(state.read_text())
        private = json.loads(secret_file.read_text())
    except (OSError, ValueError):
        return None
    pid = int(public.get("pid", 0))
    if not pid or not alive(pid):
        remove(exchange, pid)
        return None
    return RunningSim(
        exchange=public["exchange"],
        url=public["url"],
        pid=pid,
        control_url=public["control_url"],
        started=float(public.get("started", 0)),
        accounts=tuple(public.get("accounts", ())),
        stream_urls=dict(public.get("stream_urls") or {}),
        keys={k: (v[0], v[1]) for k, v in private.get("accounts", {}).items()},
        token=private.get("token", ""),
    )


def running() -> list[RunningSim]:
    """Every running simulator, by exchange."""
    names = sorted(
        p.name[: -len(".json")]
        for p in sim_dir().glob("*.json")
        if not p.name.endswith(".keys.json")
    )
    return [found for name in names if (found := find(name)) is not None]
