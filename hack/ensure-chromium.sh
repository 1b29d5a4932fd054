#!/usr/bin/env bash
# Debian's chromium is the browser the runner drives (playwright-core cannot download one here).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "installing Debian chromium (needs root and the Debian package mirror)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium fonts-liberation >/dev/null
