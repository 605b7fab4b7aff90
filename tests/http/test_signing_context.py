"""The transport's signing context: one per API key, its nonce source found on first use."""

from __future__ import annotations

from xest.credentials import Credentials
from xest.http import transport


def test_one_context_per_key_and_the_nonce_source_only_when_a_signer_asks(monkeypatch):
    asked = []
    monkeypatch.setattr(transport, "nonce_source", lambda key: asked.append(key) or (lambda: 7))
    t = transport.Transport("x", "http://127.0.0.1:9")
    alice, bob = Credentials("key-a", "s"), Credentials("key-b", "s")
    context = t.signing_context(alice)
    assert t.signing_context(alice) is context
    assert t.signing_context(bob) is not context
    assert asked == []  # a signer that needs no nonce (Binance) never resolves one
    assert context.nonce() == 7 and context.nonce() == 7
    assert asked == ["key-a"]
    assert "key-a" not in repr(context)
