#!/bin/sh
# Shows, with upstream's multus-shim alone, what it answers when no multus-daemon listens on its socket
# dir (expectations/multus-v4.2.2.md#thick-daemon-down): DEL exits 0 at once (pkg/server/api/shim.go
# CmdDel returns nil after CheckAPIReadyNow fails), ADD polls the socket for 60 s (WaitUntilAPIReady) and
# then fails with CNI error code 999, not 11 ("Try again later").
#
# Usage: multus-v4.2.2-shim-daemon-down.sh /path/to/multus-shim   (root: unshare --net)
# The shim runs in a throw-away network namespace (unshare --net), because skel refuses a CNI_NETNS equal
# to the plugin's own; CNI_NETNS names the host's, which the shim never enters. Nothing is left behind.
# Exit 0: DEL exits 0 with the daemon down (the bug reproduces); 1: it does not; 2: bad usage.
set -u
shim=${1:-}
if [ -z "$shim" ] || [ ! -x "$shim" ]; then
  echo "usage: $0 /path/to/multus-shim" >&2
  exit 2
fi
socket_dir=$(mktemp -d)
trap 'rmdir "$socket_dir"' EXIT
conf="{\"cniVersion\":\"1.0.0\",\"name\":\"multus-cni-network\",\"type\":\"multus-shim\",\"daemonSocketDir\":\"$socket_dir/\"}"
del_rc=
for cmd in DEL ADD; do
  start=$(date +%s)
  out=$(printf '%s' "$conf" | CNI_COMMAND=$cmd CNI_CONTAINERID=c0ffee CNI_NETNS=/proc/1/ns/net CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin \
    unshare --net "$shim" 2>/dev/null)
  rc=$?
  echo "$cmd: exit $rc after $(($(date +%s) - start)) s, stdout: $(printf '%s' "$out" | tr '\n' ' ' | tr -s ' ')"
  [ "$cmd" = DEL ] && del_rc=$rc
done
[ "$del_rc" = 0 ]
