#!/usr/bin/env bash
# Installs the pinned django-allauth test app's packages (test/apps/allauth/requirements.txt) once into a
# virtualenv in the cache. pip installs them from PyPI by name, so the only outside source is that registry.
# Usage: hack/fetch-allauth.sh      (ALLAUTH_PYTHON picks the interpreter; default python3, 3.10 or later)
# Prints the virtualenv directory (with bin/python) on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUIREMENTS=test/apps/allauth/requirements.txt
VERSION="$(sed -nE 's/^django-allauth(\[[a-z,]+\])?==([^ ]+).*/\2/p' "$REQUIREMENTS")"
CACHE="${MFA_OPERATOR_CACHE:-$HOME/.cache/mfa-operator}"
DEST="$CACHE/apps/allauth/$VERSION"
PYTHON="${ALLAUTH_PYTHON:-python3}"

# The copy of the requirements inside the venv says what it holds: a changed pin installs afresh.
if [ -x "$DEST/bin/python" ] && cmp -s "$REQUIREMENTS" "$DEST/requirements.txt"; then
  echo "$DEST"
  exit 0
fi

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Django 5.2 needs Python 3.10 or later; set ALLAUTH_PYTHON")'
mkdir -p "$CACHE/apps/allauth"
WORK="$(mktemp -d "$CACHE/apps/allauth/.fetch-$VERSION-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "installing django-allauth $VERSION and Django into a virtualenv (about 60 MB)" >&2
"$PYTHON" -m venv "$WORK/venv"
# --no-deps: the file pins every package, so nothing unpinned comes in.
"$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check --no-input --no-deps -r "$REQUIREMENTS" >&2
"$WORK/venv/bin/python" -c 'import allauth.mfa, django, qrcode, fido2' >&2
cp "$REQUIREMENTS" "$WORK/venv/requirements.txt"
# bin/python finds the venv by its own location, so the renamed venv works (pip's script shebangs would not;
# nothing here runs them). A rename is atomic: a concurrent or interrupted install never looks finished.
if [ -e "$DEST" ]; then mv -T "$DEST" "$WORK/stale"; fi
mv -T "$WORK/venv" "$DEST" 2>/dev/null || cmp -s "$REQUIREMENTS" "$DEST/requirements.txt"
echo "$DEST"
