"""Base URLs are checked before any request: a typo must read as a typo, not as a network
failure to retry."""

from __future__ import annotations

from urllib.parse import urlsplit

from xest import errors

__all__ = ["check_base_url"]

_SCHEMES = ("http", "https")


def check_base_url(url: str, *, source: str = "the URL") -> str:
    """``url`` if it is a usable REST base URL (``http(s)://host[:port][/path]``), else a
    :class:`~xest.errors.UsageError` saying what is wrong. ``source`` names where it came from
    (``--url``, ``XEST_KRAKEN_URL``, an account's ``url``)."""
    text = url.strip() if isinstance(url, str) else url
    if not isinstance(text, str) or not text:
        raise errors.UsageError(f"{source} is empty: give e.g. https://api.example.com")
    if any(c.isspace() for c in text):
        raise errors.UsageError(
            f"{source} {url!r} contains spaces: give e.g. http://127.0.0.1:8080"
        )
    if "://" not in text:
        raise errors.UsageError(
            f"{source} {url!r} has no scheme: write http://{text} or https://{text}"
        )
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise errors.UsageError(
            f"{source} {url!r} has scheme {parts.scheme!r}; only http:// and https:// are supported"
        )
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise errors.UsageError(
            f"{source} {url!r} has an invalid port: give a number from 1 to 65535"
        ) from None
    if not host:
        raise errors.UsageError(
            f"{source} {url!r} has no host: give e.g. {scheme}://127.0.0.1:8080"
        )
    if port == 0:
        raise errors.UsageError(f"{source} {url!r} has port 0: give a number from 1 to 65535")
    if parts.query or parts.fragment:
        raise errors.UsageError(f"{source} {url!r} must not carry a query or fragment")
    return text.rstrip("/")
