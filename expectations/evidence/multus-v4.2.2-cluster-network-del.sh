#!/usr/bin/env bash
# Reproduces, with an upstream Multus thin binary alone, the DEL bug classified in
# expectations/multus-v4.2.2.md#cluster-network-del: when "clusterNetwork" is the absolute path of a
# .conflist, Multus v4.2.2 runs the cluster network's ADD with the full conflist but its DEL with a copy
# that lost every plugin-specific key (pkg/types/conf.go LoadDelegateNetConfFromConfList marshals
# cnitypes.PluginConf), so host-local answers "no IP ranges specified" and the address stays allocated.
#
# Usage: multus-v4.2.2-cluster-network-del.sh /path/to/multus   (as root: it creates network namespaces)
#
# The same conflist is offered in the four ways upstream's docs/configuration.md allows for the cluster
# network (inline "delegates", a name in confDir, a directory path, a file path); for each: ADD, DEL, and
# what is left. Everything lives in two network namespaces ("node" and "pod") and a mktemp directory, all
# removed on exit. Multus needs API access to load a clusterNetwork, so a stand-in API server (Node.js,
# loopback of the node namespace) serves the one pod and 404 for everything else.
# Exit 0: the bug reproduces (file-path shape leaves the allocation behind); 1: it does not; 2: bad usage.
set -euo pipefail

multus=${1:-}
if [[ -z "$multus" || ! -x "$multus" ]]; then
  echo "usage: $0 /path/to/multus  (an executable Multus thin binary; got '${multus}')" >&2
  exit 2
fi
multus=$(readlink -f "$multus")
[[ $(id -u) -eq 0 ]] || { echo "$0: needs root (it creates network namespaces)" >&2; exit 2; }
cni_bin=${CNI_BIN_DIR:-/usr/lib/cni}
for plugin in bridge host-local; do
  [[ -x "$cni_bin/$plugin" ]] || { echo "$0: no $cni_bin/$plugin (Debian: apt-get install containernetworking-plugins; or set CNI_BIN_DIR)" >&2; exit 2; }
done
command -v node >/dev/null || { echo "$0: needs node for the stand-in API server" >&2; exit 2; }

work=$(mktemp -d /tmp/multus-del-repro.XXXXXX)
tag=$(basename "$work" | tr -cd 'a-zA-Z0-9' | tail -c 8)
node_ns="repro-node-$tag"
pod_ns="repro-pod-$tag"
api_pid=""
cleanup() {
  [[ -n "$api_pid" ]] && kill "$api_pid" 2>/dev/null || true
  ip netns del "$pod_ns" 2>/dev/null || true
  ip netns del "$node_ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$node_ns"
ip -n "$node_ns" link set lo up

# --- stand-in API server: GET/PUT of one pod, 404 (a Kubernetes Status) for the rest ---
pod_namespace=repro
pod_name=repro-pod
pod_uid=6f1c1f3e-0000-4000-8000-00000000beef
cat > "$work/api.mjs" <<'JS'
import http from 'node:http';
import { writeFileSync } from 'node:fs';
const [portFile, namespace, name, uid] = process.argv.slice(2);
const podPath = `/api/v1/namespaces/${namespace}/pods/${name}`;
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid, resourceVersion: '1', annotations: {} }, spec: {}, status: {} };
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const path = (req.url ?? '').split('?')[0];
    const send = (code, body) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if ((req.method === 'GET' && path === podPath) || (req.method === 'PUT' && path === `${podPath}/status`)) return send(200, pod);
    send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` });
  });
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
JS
ip netns exec "$node_ns" node "$work/api.mjs" "$work/api.port" "$pod_namespace" "$pod_name" "$pod_uid" &
api_pid=$!
for _ in $(seq 50); do [[ -s "$work/api.port" ]] && break; sleep 0.1; done
[[ -s "$work/api.port" ]] || { echo "$0: the stand-in API server did not start" >&2; exit 1; }
cat > "$work/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: repro
  cluster:
    server: http://127.0.0.1:$(cat "$work/api.port")
users:
- name: repro
  user:
    token: unused
contexts:
- name: repro
  context:
    cluster: repro
    user: repro
current-context: repro
KC

# --- the cluster network: a bridge + host-local conflist, as a node's primary CNI config would be ---
mkdir -p "$work/net.d"
conflist() {
  printf '%s' '{"cniVersion":"1.0.0","name":"repro-default","plugins":[{"type":"bridge","bridge":"cni0","isGateway":true,' \
    '"ipam":{"type":"host-local","dataDir":"'"$work/ipam"'","ranges":[[{"subnet":"198.18.200.0/24"}]]}}]}'
}
conflist > "$work/net.d/10-repro.conflist"

multus_conf() { # $1: shape
  local common="\"cniVersion\":\"1.0.0\",\"name\":\"multus-cni-network\",\"type\":\"multus\",\"kubeconfig\":\"$work/kubeconfig\",\"confDir\":\"$work/net.d\",\"cniDir\":\"$work/cache\",\"binDir\":\"$cni_bin\",\"logLevel\":\"verbose\",\"logFile\":\"$work/multus.log\""
  case $1 in
    delegates) echo "{$common,\"delegates\":[$(conflist)]}" ;;
    name) echo "{$common,\"clusterNetwork\":\"repro-default\"}" ;;
    directory) echo "{$common,\"clusterNetwork\":\"$work/net.d\"}" ;;
    file-path) echo "{$common,\"clusterNetwork\":\"$work/net.d/10-repro.conflist\"}" ;;
  esac
}

cni() { # $1: ADD|DEL, $2: container id, $3: shape; prints the plugin's stdout, returns its exit code
  multus_conf "$3" | ip netns exec "$node_ns" env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="$2" \
    CNI_NETNS="/run/netns/$pod_ns" CNI_IFNAME=eth0 CNI_PATH="$cni_bin" \
    CNI_ARGS="IgnoreUnknown=true;K8S_POD_NAMESPACE=$pod_namespace;K8S_POD_NAME=$pod_name;K8S_POD_INFRA_CONTAINER_ID=$2;K8S_POD_UID=$pod_uid" \
    "$multus"
}

leftovers() { # $1: container id; prints what of it is still there, one line each
  grep -rl -- "$1" "$work/ipam" "$work/cache" 2>/dev/null | sed "s|^$work/|  file still naming the container: |" || true
  ip -n "$pod_ns" -br addr show dev eth0 2>/dev/null | sed 's/^/  pod interface still there: /' || true
}

file_path_leaks=""
file_path_ran=""
for shape in delegates name directory file-path; do
  ip netns add "$pod_ns"
  id="repro$(printf '%s' "$shape" | md5sum | cut -c1-20)"
  echo "== clusterNetwork shape: $shape"
  echo "-- multus config: $(multus_conf "$shape" | sed "s|$work|\$WORK|g")"
  if ! cni ADD "$id" "$shape" >"$work/add.out" 2>"$work/add.err"; then
    echo "ADD failed, so this shape says nothing about DEL: $(cat "$work/add.out" "$work/add.err")"
    ip netns del "$pod_ns"; continue
  fi
  [[ "$shape" == file-path ]] && file_path_ran=yes
  echo "-- ADD: exit 0, eth0 $(ip -n "$pod_ns" -br addr show dev eth0 | awk '{print $3}')"
  set +e; cni DEL "$id" "$shape" >"$work/del.out" 2>"$work/del.err"; rc=$?; set -e
  echo "-- DEL: exit $rc; result on stdout: $(tr -s ' \n' ' ' <"$work/del.out")"
  sed "s|$work|\$WORK|g;s/^/   multus log: /" "$work/del.err"
  left=$(leftovers "$id")
  if [[ -n "$left" ]]; then echo "-- left behind:"; echo "$left"; else echo "-- left behind: nothing"; fi
  [[ "$shape" == file-path && -n "$left" ]] && file_path_leaks=yes
  # A fresh pod namespace, IPAM dir, cache and bridge for the next shape, so shapes do not see each other's leftovers.
  ip netns del "$pod_ns"
  rm -rf "$work/ipam" "$work/cache"
  ip -n "$node_ns" link del cni0 2>/dev/null || true
done

echo
if [[ -n "$file_path_leaks" ]]; then
  echo "REPRODUCED: with \"clusterNetwork\" as a .conflist file path, $("$multus" -version 2>&1 | head -n 1) leaves the cluster network's IPAM allocation and cache behind on DEL."
  exit 0
fi
if [[ -z "$file_path_ran" ]]; then
  echo "NOT REPRODUCED: ADD with \"clusterNetwork\" as a .conflist file path failed, so DEL could not be tried."
else
  echo "NOT REPRODUCED: DEL with \"clusterNetwork\" as a .conflist file path left nothing behind."
fi
exit 1
