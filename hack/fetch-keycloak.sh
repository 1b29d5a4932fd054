#!/usr/bin/env bash
# Fetches the pinned Keycloak server (the test app for the keycloak connector) once into the cache.
# Maven fetches the distribution zip, so the only outside source is the Maven registry.
# Usage: hack/fetch-keycloak.sh [VERSION]   (default: test/apps/keycloak/KEYCLOAK_VERSION)
# Prints the install directory (with bin/kc.sh) on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${1:-$(cat test/apps/keycloak/KEYCLOAK_VERSION)}"
CACHE="${MFA_OPERATOR_CACHE:-$HOME/.cache/mfa-operator}"
DEST="$CACHE/apps/keycloak/$VERSION"

if [ -x "$DEST/bin/kc.sh" ]; then
  echo "$DEST"
  exit 0
fi

mkdir -p "$CACHE/apps/keycloak"
WORK="$(mktemp -d "$CACHE/apps/keycloak/.fetch-$VERSION-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "fetching Keycloak $VERSION with Maven (about 170 MB)" >&2
mvn -B -q -ntp -Dstyle.color=never dependency:copy \
  "-Dartifact=org.keycloak:keycloak-quarkus-dist:$VERSION:zip" \
  "-DoutputDirectory=$WORK" >&2
unzip -q "$WORK/keycloak-quarkus-dist-$VERSION.zip" -d "$WORK"
# A rename is atomic: a concurrent or interrupted fetch never leaves a half-unpacked release in place.
mv -T "$WORK/keycloak-$VERSION" "$DEST" 2>/dev/null || [ -x "$DEST/bin/kc.sh" ]
echo "$DEST"
