#!/usr/bin/env bash
# Builds the demo app's test image (test/apps/demo/Containerfile) the way build.sh builds the
# product image; the end-to-end suites load it into the local cluster:
#   hack/image/build-demo-app.sh [IMAGE]   (default localhost/mfa-operator-demo-app:dev)
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/build.sh" "${1:-localhost/mfa-operator-demo-app:dev}" test/apps/demo/Containerfile
