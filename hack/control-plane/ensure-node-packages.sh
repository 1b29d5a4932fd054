#!/usr/bin/env bash
# The Debian packages a real node and the image build use: runc (containerd's runtime), the CNI
# plugins (bridge, host-local), iptables, nftables and conntrack (kube-proxy; nft removes the
# tables iptables-nft leaves), podman and mmdebstrap
# (make image). Installed with apt-get when one is missing; needs root and the Debian mirror.
set -euo pipefail
packages=(runc containernetworking-plugins iptables nftables conntrack podman mmdebstrap)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "ensure-node-packages.sh: ${missing[*]} missing; install them as root (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
