#!/usr/bin/env bash
# Prints what a test run may change on this host and must put back, one sorted line per kind of state:
# network links, network namespaces, mounts, iptables chains and policies (IPv4 and IPv6), IP forwarding,
# the container engines and kind/qemu processes, and the work dirs under /var/tmp/multus-e2e. .ci/run
# takes it before the legs start and after all of them ended; any difference fails CI and is printed.
set -uo pipefail
joined() { sort | tr '\n' ' ' | sed 's/ $//'; }
echo "links: $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | joined)"
echo "network namespaces: $(ip netns list 2>/dev/null | awk '{ print $1 }' | joined)"
# /run/netns itself is mounted by the first `ip netns add` and stays, by design of iproute2; what is under it counts.
echo "mounts: $(findmnt -rn -o TARGET | grep -vxE "(/var)?/run/netns" | joined)"
for t in filter nat mangle raw; do
  echo "iptables $t: $(iptables -t "$t" -S 2>/dev/null | awk '$1 == "-P" || $1 == "-N" { print $2 ($3 ? "=" $3 : "") }' | joined)"
done
echo "ip6tables filter: $(ip6tables -S 2>/dev/null | awk '$1 == "-P" || $1 == "-N" { print $2 ($3 ? "=" $3 : "") }' | joined)"
echo "ip_forward: $(cat /proc/sys/net/ipv4/ip_forward) ipv6 forwarding: $(cat /proc/sys/net/ipv6/conf/all/forwarding)"
# Exited processes are not counted: a daemon that exits after its parent run ended is a zombie until PID 1
# reaps it, which some inits do only every few seconds.
echo "processes: $(ps -eo stat=,comm= | awk '$1 !~ /^Z/ { print $2 }' | grep -xE 'dockerd|containerd|containerd-shim.*|kind|qemu-system-.*|kube-apiserver|etcd|multus-daemon' | joined)"
echo "work dirs: $(ls -A /var/tmp/multus-e2e 2>/dev/null | joined)"
