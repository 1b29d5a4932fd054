#!/usr/bin/env bash
# Prints the containers.conf that podman needs on this kind of host, for CONTAINERS_CONF:
# runc instead of crun (crun refuses a hybrid cgroup v1 layout) and default ulimits no higher
# than this shell's hard limits (root may lack CAP_SYS_RESOURCE, so runc cannot raise them).
set -euo pipefail
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] && nofile=1048576
[ "$nproc" = unlimited ] && nproc=1048576
[ "$nofile" -gt 20000 ] && nofile=20000
[ "$nproc" -gt 32768 ] && nproc=32768
cat <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
