// Reads of node and pod state for the "leaves nothing behind" and "has no interface" checks. A check that
// finds nothing must have looked: each read here proves it did (the command succeeded, the directory it
// searched exists, `ip -j` printed a JSON array listing the loopback) or throws saying what it could not
// read and where, so a broken look fails the scenario instead of passing it as "clean".
import type { Cluster, ExecResult } from './provider.ts';
import { parseIpJson, type IpLink } from './ip-state.ts';

/** What a pod can leave on its node, as the leak checks name it. */
export type LeakKind = 'link' | 'address' | 'netns' | 'ipam' | 'cache';
export const LEAK_KINDS: readonly LeakKind[] = ['link', 'address', 'netns', 'ipam', 'cache'];

/** One thing still on a node after the pods that made it are gone. */
export interface Leak {
  kind: LeakKind;
  node: string;
  /** What is left: a link name, "link address/len", a netns path or a file path. */
  object: string;
  /** A sentence naming the object, e.g. "link veth1234 (veth) appeared on node-1 … and is still there". */
  what: string;
}

/** Where the runtime and the plugins keep IPAM allocations and result caches (libcni, host-local, Multus). */
export const CNI_STATE_DIR = '/var/lib/cni';

/** Exit status the node scripts below use for "the directory to look in does not exist". */
const NO_DIRECTORY = 3;

/** What a failed look did and said, e.g. "`ip -j addr` exited 1: Cannot open network namespace". */
function explain(command: string, res: ExecResult): string {
  const said = (res.stderr || res.stdout).trim().slice(0, 500);
  return `\`${command}\` exited ${res.code}${said ? `: ${said}` : ' and printed nothing'}`;
}

// Looks at the path itself rather than at `ip netns list`: the runtime names the namespace (containerd:
// /var/run/netns/cni-<uuid>, the local node agent: /run/netns/<name>) and CNI_NETNS is that exact path.
const NETNS_PRESENCE_SCRIPT = `dir=\${1%/*}
test -d "$dir" || { echo "the directory $dir does not exist" >&2; exit ${NO_DIRECTORY}; }
if test -e "$1"; then echo present; else echo absent; fi`;

/** True when the network namespace at `path` (a CNI_NETNS value) still exists on the node. */
export async function netnsStillExists(cluster: Cluster, node: string, path: string): Promise<boolean> {
  const argv = ['sh', '-c', NETNS_PRESENCE_SCRIPT, 'sh', path];
  const res = await cluster.nodeExec(node, argv);
  const answer = res.stdout.trim();
  if (res.code !== 0 || (answer !== 'present' && answer !== 'absent')) {
    throw new Error(`could not read whether network namespace ${path} still exists on ${node}: ${explain(`test -e ${path}`, res)}`);
  }
  return answer === 'present';
}

// grep exits 1 when nothing matches (a clean node) and 2 when it could not read something; find exits
// non-zero when it could not read. Only "searched everything and found nothing" may come back empty.
const CNI_STATE_SEARCH_SCRIPT = `test -d "$2" || { echo "the directory $2 does not exist" >&2; exit ${NO_DIRECTORY}; }
grep -rlF -- "$1" "$2"
status=$?
test "$status" -le 1 || exit "$status"
find "$2" -name "*$1*"`;

/** How often the search runs before its failure counts: a file another pod's DEL removes mid-search makes grep exit 2. */
const CNI_STATE_SEARCH_ATTEMPTS = 3;

/** Files under `dir` (/var/lib/cni) on the node whose name or content mentions the container id. */
export async function cniStateFilesReferring(cluster: Cluster, node: string, containerId: string, dir = CNI_STATE_DIR): Promise<string[]> {
  const argv = ['sh', '-c', CNI_STATE_SEARCH_SCRIPT, 'sh', containerId, dir];
  let attempts = 0;
  for (;;) {
    const res = await cluster.nodeExec(node, argv);
    attempts++;
    if (res.code === 0) return [...new Set(res.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== ''))];
    // A missing directory will not appear by asking again.
    if (res.code === NO_DIRECTORY || attempts === CNI_STATE_SEARCH_ATTEMPTS) {
      const tries = attempts === 1 ? '' : ` (${attempts} attempts)`;
      throw new Error(`could not search ${dir} on ${node} for container ${containerId.slice(0, 12)}${tries}: ${explain(`grep -rlF ${containerId} ${dir}; find ${dir}`, res)}`);
    }
  }
}

/**
 * Throws unless `links` (an `ip -j link/addr` listing) includes the loopback: every network namespace has
 * one, so a listing without it was not read from a network namespace.
 */
export function requireLoopback(links: IpLink[], where: string): void {
  if (!links.some((l) => l.ifname === 'lo')) {
    throw new Error(`could not read the interfaces of ${where}: the listing has no loopback (${links.map((l) => l.ifname).join(', ') || 'no interface at all'})`);
  }
}

/** The node's links with their addresses (`ip -j -d addr`), proven read from a network namespace. */
export async function readNodeLinks(cluster: Cluster, node: string): Promise<IpLink[]> {
  const argv = ['ip', '-j', '-d', 'addr'];
  const res = await cluster.nodeExec(node, argv);
  if (res.code !== 0) throw new Error(`could not read the interfaces of ${node}: ${explain(argv.join(' '), res)}`);
  const links = parseIpJson<IpLink>(res.stdout, `the interfaces of ${node} (\`${argv.join(' ')}\`)`);
  requireLoopback(links, node);
  return links;
}

/** "ifname address/len" of every address on the links, to compare a node before and after. */
export function addressKeys(links: readonly IpLink[]): Set<string> {
  return new Set(links.flatMap((l) => (l.addr_info ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`)));
}

/** What of the node looked at: its links before the pods came, and the pods' container ids and CNI_NETNS paths. */
export interface LeftoverScope {
  /** Names of the node's links before the pods came. */
  linksBefore: ReadonlySet<string>;
  /** addressKeys() of the node before the pods came; addresses are compared only when given. */
  addressesBefore?: ReadonlySet<string>;
  /** Other pods still run on the node: their veths are theirs, not leftovers. */
  podsStillOnNode: boolean;
  containerIds: readonly string[];
  netnsPaths: readonly string[];
  /** Where the node keeps CNI state (default CNI_STATE_DIR). */
  cniStateDir?: string;
}

/**
 * What of the scoped pods is still on the node: links and addresses that appeared since (bridges, made by the
 * bridge plugin, stay by design, and so do their gateway addresses), the pods' network namespaces, and files
 * under /var/lib/cni naming their containers (IPAM allocations under networks/, caches elsewhere).
 */
export async function leftoversOnNode(cluster: Cluster, node: string, scope: LeftoverScope): Promise<Leak[]> {
  const leaks: Leak[] = [];
  for (const link of await readNodeLinks(cluster, node)) {
    const kind = link.linkinfo?.info_kind;
    if (kind === 'bridge') continue;
    if (!scope.linksBefore.has(link.ifname)) {
      if (kind === 'veth' && scope.podsStillOnNode) continue;
      leaks.push({ kind: 'link', node, object: link.ifname, what: `link ${link.ifname} (${kind ?? 'unknown kind'}) appeared on ${node} and is still there` });
      continue;
    }
    if (!scope.addressesBefore) continue;
    for (const key of addressKeys([link])) {
      if (!scope.addressesBefore.has(key)) leaks.push({ kind: 'address', node, object: key, what: `address ${key.split(' ')[1]} appeared on ${link.ifname} of ${node} and is still there` });
    }
  }
  for (const path of scope.netnsPaths) {
    if (await netnsStillExists(cluster, node, path)) leaks.push({ kind: 'netns', node, object: path, what: `network namespace ${path} still exists on ${node}` });
  }
  const stateDir = scope.cniStateDir ?? CNI_STATE_DIR;
  // host-local keeps one file per allocated address under networks/; every other file is a cache.
  const ipamDir = `${stateDir}/networks/`;
  for (const id of scope.containerIds) {
    for (const file of await cniStateFilesReferring(cluster, node, id, stateDir)) {
      const ipam = file.startsWith(ipamDir);
      leaks.push({ kind: ipam ? 'ipam' : 'cache', node, object: file, what: `${file} on ${node} still refers to container ${id.slice(0, 12)} (${ipam ? 'IPAM allocation' : 'cache entry'})` });
    }
  }
  return leaks;
}

// host-local names each allocation file by the address; "lock" and "last_reserved_ip.N" are its bookkeeping.
const IPAM_ALLOCATIONS_SCRIPT = `test -d "$1" || { echo "the directory $1 does not exist" >&2; exit ${NO_DIRECTORY}; }
test -d "$1/networks" || exit 0
find "$1/networks" -mindepth 2 -maxdepth 2 -type f ! -name lock ! -name 'last_reserved_ip.*'`;

/**
 * Every address host-local still holds on the node (files under /var/lib/cni/networks/<network>/), whoever
 * allocated it: once every pod of the node is gone, each one is a leaked address. No networks/ dir means
 * nothing was ever allocated; a missing /var/lib/cni means the look failed.
 */
export async function ipamAllocations(cluster: Cluster, node: string, dir = CNI_STATE_DIR): Promise<string[]> {
  const res = await cluster.nodeExec(node, ['sh', '-c', IPAM_ALLOCATIONS_SCRIPT, 'sh', dir]);
  if (res.code !== 0) throw new Error(`could not list the IPAM allocations under ${dir}/networks on ${node}: ${explain(`find ${dir}/networks`, res)}`);
  return res.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '').sort();
}

/** The pod's links with their addresses (`ip -j addr` in its network namespace), proven read from one; `node` (where it runs, when known) goes into errors. */
export async function readPodLinks(cluster: Cluster, namespace: string, pod: string, node?: string): Promise<IpLink[]> {
  const argv = ['ip', '-j', 'addr'];
  const where = node ? `pod "${pod}" on ${node}` : `pod "${pod}"`;
  const res = await cluster.podExec(namespace, pod, argv);
  if (res.code !== 0) throw new Error(`could not read the interfaces of ${where}: ${explain(argv.join(' '), res)}`);
  const links = parseIpJson<IpLink>(res.stdout, `the interfaces of ${where} (\`${argv.join(' ')}\`)`);
  requireLoopback(links, where);
  return links;
}

/** Names of the pod's interfaces, read from inside its network namespace. */
export async function podInterfaceNames(cluster: Cluster, namespace: string, pod: string, node?: string): Promise<string[]> {
  return (await readPodLinks(cluster, namespace, pod, node)).map((l) => l.ifname);
}
