"""Keep secrets out of log lines and error messages.

Two nets: the exact strings known to be secret for a request (API key, secret, whatever the
signer added), and patterns for the names exchanges give signatures and keys, in case an error
page echoes a request back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "<redacted>"

_NAMED = re.compile(
    r"(?i)\b(signature|sign|api[-_]?sign|api[-_]?key|apikey|x-mbx-apikey|secret|"
    r"api[-_]?secret|otp|password)(\s*[=:]\s*[\"']?)([^&\s\"',;}]+)"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _NAMED.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
