#!/usr/bin/env bash
# Builds what a real one-node cluster needs beside kube-apiserver and etcd, into DEST:
#   hack/control-plane/build-node.sh DEST [PART...]     PART: kubernetes containerd pause (default: all)
# - kubernetes: kubelet, kube-controller-manager, kube-scheduler, kube-proxy, from the same
#   wrapper module as kube-apiserver (./kubernetes) and with the same flags, so they share its
#   Go build cache; the four are built in one invocation.
# - containerd: containerd 2.x, containerd-shim-runc-v2 and ctr (./containerd).
# - pause: the sandbox image, compiled from build/pause/linux/pause.c of the k8s.io/kubernetes
#   module (no image can be pulled here) and written as an OCI archive, DEST/pause.oci.tar.
# runc and the CNI plugins are Debian packages (hack/control-plane/ensure-node-packages.sh).
# DEST is its own directory (the Makefile's NODE_ASSETS), so runs that need only
# KUBEBUILDER_ASSETS are unaffected. Like build.sh, present files are kept and each file is
# written to a temporary name beside DEST and moved into place.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=${1:?usage: hack/control-plane/build-node.sh DEST [kubernetes|containerd|pause ...]}
shift
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(kubernetes containerd pause)
version=$(tr -d '[:space:]' <"$here/KUBERNETES_VERSION")
minor=${version#v1.}
minor=${minor%%.*}
pause_version=3.10.2
pause_image=localhost/mfa-operator/pause:$pause_version

missing() { # missing FILE...: true when any of them is absent
  local f
  for f in "$@"; do [ -e "$dest/$f" ] || return 0; done
  return 1
}

kubernetes_binaries=(kubelet kube-controller-manager kube-scheduler kube-proxy)
containerd_binaries=(containerd containerd-shim-runc-v2 ctr)

todo=()
for part in "${parts[@]}"; do
  case $part in
  kubernetes) missing "${kubernetes_binaries[@]}" || continue ;;
  containerd) missing "${containerd_binaries[@]}" || continue ;;
  pause) missing pause pause.oci.tar || continue ;;
  *) echo "build-node.sh: unknown part '$part' (kubernetes, containerd, pause)" >&2; exit 2 ;;
  esac
  todo+=("$part")
done
[ ${#todo[@]} -gt 0 ] || exit 0

if ! command -v go >/dev/null 2>&1; then
  echo "build-node.sh: go is not on PATH; install Go 1.26 or newer" >&2
  exit 1
fi
mkdir -p "$dest"
staging=$(mktemp -d "$dest/.build.XXXXXX")
trap 'rm -rf "$staging"' EXIT

# publish NAME...: move the staged files into DEST, each by one rename.
publish() {
  local name
  for name in "$@"; do mv -f "$staging/$name" "$dest/$name"; done
}

build_kubernetes() {
  echo "node: building ${kubernetes_binaries[*]} $version into $dest; a cold build takes over 10 minutes on 2 cores"
  local started=$SECONDS
  (cd "$here/kubernetes" &&
    CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean" \
      -o "$staging/" $(printf 'k8s.io/kubernetes/cmd/%s ' "${kubernetes_binaries[@]}"))
  publish "${kubernetes_binaries[@]}"
  echo "node: built ${kubernetes_binaries[*]} in $((SECONDS - started))s"
}

build_containerd() {
  local module_version
  module_version=$(cd "$here/containerd" && go list -m -f '{{.Version}}' github.com/containerd/containerd/v2)
  echo "node: building containerd $module_version (${containerd_binaries[*]}) into $dest"
  local started=$SECONDS
  (cd "$here/containerd" &&
    CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -tags "no_btrfs no_devmapper" \
      -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$module_version" \
      -o "$staging/" $(printf 'github.com/containerd/containerd/v2/cmd/%s ' "${containerd_binaries[@]}"))
  publish "${containerd_binaries[@]}"
  echo "node: built containerd in $((SECONDS - started))s"
}

# The sandbox image as an OCI image layout in a tar: one layer holding /pause, run as 65535
# like upstream's. Written by hand (sha256sum, tar) so no container engine is needed.
build_pause() {
  local source work layer config manifest layer_digest config_digest manifest_digest diff_id
  source=$(cd "$here/kubernetes" && go mod download -json k8s.io/kubernetes | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  work=$staging/pause-image
  mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
  gcc -Os -Wall -Werror -static -DVERSION="v$pause_version-mfa-operator" \
    -o "$staging/pause" "$source/build/pause/linux/pause.c"
  install -m 0755 "$staging/pause" "$work/rootfs/pause"
  layer=$work/layer.tar
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/rootfs" -cf "$layer" pause
  diff_id=$(sha256sum "$layer" | cut -d' ' -f1)
  gzip -n -9 <"$layer" >"$layer.gz"
  layer_digest=$(sha256sum "$layer.gz" | cut -d' ' -f1)
  mv "$layer.gz" "$work/oci/blobs/sha256/$layer_digest"
  config='{"architecture":"amd64","os":"linux","config":{"User":"65535:65535","Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:'$diff_id'"]}}'
  config_digest=$(printf '%s' "$config" | sha256sum | cut -d' ' -f1)
  printf '%s' "$config" >"$work/oci/blobs/sha256/$config_digest"
  manifest='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$config_digest'","size":'${#config}'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'$layer_digest'","size":'$(stat -c %s "$work/oci/blobs/sha256/$layer_digest")'}]}'
  manifest_digest=$(printf '%s' "$manifest" | sha256sum | cut -d' ' -f1)
  printf '%s' "$manifest" >"$work/oci/blobs/sha256/$manifest_digest"
  printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
  printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'$manifest_digest'","size":'${#manifest}',"annotations":{"io.containerd.image.name":"'$pause_image'","org.opencontainers.image.ref.name":"'$pause_version'"}}]}' >"$work/oci/index.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/oci" -cf "$staging/pause.oci.tar" .
  publish pause pause.oci.tar
  echo "node: built the sandbox image $pause_image ($dest/pause.oci.tar)"
}

for part in "${todo[@]}"; do "build_$part"; done
