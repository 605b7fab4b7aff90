#!/usr/bin/env bash
# The quick-start tour, against the simulators only (each --sim command starts its exchange's
# simulator in-process on 127.0.0.1, with a funded demo account): no network, no account needed.
# Usage: bash scripts/tour.sh [BIN_DIR]   (default .venv/bin)
set -euo pipefail
BIN="${1:-.venv/bin}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
run() {
    echo "+ xest $*"
    "$BIN/xest" "$@"
    echo
}
run plugins list
run --sim status kraken binance
run --sim time kraken binance
run --sim ticker kraken BTC/USD ETH/USD
run --sim book binance BTC/USDT --depth 5
run --sim balance kraken
run --sim balance binance
run --sim watch kraken --iterations 1
if [ -f "$HERE/tour_trading.sh" ]; then
    bash "$HERE/tour_trading.sh" "$BIN"
fi
echo "Next: xest --sim watch kraken (Ctrl-C to quit), xest --help, and README.md for accounts."
