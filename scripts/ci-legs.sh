#!/usr/bin/env bash
# The differential legs of CI, after `npm test`: the same host scenarios for several builds, each with a
# verdict of its own, never pooled. Argument: a directory holding kube-apiserver, etcd and upstream
# Multus (multus, multus-shim, multus-daemon), e.g. what an envtest-style KUBEBUILDER_ASSETS dir holds.
#   1. the bundled plugin on that real kube-apiserver + etcd (must pass everything);
#   2. upstream thin, with upstream's own config shape (the cluster network inline), judged against its
#      expectation file (features/default-network.feature still checks the "clusterNetwork" file-path shape);
#   3. upstream thick (daemon + shim), judged against its expectation file.
# Host scenarios only (--no-vm): the kernel-tagged ones already ran in the vm during `npm test`.
set -uo pipefail
cd "$(dirname "$0")/.."
bins=${1:?usage: ci-legs.sh DIR (with kube-apiserver, etcd, multus, multus-shim, multus-daemon)}

declare -a names=() results=()
leg() {
  local name=$1; shift
  printf '\n== leg: %s (%s)\n' "$name" "$(date -u +%H:%M:%S)"
  local t0=$SECONDS code=0
  node bin/multus-e2e.mjs run --no-vm --name "ci-$name" --reports-dir "reports/legs/$name" "$@" || code=$?
  names+=("$name")
  results+=("$([ $code -eq 0 ] && echo ok || echo "FAILED (exit $code)") in $((SECONDS - t0)) s")
  return $code
}

missing=()
for f in kube-apiserver etcd multus multus-shim multus-daemon; do [ -x "$bins/$f" ] || missing+=("$f"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "differential legs skipped: $bins lacks ${missing[*]}"
  exit 0
fi

status=0
leg bundled-real-apiserver --kube-apiserver "$bins/kube-apiserver" --etcd "$bins/etcd" || status=1
leg upstream-thin --plugin "thin:$bins/multus" --expect expectations/multus-v4.2.2-thin.yaml || status=1
leg upstream-thick --plugin "thick:$bins/multus-shim,$bins/multus-daemon" --expect expectations/multus-v4.2.2-thick.yaml || status=1

printf '\n== differential legs\n'
for i in "${!names[@]}"; do printf '  %-26s %s\n' "${names[$i]}" "${results[$i]}"; done
exit $status
