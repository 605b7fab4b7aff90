"""Recorded Binance answers, from the documented response examples (see conformance.py)."""
