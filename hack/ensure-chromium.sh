#!/usr/bin/env bash
# Debian's chromium is the browser the runner drives (playwright-core cannot download one here), and
# libnss3-tools' certutil writes the NSS database of extra CAs a run's browser trusts (spec.account.caBundleRef).
set -euo pipefail
if [ -x /usr/bin/chromium ] && command -v certutil >/dev/null; then exit 0; fi
echo "installing Debian chromium and libnss3-tools (needs root and the Debian package mirror)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium fonts-liberation libnss3-tools >/dev/null
