"""The suite's report per connector: every operation xest defines, with its result, and every
check with its outcome -- what ``xest conformance NAME --json`` prints and a plugin can publish.

An operation's result: ``passed`` (every check that exercised it passed), ``failed`` (with the
first failing check and its message), ``not declared`` (it raises NotSupported, as checked),
``excluded`` (the plugin excluded every check of it, with reasons) or ``unchecked``.
"""

from __future__ import annotations

from typing import Any

from xest.connector import OPERATIONS


class Report:
    def __init__(self, exchange: str, capabilities: frozenset[str] | set[str]) -> None:
        self.exchange = exchange
        self.capabilities = set(capabilities)
        self.checks: list[dict[str, Any]] = []
        self.touched: dict[str, list[int]] = {op: [] for op in OPERATIONS}
        self.excluded: dict[str, str] = {}

    def add(self, check: str, outcome: str, message: str, operations: set[str]) -> None:
        """One check's outcome (``passed``, ``failed``, ``skipped``) and what it exercised."""
        self.checks.append({"check": check, "outcome": outcome, "message": message})
        for op in operations & set(self.touched):
            self.touched[op].append(len(self.checks) - 1)

    def operations(self) -> dict[str, dict[str, Any]]:
        result = {}
        for op in OPERATIONS:
            ran = [self.checks[i] for i in self.touched[op]]
            failed = [c for c in ran if c["outcome"] == "failed"]
            passed = [c for c in ran if c["outcome"] == "passed"]
            if op not in self.capabilities:
                entry: dict[str, Any] = {"result": "not declared"}
            elif failed:
                entry = {
                    "result": "failed",
                    "check": failed[0]["check"],
                    "message": failed[0]["message"],
                    "failed": len(failed),
                }
            elif passed:
                entry = {"result": "passed"}
            elif ran and all(c["message"].startswith("excluded") for c in ran):
                entry = {"result": "excluded", "reason": ran[0]["message"]}
            else:
                entry = {"result": "unchecked"}
            entry["checks"] = len(ran)
            result[op] = entry
        return result

    def as_dict(self) -> dict[str, Any]:
        counts = {k: sum(c["outcome"] == k for c in self.checks) for k in ("passed", "failed")}
        counts["skipped"] = sum(c["outcome"] == "skipped" for c in self.checks)
        return {
            "exchange": self.exchange,
            "verdict": "failed" if counts["failed"] else "passed",
            **counts,
            "operations": self.operations(),
            "checks": self.checks,
        }

    def lines(self) -> list[str]:
        """The human summary: one line per operation."""
        out = []
        for op, entry in self.operations().items():
            result = entry["result"]
            detail = ""
            if result == "failed":
                detail = f" -- {entry['check']}: {entry['message'][:160]}"
            elif result == "passed":
                detail = f" ({entry['checks']} checks)"
            elif result == "excluded":
                detail = f" -- {entry['reason']}"
            out.append(f"  {op:<14} {result}{detail}")
        return out


INCIDENTAL = frozenset({"markets", "server_time"})


def operations_of(check: str, case: Any, touched: set[str]) -> set[str]:
    """What a check exercised: the operations it called, its case's, and the one it is named
    after (``test_order_book`` -> ``order_book``)."""
    # Markets and the clock are read on the way to almost everything: they count only for
    # the checks about them.
    ops = set(touched) - INCIDENTAL
    if getattr(case, "operation", None):
        ops.add(case.operation)
    name = check.removeprefix("test_")
    ops |= {op for op in OPERATIONS if name == op or name.startswith(f"{op}_")}
    return ops
