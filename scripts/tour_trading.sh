#!/usr/bin/env bash
# The trading part of the tour, against the simulators (each command starts its own, with a
# funded demo account): a quote accepted on Binance, a limit order placed, filled and shown on
# Kraken. Usage: bash scripts/tour_trading.sh [BIN_DIR]   (default .venv/bin)
set -euo pipefail
BIN="${1:-.venv/bin}"
run() {
    echo "+ xest $*"
    "$BIN/xest" "$@"
    echo
}
run --sim quote binance BTC/USDT buy 0.01 --accept --yes
# A limit above the ask crosses the book: it fills at once, and --wait shows it final.
run --sim order kraken BTC/USD buy 0.01 --limit 31000 --wait --yes
