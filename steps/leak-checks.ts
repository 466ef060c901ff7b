// Reads of node and pod state for the "leaves nothing behind" and "has no interface" checks. A check that
// finds nothing must have looked: each read here proves it did (the command succeeded, the directory it
// searched exists, `ip -j` printed a JSON array listing the loopback) or throws saying what it could not
// read and where, so a broken look fails the scenario instead of passing it as "clean".
import type { Cluster, ExecResult } from '../clusters/provider.ts';
import { parseIpJson, type IpLink } from './ip-state.ts';

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

/** Names of the pod's interfaces, read from inside its network namespace; `node` (where it runs, when known) goes into errors. */
export async function podInterfaceNames(cluster: Cluster, namespace: string, pod: string, node?: string): Promise<string[]> {
  const argv = ['ip', '-j', 'addr'];
  const where = node ? `pod "${pod}" on ${node}` : `pod "${pod}"`;
  const res = await cluster.podExec(namespace, pod, argv);
  if (res.code !== 0) throw new Error(`could not read the interfaces of ${where}: ${explain(argv.join(' '), res)}`);
  const links = parseIpJson<IpLink>(res.stdout, `the interfaces of ${where} (\`${argv.join(' ')}\`)`);
  requireLoopback(links, where);
  return links.map((l) => l.ifname);
}
