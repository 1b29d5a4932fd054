#!/usr/bin/env bash
# Builds the Dockerfile (or CONTAINERFILE, relative to the repository) with podman into the local
# image IMAGE (the Makefile's IMG); the context is always the repository with its .dockerignore:
#   hack/image/build.sh IMAGE [CONTAINERFILE]
# on the base that hack/image/base.sh makes here. The machine's CA bundle is handed to the npm
# steps as the build secret build-ca (for a TLS-intercepting proxy) and never enters a layer.
# Two podman settings this host needs go in a containers.conf of this build only: runc (crun
# refuses a hybrid cgroup v1 layout) and default ulimits within the current hard limits (root
# here lacks CAP_SYS_RESOURCE, so raising RLIMIT_NOFILE fails). The build uses the host's
# network namespace: no bridge, NAT or iptables rules are made for it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
image=${1:?usage: hack/image/build.sh IMAGE [CONTAINERFILE]}
containerfile=$repo/${2:-Dockerfile}
ca_bundle=${BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

"$repo/hack/image/base.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/mfa-image-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
export CONTAINERS_CONF=$work/containers.conf
"$repo/hack/image/containers-conf.sh" >"$CONTAINERS_CONF"

secret=()
[ -r "$ca_bundle" ] && secret=(--secret "id=build-ca,src=$ca_bundle")
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)

echo "image: building $image from $containerfile (podman, base localhost/node)"
started=$SECONDS
podman build --pull=never --network=host "${secret[@]}" \
  --build-arg "REVISION=$revision" --tag "$image" --file "$containerfile" "$repo"
echo "image: built $image in $((SECONDS - started))s; $(podman image inspect --format '{{.Size}}' "$image") bytes"
