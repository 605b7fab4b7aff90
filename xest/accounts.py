"""Named accounts: who trades, on which exchange, with which keys.

Accounts come from a TOML file (``XEST_CONFIG``, else ``$XDG_CONFIG_HOME/xest/config.toml``,
else ``~/.config/xest/config.toml``)::

    [accounts.alice]
    exchange = "kraken"
    key_env = "ALICE_KRAKEN_KEY"        # better: the names of environment variables...
    secret_env = "ALICE_KRAKEN_SECRET"

    [accounts.bob]
    exchange = "binance"
    key = "..."                         # ...than the secrets themselves (then chmod 600)
    secret = "..."
    default = true                      # used when no account is named for binance

and from ``XEST_<EXCHANGE>_KEY`` / ``XEST_<EXCHANGE>_SECRET``, which make an account named
``default`` for that exchange. Keys and secrets are never shown: :class:`Account` hides them
from ``repr`` and only :meth:`Account.credentials` reads them.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import attrs

from xest import errors
from xest.credentials import Credentials

__all__ = [
    "DEFAULT_ACCOUNT",
    "Account",
    "Config",
    "accounts",
    "config_path",
    "env_name",
    "load_config",
    "resolve",
]

log = logging.getLogger("xest.config")

DEFAULT_ACCOUNT = "default"
_FIELDS = {
    "exchange",
    "key",
    "secret",
    "key_env",
    "secret_env",
    "default",
    "description",
    "url",
    "testnet",
}


def env_name(exchange: str, what: str) -> str:
    """``XEST_KRAKEN_KEY`` and friends."""
    return f"XEST_{exchange.upper().replace('-', '_')}_{what}"


def config_path() -> Path:
    """Where the config file is (whether or not it exists)."""
    explicit = os.environ.get("XEST_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "xest" / "config.toml"


@attrs.frozen(repr=False)
class Account:
    """A named account on one exchange. ``source`` says where it was defined."""

    name: str
    exchange: str
    source: str  # the config file's path, or "environment"
    key: str | None = attrs.field(default=None, eq=False)
    secret: str | None = attrs.field(default=None, eq=False)
    key_env: str | None = None
    secret_env: str | None = None
    default: bool = False
    description: str = ""
    url: str | None = None  # another base URL for this account (a testnet, a proxy)
    testnet: bool = False  # the exchange's test network

    def __repr__(self) -> str:
        return f"Account(name={self.name!r}, exchange={self.exchange!r}, source={self.source!r})"

    __str__ = __repr__

    def __getstate__(self) -> dict:
        raise TypeError("Account cannot be pickled: it may hold secrets")

    @property
    def secret_source(self) -> str:
        """How the secret is given, for display: ``env:NAME``, ``inline`` or ``missing``."""
        if self.secret_env:
            return f"env:{self.secret_env}"
        return "inline" if self.secret else "missing"

    def credentials(self) -> Credentials:
        """Read the key and secret (from the environment when so configured)."""
        key = _value(self, "key", self.key, self.key_env)
        secret = _value(self, "secret", self.secret, self.secret_env)
        return Credentials(key, secret, self.name)


def _value(account: Account, what: str, inline: str | None, env: str | None) -> str:
    if env:
        value = os.environ.get(env)
        if not value:
            raise errors.ConfigError(
                f"account {account.name!r} takes its {what} from ${env}, which is not set; "
                f"export {env}=... (or fix {what}_env in {account.source})"
            )
        return value
    if not inline:
        raise errors.ConfigError(
            f"account {account.name!r} has no {what}: set {what}_env (the name of an environment "
            f"variable holding it) or {what} in {account.source}"
        )
    return inline


@attrs.frozen
class Config:
    path: Path
    exists: bool
    accounts: dict[str, Account]


_warned: set[tuple[str, float]] = set()


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config, a broken one a ConfigError."""
    path = path or config_path()
    try:
        data = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        return Config(path, False, {})
    except OSError as exc:
        raise errors.ConfigError(f"cannot read {path}: {exc.strerror}") from None
    _check_permissions(path, mode)
    import tomllib  # only when there is a file to read: most runs have none

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise errors.ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it") from None
    return Config(path, True, _parse_accounts(path, document.get("accounts", {})))


def _check_permissions(path: Path, mode: int) -> None:
    if os.name != "posix" or not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return
    key = (str(path), path.stat().st_mtime)
    if key in _warned:  # once per file version, not at every poll of a long-running watch
        return
    _warned.add(key)
    log.warning(
        "warning: %s is accessible to other users (mode %s); it may hold secrets: chmod 600 %s",
        path,
        oct(mode & 0o777),
        path,
    )


def _parse_accounts(path: Path, table: Any) -> dict[str, Account]:
    if not isinstance(table, dict):
        raise errors.ConfigError(f"{path}: 'accounts' must be a table like [accounts.alice]")
    result = {}
    for name, entry in table.items():
        where = f"{path}: [accounts.{name}]"
        if not isinstance(entry, dict):
            raise errors.ConfigError(f"{where} must be a table with exchange, key_env, secret_env")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise errors.ConfigError(
                f"{where} has unknown field(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(_FIELDS))}"
            )
        exchange = entry.get("exchange")
        if not isinstance(exchange, str) or not exchange:
            raise errors.ConfigError(f'{where} needs exchange = "kraken" (or another exchange)')
        for field in ("key", "secret", "key_env", "secret_env", "description", "url"):
            if field in entry and not isinstance(entry[field], str):
                raise errors.ConfigError(f"{where}: {field} must be a string")
        if not isinstance(entry.get("testnet", False), bool):
            raise errors.ConfigError(f"{where}: testnet must be true or false")
        if "url" in entry and entry.get("testnet"):
            raise errors.ConfigError(f"{where}: give url or testnet = true, not both")
        if ("key" in entry and "key_env" in entry) or ("secret" in entry and "secret_env" in entry):
            raise errors.ConfigError(f"{where}: give key/secret or key_env/secret_env, not both")
        result[name] = Account(
            name=name,
            exchange=exchange.lower(),
            source=str(path),
            key=entry.get("key"),
            secret=entry.get("secret"),
            key_env=entry.get("key_env"),
            secret_env=entry.get("secret_env"),
            default=bool(entry.get("default", False)),
            description=entry.get("description", ""),
            url=entry.get("url"),
            testnet=entry.get("testnet", False),
        )
    return result


def _env_account(exchange: str) -> Account | None:
    key_var, secret_var = env_name(exchange, "KEY"), env_name(exchange, "SECRET")
    if os.environ.get(key_var) or os.environ.get(secret_var):
        return Account(
            DEFAULT_ACCOUNT, exchange, "environment", key_env=key_var, secret_env=secret_var
        )
    return None


def accounts(exchange: str | None = None, *, exchanges: tuple[str, ...] = ()) -> list[Account]:
    """Every known account (of ``exchange`` only, when given): the config file's, then the
    environment's default accounts (``XEST_<EXCHANGE>_KEY``) for ``exchange`` or ``exchanges``
    (the environment cannot be listed without knowing which exchanges to look for)."""
    config = load_config()
    found = [a for a in config.accounts.values() if exchange is None or a.exchange == exchange]
    for name in (exchange,) if exchange else exchanges:
        env = _env_account(name)
        if env is not None and not _config_default_named(config, name):
            found.append(env)
    return found


def _config_default_named(config: Config, exchange: str) -> Account | None:
    """The config's own account named ``default``, if it is one of ``exchange``'s."""
    account = config.accounts.get(DEFAULT_ACCOUNT)
    return account if account is not None and account.exchange == exchange else None


def resolve(exchange: str, name: str | None) -> Account | None:
    """The account to use on ``exchange``.

    A named account must exist and belong to ``exchange`` (ConfigError otherwise). Without a
    name: ``XEST_<EXCHANGE>_KEY``/``_SECRET`` if set, else the config's account for
    ``exchange`` marked ``default = true``, else None (public data only).
    """
    exchange = exchange.lower()
    config = load_config()
    if name is None:
        env = _env_account(exchange)
        if env is not None:
            return env
        defaults = [a for a in config.accounts.values() if a.exchange == exchange and a.default]
        if len(defaults) > 1:
            names = ", ".join(a.name for a in defaults)
            raise errors.ConfigError(
                f"several {exchange} accounts are marked default ({names}) in {config.path}; "
                "keep default = true on one"
            )
        return defaults[0] if defaults else None
    account = config.accounts.get(name)
    if name == DEFAULT_ACCOUNT and not _config_default_named(config, exchange):
        account = _env_account(exchange) or account
    if account is None:
        known = [a.name for a in config.accounts.values() if a.exchange == exchange]
        hint = (
            f"known {exchange} accounts: {', '.join(known)}"
            if known
            else (f"no {exchange} account is configured")
        )
        raise errors.ConfigError(
            f"no account named {name!r} ({hint}); add [accounts.{name}] with "
            f'exchange = "{exchange}", key_env and secret_env to {config.path}, '
            "see `xest accounts list`"
        )
    if account.exchange != exchange:
        raise errors.ConfigError(
            f"account {name!r} is a {account.exchange} account, not {exchange}; "
            f"use `--account` with one of `xest accounts list`'s {exchange} accounts"
        )
    return account
