#!/usr/bin/env bash
# The differential legs of CI, after `npm test`: the same host scenarios for several builds, each with a
# verdict of its own, never pooled. Argument (optional): a directory holding kube-apiserver, etcd and
# upstream Multus (multus, multus-shim, multus-daemon), like an envtest KUBEBUILDER_ASSETS dir.
#   1. the bundled plugin in thick mode (per-node daemon + shim) on the embedded API server;
#      and features/faults.feature run against a deliberately broken plugin (steps/faults.test.ts);
#      and, beside all the others, `multus-e2e certify` of Debian's reference CNI plugins and the fixture
#      delegates (scripts/ci-certify.sh);
#      and `multus-e2e stress` of the bundled plugin, small (20 pods × 2 networks, 2 waves): any failed pod or leak fails it;
#   with the directory:
#   2. the vitest files that need those binaries (real control plane, upstream daemon on a node);
#   3. the bundled plugin on the real kube-apiserver + etcd (unless CI_LEGS_REAL_APISERVER_IN_KIND_LEG is set:
#      .ci/run sets it when the kind leg runs, whose control-plane matrix runs the same scenarios on the same binaries);
#   4. upstream thin with upstream's own config shape (the cluster network inline), judged against its
#      expectation file (features/default-network.feature still checks the "clusterNetwork" file-path shape);
#   5. upstream thick (daemon + shim), judged against its expectation file.
# The bundled legs must pass everything. Host scenarios only (--no-vm): the kernel-tagged ones already
# ran in the vm during `npm test`.
set -uo pipefail
cd "$(dirname "$0")/.."
bins=${1:-}

declare -a names=() results=()
status=0
# step NAME COMMAND…: runs it, records its outcome and time for the closing table.
step() {
  local name=$1; shift
  printf '\n== %s (%s)\n' "$name" "$(date -u +%H:%M:%S)"
  local t0=$SECONDS code=0
  "$@" || code=$?
  names+=("$name")
  results+=("$([ $code -eq 0 ] && echo ok || echo "FAILED (exit $code)") in $((SECONDS - t0)) s")
  [ $code -eq 0 ] || status=1
}
leg() {
  local name=$1; shift
  step "leg $name" node bin/multus-e2e.mjs run --no-vm --name "ci-$name" --reports-dir "reports/legs/$name" "$@"
}
# The closing table, also kept in reports/legs/steps.txt for .ci/run's summary.
table() {
  printf '\n== differential legs\n'
  mkdir -p reports/legs
  for i in "${!names[@]}"; do printf '  %-34s %s\n' "${names[$i]}" "${results[$i]}"; done | tee reports/legs/steps.txt
}

# Each certificate must match what that plugin is known to get (Debian's findings, each fixture's one failure).
# Certifying takes longest (ipvlan and vlan in the emulated vm guest) and needs no cluster, so it runs beside
# the steps below; its output is shown when it ends.
mkdir -p reports
printf '\n== certify Debian plugins + fixtures, beside the steps below (%s; output: reports/certify-step.log)\n' "$(date -u +%H:%M:%S)"
certify_t0=$SECONDS
bash scripts/ci-certify.sh >reports/certify-step.log 2>&1 &
certify_pid=$!
certify_done() {
  local code=0
  wait "$certify_pid" || code=$?
  printf '\n== certify Debian plugins + fixtures: output\n'
  cat reports/certify-step.log
  names+=("certify Debian plugins + fixtures")
  results+=("$([ $code -eq 0 ] && echo ok || echo "FAILED (exit $code)") in $((SECONDS - certify_t0)) s (beside the others)")
  [ $code -eq 0 ] || status=1
}

leg bundled-thick --plugin bundled-thick
# features/faults.feature must fail, naming what leaked, for a Multus that throws its cache away on DEL.
step "faults catch a cache-ignoring plugin" env MULTUS_E2E_BROKEN_PLUGIN_RUNS=1 npx vitest run steps/faults.test.ts
step "stress 20 pods x 2 nets x 2 waves" node bin/multus-e2e.mjs stress --pods 20 --networks 2 --waves 2 --parallel 5 \
  --name ci-stress --reports-dir reports/legs/stress

missing=()
for f in kube-apiserver etcd multus multus-shim multus-daemon; do [ -x "$bins/$f" ] || missing+=("$f"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "legs on reference components skipped: ${bins:-no directory given} lacks ${missing[*]}"
  certify_done
  table
  exit $status
fi

step "vitest on the reference binaries" env KUBEBUILDER_ASSETS="$bins" MULTUS_E2E_THICK_BINARIES="$bins" \
  npx vitest run clusters/local/real-control-plane.test.ts clusters/local/thick-plugin.test.ts
if [ -n "${CI_LEGS_REAL_APISERVER_IN_KIND_LEG:-}" ]; then
  names+=("leg bundled-real-apiserver"); results+=("in the kind leg's control-plane matrix (its binaries column)")
else
  leg bundled-real-apiserver --kube-apiserver "$bins/kube-apiserver" --etcd "$bins/etcd"
fi
leg upstream-thin --plugin "thin:$bins/multus" --expect expectations/multus-v4.2.2-thin.yaml
leg upstream-thick --plugin "thick:$bins/multus-shim,$bins/multus-daemon" --expect expectations/multus-v4.2.2-thick.yaml

certify_done
table
exit $status
