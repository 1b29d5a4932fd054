#!/usr/bin/env bash
# Installs a Python test app's pinned packages (test/apps/APP/requirements.txt) once into a virtualenv in the
# cache. pip installs them from PyPI by name, so the only outside source is that registry. The app's release is
# the pin on the file's first requirement line (its main package), e.g. `django-allauth[mfa]==65.22.1`.
# Usage: hack/fetch-python-app.sh APP     (allauth, django-two-factor; MFA_APP_PYTHON picks the interpreter:
#        default python3, 3.10 or later)
# Prints the virtualenv directory (with bin/python) on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
APP="${1:?usage: hack/fetch-python-app.sh APP (a folder of test/apps with a requirements.txt)}"
REQUIREMENTS="test/apps/$APP/requirements.txt"
[ -f "$REQUIREMENTS" ] || { echo "no $REQUIREMENTS: APP must be a Python test app of test/apps" >&2; exit 2; }
MAIN="$(grep -m1 -E '^[A-Za-z0-9]' "$REQUIREMENTS")"
PACKAGE="${MAIN%%==*}"
VERSION="$(sed -nE 's/^[^=]+==([^ ]+).*/\1/p' <<<"$MAIN")"
[ -n "$VERSION" ] || { echo "$REQUIREMENTS: its first requirement ($MAIN) pins no release with ==" >&2; exit 2; }
CACHE="${MFA_OPERATOR_CACHE:-$HOME/.cache/mfa-operator}"
DEST="$CACHE/apps/$APP/$VERSION"
PYTHON="${MFA_APP_PYTHON:-python3}"

# The copy of the requirements inside the venv says what it holds: a changed pin installs afresh.
if [ -x "$DEST/bin/python" ] && cmp -s "$REQUIREMENTS" "$DEST/requirements.txt"; then
  echo "$DEST"
  exit 0
fi

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Django 5.2 needs Python 3.10 or later; set MFA_APP_PYTHON")'
mkdir -p "$CACHE/apps/$APP"
WORK="$(mktemp -d "$CACHE/apps/$APP/.fetch-$VERSION-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "installing $PACKAGE $VERSION and its pinned packages into a virtualenv" >&2
"$PYTHON" -m venv "$WORK/venv"
# --no-deps: the file pins every package, so nothing unpinned comes in; pip check then fails on a missing pin.
"$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check --no-input --no-deps -r "$REQUIREMENTS" >&2
"$WORK/venv/bin/python" -m pip check --disable-pip-version-check >&2
cp "$REQUIREMENTS" "$WORK/venv/requirements.txt"
# bin/python finds the venv by its own location, so the renamed venv works (pip's script shebangs would not;
# nothing here runs them). A rename is atomic: a concurrent or interrupted install never looks finished.
if [ -e "$DEST" ]; then mv -T "$DEST" "$WORK/stale"; fi
mv -T "$WORK/venv" "$DEST" 2>/dev/null || cmp -s "$REQUIREMENTS" "$DEST/requirements.txt"
echo "$DEST"
