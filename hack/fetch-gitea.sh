#!/usr/bin/env bash
# Builds the pinned Gitea server (the test app for the gitea connector) once into the cache, from the
# Go module proxy: the only outside source. Gitea's go.mod has replace directives, so `go install
# code.gitea.io/gitea@V` refuses it; the module is downloaded and built inside its own directory.
# CGO_ENABLED=0 is enough: without the sqlite_mattn tag Gitea links the pure-Go modernc.org/sqlite.
# No bindata tag: the server reads its templates, locales and images from STATIC_ROOT_PATH, the copy
# of them kept next to the binary. The webpack/vite frontend (public/assets/js, css) is not built:
# the pages the connector drives are server-rendered forms that work without it (docs/connectors.md).
# Usage: hack/fetch-gitea.sh [VERSION]   (default: test/apps/gitea/GITEA_VERSION)
# Prints the install directory (bin/gitea, share/templates, share/options, share/public) on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${1:-$(cat test/apps/gitea/GITEA_VERSION)}"
CACHE="${MFA_OPERATOR_CACHE:-$HOME/.cache/mfa-operator}"
DEST="$CACHE/apps/gitea/$VERSION"

if [ -x "$DEST/bin/gitea" ]; then
  echo "$DEST"
  exit 0
fi

mkdir -p "$CACHE/apps/gitea"
WORK="$(mktemp -d "$CACHE/apps/gitea/.fetch-$VERSION-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "downloading code.gitea.io/gitea@$VERSION from the Go module proxy" >&2
SOURCE="$(go mod download -json "code.gitea.io/gitea@$VERSION" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')"
[ -f "$SOURCE/go.mod" ] || { echo "go mod download gave no module directory for gitea $VERSION" >&2; exit 1; }

echo "building Gitea $VERSION (pure Go, a few minutes on 2 cores)" >&2
mkdir -p "$WORK/release/bin" "$WORK/release/share"
(cd "$SOURCE" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X main.Version=${VERSION#v} -X main.Tags=" -o "$WORK/release/bin/gitea" .) >&2
cp -R "$SOURCE/templates" "$SOURCE/options" "$SOURCE/public" "$WORK/release/share/"
# The module cache is read-only; the copies need not be.
chmod -R u+w "$WORK/release/share"
"$WORK/release/bin/gitea" --version >&2
# A rename is atomic: a concurrent or interrupted build never leaves a half-built release in place.
mv -T "$WORK/release" "$DEST" 2>/dev/null || [ -x "$DEST/bin/gitea" ]
echo "$DEST"
