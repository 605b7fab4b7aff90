"""The store works where ``fcntl`` does not exist (Windows, stripped-down Pythons): nothing
imports it at module level, and the locks come from ``filelock`` instead (issue 19)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from xest import registry

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["fcntl"] = None  # `import fcntl` now raises ImportError, as on Windows
    import xest
    from xest.http import locking
    assert locking.posix_locks() is None
    with xest.open("kraken", sim=True) as client:
        first = client.server_time()
        status = [client.status() for _ in range(3)]
        balances = [client.balances() for _ in range(3)]  # signed: three nonces
        print("ok", len(balances), "fcntl" in sys.modules and sys.modules["fcntl"] is None)
    from xest.http.nonce import nonce_source
    source = nonce_source("portable-key-1")
    drawn = [source() for _ in range(50)]
    assert all(a < b for a, b in zip(drawn, drawn[1:])), drawn
    print("nonces", source.slot)
    """
)


def test_import_and_a_cached_signed_call_without_fcntl():
    if "kraken" not in registry.simulators():
        pytest.skip("the Kraken simulator is not installed")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, env=os.environ
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "ok 3 True"
    assert lines[1] == "nonces 63"  # no OS lock that dies with its process: the locked mode


def test_no_module_imports_fcntl_at_top_level():
    import ast
    from pathlib import Path

    import xest

    offenders = []
    for path in Path(xest.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n.split(".")[0] in ("fcntl", "msvcrt", "termios") for n in names):
                offenders.append(str(path))
    assert offenders == []
