#!/usr/bin/env bash
# The kind leg of CI: the suite on real kind clusters, offline. KIT_DIR is a kit whose setup.sh brings up a
# Docker engine, kind, kubectl and a kind node image with nothing pulled, and prints `export DOCKER_HOST=…`,
# `export PATH=…` and `export KIND_NODE_IMAGE=…` on stdout; its teardown.sh removes all of it again.
# The project itself reads only those ordinary settings. The teardown runs whatever happens (trap), and the
# script exits with the runs' status (0 only when every run passed, or matched its expectation file).
#
# Usage: scripts/ci-kind-leg.sh KIT_DIR [REPORTS_DIR [BINARIES_DIR]]     (REPORTS_DIR default: reports/kind)
# BINARIES_DIR holds kube-apiserver, etcd and upstream Multus (multus, multus-shim, multus-daemon).
# One kindnet cluster serves every plugin in turn (each run reuses it with --keep and replaces the plugin
# the run before installed), which saves a cluster set-up per plugin:
#   1. the bundled plugin, every scenario the nodes' kernel allows                → REPORTS_DIR
#   2. the bundled plugin in thick mode (its daemon as a DaemonSet), the macvlan, bridge and thick
#      scenarios                                                                   → REPORTS_DIR/thick
#   3. upstream Multus thick and 4. thin from BINARIES_DIR, as DaemonSets shaped like upstream's, those
#      scenarios (thick also the bad-input ones), each judged against its expectation file
#                                                             → REPORTS_DIR/upstream-thick, upstream-thin
# Beside all of these, from the start:
#   5. a second cluster: the bundled plugin on the bridge primary the provider configures, the @bridge
#      scenario (pod to pod over a bridge attachment on a node whose primary network is a bridge too)
#                                                                                  → REPORTS_DIR/bridge-primary
#   6. on the local provider, the host scenarios with the control plane from the kit's images beside the
#      binaries of BINARIES_DIR, and the kill test of those containers           → REPORTS_DIR/control-plane
set -uo pipefail

kit="${1:?usage: scripts/ci-kind-leg.sh KIT_DIR [REPORTS_DIR]}"
reports="${2:-reports/kind}"
if [[ ! -x $kit/setup.sh || ! -x $kit/teardown.sh ]]; then
  echo "ci-kind-leg: $kit has no executable setup.sh and teardown.sh" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

say() { printf '[ci-kind-leg %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
kindnet_cluster=ci-kind bridge_cluster=ci-kind-bridge
# A process and everything it started, children first (the control-plane part runs in the background).
kill_tree() {
  local child
  for child in $(ps -o pid= --ppid "$1"); do kill_tree "$child"; done
  kill "$1" 2>/dev/null
}
teardown() {
  # Interrupted while the control-plane part still runs: it is stopped before the Docker engine goes.
  local pid
  for pid in ${cp_pid:-} ${bridge_pid:-}; do
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping a part still running (pid $pid)"
      kill_tree "$pid"
      wait "$pid" 2>/dev/null
    fi
  done
  # A run that failed midway may have kept its cluster: its state and kubeconfig go with it.
  if [[ -n ${DOCKER_HOST:-} ]]; then
    for cluster in "$kindnet_cluster" "$bridge_cluster"; do
      node bin/multus-e2e.mjs cluster down --provider kind --name "$cluster" >&2 2>&1 || true
    done
  fi
  say "kit teardown"
  local t=$SECONDS code=0
  "$kit/teardown.sh" >&2 || code=$?
  if [[ -n ${table:-} ]]; then
    record "kit teardown" "$code" $((SECONDS - t)) "$kit/teardown.sh"
    say "kind leg's parts:"
    cat "$table" >&2
  fi
  ((code == 0)) || { say "kit teardown FAILED (exit $code)"; exit 1; }
}
trap teardown EXIT
trap 'exit 130' INT TERM

# The leg's closing table, a line per part; the parts in the background append to it too (short appends).
table=$reports/runs.txt
mkdir -p "$reports"
: >"$table"
record() { # name, exit code, seconds, what it ran
  printf '  %-16s %-16s %5s s  %s\n' "$1" "$( (($2 == 0)) && echo ok || echo "FAILED (exit $2)")" "$3" "$4" >>"$table"
}

say "kit setup"
t0=$SECONDS
code=0
exports="$("$kit/setup.sh")" || code=$?
record "kit setup" "$code" $((SECONDS - t0)) "$kit/setup.sh"
if ((code != 0)); then
  say "kit setup failed"
  exit 1
fi
eval "$exports"
if [[ -z ${KIND_NODE_IMAGE:-} || -z ${DOCKER_HOST:-} ]]; then
  say "the kit's setup.sh did not export KIND_NODE_IMAGE and DOCKER_HOST"
  exit 1
fi
say "kit ready in $((SECONDS - t0)) s: node image $KIND_NODE_IMAGE, DOCKER_HOST $DOCKER_HOST"

status=0
leg() { # name, reports dir, then multus-e2e run arguments
  local name=$1 dir=$2 t=$SECONDS code=0 judged=
  shift 2
  say "run $name: node bin/multus-e2e.mjs run $* --reports-dir $dir"
  node bin/multus-e2e.mjs run --provider kind --kind-image "$KIND_NODE_IMAGE" --no-vm "$@" --reports-dir "$dir" || code=$?
  say "run $name: exit $code after $((SECONDS - t)) s"
  ((code == 0)) || status=1
  [[ " $* " == *" --expect "* ]] && judged=", failures judged by its expectation file"
  record "$name" "$code" $((SECONDS - t)) "$(node scripts/summary-counts.mjs "$dir/summary.json")$judged ($dir)"
}

bins=${3:-}

# The host scenarios on etcd + kube-apiserver v1.20.2 from the kit's images (local provider, --control-plane
# container:…) beside the same binaries run directly, from the directory given as third argument (it holds
# kube-apiserver and etcd); it passes only when every verdict is the same on both and both runs passed
# (a scenario failing on both would be no difference to the matrix, but the bundled plugin must pass
# everything; .ci/run relies on this for its real-apiserver leg). Then the vitest file that SIGKILLs such
# runs midway and finds no container left after `cluster down` or the next create. This part needs only
# the kit's Docker engine, so it runs beside the kind runs (its lines prefixed "cp | "), which spend most
# of their time waiting on kubelets.
control_plane_part() {
  local status=0 t code
  local apiserver_image=k8s.gcr.io/kube-apiserver:v1.20.2 etcd_image=k8s.gcr.io/etcd:3.4.13-0
  if [[ -x $bins/kube-apiserver && -x $bins/etcd ]]; then
    t=$SECONDS code=0
    node bin/multus-e2e.mjs compare --no-vm --name ci-cp --reports-dir "$reports/control-plane" --control-plane binaries \
      --kube-apiserver "$bins/kube-apiserver" --etcd "$bins/etcd" --control-plane container:v1.20.2 \
      --apiserver-image "$apiserver_image" --etcd-image "$etcd_image" || code=$?
    local failed_columns
    failed_columns=$(node -e '
      const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      process.stdout.write(m.columns.filter((c) => c.exitCode !== 0).map((c) => `${c.label} (exit ${c.exitCode})`).join(", "));
    ' "$reports/control-plane/matrix.json" 2>/dev/null || echo "no matrix.json")
    if [[ -n $failed_columns ]]; then
      say "control plane matrix: runs that did not pass: $failed_columns"
      code=1
    fi
    say "control plane matrix (binaries, container:v1.20.2), host scenarios: exit $code after $((SECONDS - t)) s"
    record control-plane "$code" $((SECONDS - t)) "host scenarios on kube-apiserver + etcd, binaries and containers ($reports/control-plane)"
    ((code == 0)) || status=1
  else
    say "control plane matrix skipped: no kube-apiserver and etcd in '$bins' (third argument)"
  fi
  t=$SECONDS code=0
  MULTUS_E2E_REQUIRE_DOCKER=1 MULTUS_E2E_APISERVER_IMAGE=$apiserver_image MULTUS_E2E_ETCD_IMAGE=$etcd_image \
    npx vitest run clusters/local/container-control-plane.test.ts || code=$?
  say "control plane containers of killed runs (vitest): exit $code after $((SECONDS - t)) s"
  record killed-runs "$code" $((SECONDS - t)) "no control-plane container left by a killed run (clusters/local/container-control-plane.test.ts)"
  ((code == 0)) || status=1
  return $status
}
(control_plane_part 2>&1 | sed -u 's/^/cp | /'; exit "${PIPESTATUS[0]}") &
cp_pid=$!

# The bridge-primary cluster beside the kindnet one (lines prefixed "bridge | "). Its eth1 network gets a
# subnet of its own: Docker refuses a second network with the same pool.
bridge_part() {
  MULTUS_E2E_KIND_PRIMARY=bridge MULTUS_E2E_KIND_ETH1_SUBNET=198.18.253.0/24 \
    leg bridge-primary "$reports/bridge-primary" --name "$bridge_cluster" --tags '@bridge'
  return $status
}
(bridge_part 2>&1 | sed -u 's/^/bridge | /'; exit "${PIPESTATUS[0]}") &
bridge_pid=$!

# The scenarios that exercise what differs between plugin families on kind: attachments, bad input (where
# upstream's findings are), and the thick daemon's own scenarios (skipped on kind, with the reason).
subset='@macvlan or @bridge or @errors or @thick'
leg kindnet "$reports" --name "$kindnet_cluster" --keep
leg bundled-thick "$reports/thick" --name "$kindnet_cluster" --keep --plugin bundled-thick --tags '@macvlan or @bridge or @thick'
if [[ -x $bins/multus && -x $bins/multus-shim && -x $bins/multus-daemon ]]; then
  leg upstream-thick "$reports/upstream-thick" --name "$kindnet_cluster" --keep --plugin "thick:$bins/multus-shim,$bins/multus-daemon" \
    --tags "$subset" --expect expectations/multus-v4.2.2-thick.yaml
  # Not the bad-input scenarios for upstream thin on kind: whether its pod with a refused interface name
  # can be deleted there is a race inside upstream's DEL (expectations/multus-v4.2.2.md#del-invalid-ifname);
  # the local provider judges that scenario, where the outcome is the same every run.
  leg upstream-thin "$reports/upstream-thin" --name "$kindnet_cluster" --plugin "thin:$bins/multus" \
    --tags '@macvlan or @bridge or @thick' --expect expectations/multus-v4.2.2-thin.yaml
else
  say "upstream thin and thick on kind skipped: no multus, multus-shim and multus-daemon in '$bins' (third argument)"
fi
t=$SECONDS code=0
node bin/multus-e2e.mjs cluster down --provider kind --name "$kindnet_cluster" >&2 || code=$?
say "cluster $kindnet_cluster down after $((SECONDS - t)) s"
record "cluster down" "$code" $((SECONDS - t)) "$kindnet_cluster"
((code == 0)) || status=1

wait "$bridge_pid" || status=1
wait "$cp_pid" || status=1

say "kind leg done in $((SECONDS - t0)) s, status $status"
exit "$status"
