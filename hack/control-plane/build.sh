#!/usr/bin/env bash
# Builds the development control plane (the real kube-apiserver and etcd, the pair that
# controller-runtime's envtest runs) from Go modules only, into DEST:
#   hack/control-plane/build.sh DEST
# The Makefile passes $(KUBEBUILDER_ASSETS). When DEST already holds both binaries (our
# own earlier build, or envtest binaries the user pointed KUBEBUILDER_ASSETS at) nothing
# is built. Each binary is built into a temporary file beside DEST and moved into place,
# so an interrupted build never leaves a half-written binary that would look finished.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=${1:?usage: hack/control-plane/build.sh DEST (the directory KUBEBUILDER_ASSETS names)}
version=$(tr -d '[:space:]' <"$here/KUBERNETES_VERSION")

if [ -x "$dest/kube-apiserver" ] && [ -x "$dest/etcd" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: go is not on PATH; install Go 1.26 or newer, or set KUBEBUILDER_ASSETS" \
    "to a directory that already holds kube-apiserver and etcd" >&2
  exit 1
fi

minor=${version#v1.}
minor=${minor%%.*}
mkdir -p "$dest"
staging=$(mktemp -d "$dest/.build.XXXXXX")
trap 'rm -rf "$staging"' EXIT

# build NAME MODULE_DIR PACKAGE LDFLAGS: go build PACKAGE of the wrapper module into DEST/NAME.
build() {
  local name=$1 module_dir=$2 package=$3 ldflags=$4
  if [ -x "$dest/$name" ]; then
    echo "control-plane: $dest/$name is present, keeping it"
    return
  fi
  echo "control-plane: building $name ($package) into $dest; a cold build takes minutes"
  local started=$SECONDS
  (cd "$here/$module_dir" &&
    CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -ldflags "-s -w $ldflags" \
      -o "$staging/$name" "$package")
  mv -f "$staging/$name" "$dest/$name"
  echo "control-plane: built $name in $((SECONDS - started))s"
}

build etcd etcd go.etcd.io/etcd/server/v3 ""
build kube-apiserver kubernetes k8s.io/kubernetes/cmd/kube-apiserver \
  "-X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
