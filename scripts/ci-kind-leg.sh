#!/usr/bin/env bash
# The kind leg of CI: the suite on real kind clusters, offline. KIT_DIR is a kit whose setup.sh brings up a
# Docker engine, kind, kubectl and a kind node image with nothing pulled, and prints `export DOCKER_HOST=…`,
# `export PATH=…` and `export KIND_NODE_IMAGE=…` on stdout; its teardown.sh removes all of it again.
# The project itself reads only those ordinary settings. The teardown runs whatever happens (trap), and the
# script exits with the runs' status (0 only when every run passed).
#
# Usage: scripts/ci-kind-leg.sh KIT_DIR [REPORTS_DIR [BINARIES_DIR]]     (REPORTS_DIR default: reports/kind)
# Runs, one cluster at a time:
#   1. the bundled plugin on kindnet, every scenario the nodes' kernel allows    → REPORTS_DIR
#   2. the bundled plugin on the bridge primary the provider configures, the @bridge scenario (pod to pod
#      over a bridge attachment on a node whose primary network is a bridge too)
#                                                                                → REPORTS_DIR/bridge-primary
#   3. the bundled plugin in thick mode (its daemon as a DaemonSet), the macvlan, bridge, bad-input and
#      thick scenarios                                                             → REPORTS_DIR/thick
#   4. on the local provider, the host scenarios with the control plane from the kit's images beside the
#      same binaries (third argument), and the kill test of those containers      → REPORTS_DIR/control-plane
set -uo pipefail

kit="${1:?usage: scripts/ci-kind-leg.sh KIT_DIR [REPORTS_DIR]}"
reports="${2:-reports/kind}"
if [[ ! -x $kit/setup.sh || ! -x $kit/teardown.sh ]]; then
  echo "ci-kind-leg: $kit has no executable setup.sh and teardown.sh" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

say() { printf '[ci-kind-leg %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
teardown() {
  say "kit teardown"
  "$kit/teardown.sh" >&2 || say "kit teardown FAILED (exit $?)"
}
trap teardown EXIT
trap 'exit 130' INT TERM

say "kit setup"
t0=$SECONDS
if ! exports="$("$kit/setup.sh")"; then
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
leg() { # name, then multus-e2e run arguments
  local name=$1 t=$SECONDS code=0
  shift
  say "run $name: node bin/multus-e2e.mjs run $*"
  node bin/multus-e2e.mjs run --provider kind --kind-image "$KIND_NODE_IMAGE" --no-vm "$@" || code=$?
  say "run $name: exit $code after $((SECONDS - t)) s"
  ((code == 0)) || status=1
}

leg kindnet --name ci-kind --reports-dir "$reports"
MULTUS_E2E_KIND_PRIMARY=bridge leg bridge-primary --name ci-kind-bridge --tags '@bridge' --reports-dir "$reports/bridge-primary"
leg bundled-thick --name ci-kind-thick --plugin bundled-thick --tags '@macvlan or @bridge or @errors or @thick' --reports-dir "$reports/thick"

# The host scenarios on etcd + kube-apiserver v1.20.2 from the kit's images (local provider, --control-plane
# container:…) beside the same binaries run directly, from the directory given as third argument (it holds
# kube-apiserver and etcd); exit 0 only when every verdict is the same on both. Then the vitest file that
# SIGKILLs such runs midway and finds no container left after `cluster down` or the next create.
cp_bins=${3:-}
apiserver_image=k8s.gcr.io/kube-apiserver:v1.20.2 etcd_image=k8s.gcr.io/etcd:3.4.13-0
if [[ -x $cp_bins/kube-apiserver && -x $cp_bins/etcd ]]; then
  t=$SECONDS code=0
  node bin/multus-e2e.mjs compare --no-vm --name ci-cp --reports-dir "$reports/control-plane" --control-plane binaries \
    --kube-apiserver "$cp_bins/kube-apiserver" --etcd "$cp_bins/etcd" --control-plane container:v1.20.2 \
    --apiserver-image "$apiserver_image" --etcd-image "$etcd_image" || code=$?
  say "control plane matrix (binaries, container:v1.20.2), host scenarios: exit $code after $((SECONDS - t)) s"
  ((code == 0)) || status=1
else
  say "control plane matrix skipped: no kube-apiserver and etcd in '$cp_bins' (third argument)"
fi
t=$SECONDS code=0
MULTUS_E2E_REQUIRE_DOCKER=1 MULTUS_E2E_APISERVER_IMAGE=$apiserver_image MULTUS_E2E_ETCD_IMAGE=$etcd_image \
  npx vitest run clusters/local/container-control-plane.test.ts || code=$?
say "control plane containers of killed runs (vitest): exit $code after $((SECONDS - t)) s"
((code == 0)) || status=1

say "kind leg done in $((SECONDS - t0)) s, status $status"
exit "$status"
