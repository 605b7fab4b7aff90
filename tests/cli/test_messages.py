"""Every user-facing message names commands that exist, in the command line's words.

The test reads the source of the core, the plugins and the example connector, takes every
string a message is made of (docstrings aside), and checks each `xest ...` it quotes against
the real command tree.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from xest.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "xest",
    *sorted((ROOT / "plugins").glob("*/xest_*")),
    *sorted((ROOT / "examples").glob("*/xest_*")),
]
QUOTED = re.compile(r"`xest ([^`]*)`")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def message_templates() -> list[tuple[str, str]]:
    """(where, text) of every string literal and f-string outside docstrings; an f-string's
    fields read as ``{}``."""
    found = []
    for base in SOURCES:
        for path in sorted(base.rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            skip = _docstrings(tree)
            inner = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.JoinedStr):
                    inner |= {id(v) for v in node.values}
            for node in ast.walk(tree):
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.JoinedStr):
                    text = "".join(
                        v.value if isinstance(v, ast.Constant) else "{}" for v in node.values
                    )
                    found.append((where, text))
                elif (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in skip
                    and id(node) not in inner
                ):
                    found.append((where, node.value))
    return found


def _resolve(words: list[str]) -> str | None:
    """None if ``xest WORDS`` names a real command, else what is wrong."""
    ctx = click.Context(cli)
    command: click.Command = cli
    path = ["xest"]
    for word in words:
        if word.startswith("-") or "{" in word or word.isupper() or set(word) <= {"."}:
            continue  # options, placeholders (EXCHANGE, {}, ...), values
        if not isinstance(command, click.Group):
            return None
        sub = command.get_command(ctx, word)
        if sub is None:
            default = getattr(command, "default", None)
            if default is not None:  # `xest sim kraken`: the default subcommand's argument
                return None
            return f"`{' '.join(path)}` has no command {word!r}"
        command, path = sub, [*path, word]
    if (
        isinstance(command, click.Group)
        and command is not cli
        and not getattr(command, "default", None)
    ):
        return f"`{' '.join(path)}` needs a subcommand"
    return None


def test_messages_name_real_commands():
    from xest.cli import _add_commands

    _add_commands()
    templates = message_templates()
    quoted = [(w, m.group(1)) for w, t in templates for m in QUOTED.finditer(t)]
    assert len(quoted) > 20  # the walk does find the messages
    problems = []
    for where, command in quoted:
        words = command.split()
        problem = _resolve(words) if words else "empty"
        if problem:
            problems.append(f"{where}: `xest {command}`: {problem}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "python_words",
    ["XEST_<EXCHANGE>", "pass key= and secret=", "xest balances", "give either sim=True"],
)
def test_messages_speak_the_command_line(python_words):
    offenders = [
        where
        for where, text in message_templates()
        if python_words in text and "/facade.py" not in where
    ]
    assert not offenders, f"{python_words!r} in {offenders}"


def test_a_wrong_command_would_be_caught():
    assert _resolve(["balances", "kraken"]) is not None
    assert _resolve(["sim", "start", "kraken"]) is None
    assert _resolve(["sim", "kraken"]) is None
    assert _resolve(["quote", "accept", "binance", "ID"]) is None
    assert _resolve(["accounts"]) is not None  # a group alone is not a command
