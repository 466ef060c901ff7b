// The kernel side of certification: network namespaces the harness owns, and snapshots of what is in
// them (links, addresses, routes) plus the files under the delegate's state directory, so that "DEL
// removed everything ADD created" is a diff of two snapshots rather than a belief.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseIpJson, type IpLink, type IpRoute } from '../clusters/ip-state.ts';
import { mustRun, runCommand } from '../clusters/local/run-command.ts';

export const NETNS_DIR = '/run/netns';

/** `ip -batch -` input: one command a line (names and addresses here never hold spaces). */
const batchInput = (commands: string[][]): string => commands.map((c) => `${c.join(' ')}\n`).join('');
export const netnsPath = (name: string): string => path.join(NETNS_DIR, name);

export async function addNetns(name: string): Promise<void> {
  await mustRun(['ip', 'netns', 'add', name]);
  await mustRun(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

/** Removes a namespace; one that is already gone is fine (a requirement may have removed it on purpose). */
export async function deleteNetns(name: string): Promise<void> {
  const res = await runCommand(['ip', 'netns', 'del', name]);
  if (res.code !== 0 && !/No such file|not exist/i.test(res.stderr)) {
    throw new Error(`ip netns del ${name} failed (exit ${res.code}): ${res.stderr.trim()}`);
  }
}

/** Removes several namespaces with one ip process; those already gone are left out (a requirement may have removed one). */
export async function deleteNetnsAll(names: string[]): Promise<void> {
  const present = new Set(await readdir(NETNS_DIR).catch(() => [] as string[]));
  const commands = names.filter((n) => present.has(n)).map((n) => ['netns', 'del', n]);
  if (commands.length > 0) await mustRun(['ip', '-batch', '-'], { input: batchInput(commands) });
}

interface LinkIndex {
  ifindex: number;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
}

const NETNS_TEARDOWN_WAIT_MS = 5_000;

/**
 * Deletes a namespace and waits (up to 5 s) until the kernel has torn it down. `ip netns del` only
 * drops the mount: a kernel worker destroys the namespace afterwards, and with it the ends in hostNs of
 * veth pairs into it. A look right after the deletion could take such an end, about to go, for what
 * the plugin left (seen for ptp's del.netns-gone on a loaded machine, 2026-12-01). Only veth peers are
 * waited for: a macvlan, ipvlan or vlan link inside also points at a link in another namespace (its
 * master), which stays, so waiting for that one to go would always take the full 5 s.
 */
export async function deleteNetnsAndWait(name: string, hostNs: string): Promise<void> {
  const inside = JSON.parse(await ipIn(name, ['-j', '-d', 'link', 'show'])) as LinkIndex[];
  const peers = new Set(inside.filter((l) => l.linkinfo?.info_kind === 'veth' && l.link_netnsid !== undefined && l.link_index !== undefined).map((l) => l.link_index));
  await deleteNetns(name);
  const deadline = Date.now() + NETNS_TEARDOWN_WAIT_MS;
  while (peers.size > 0 && Date.now() < deadline) {
    const host = JSON.parse(await ipIn(hostNs, ['-j', 'link', 'show'])) as LinkIndex[];
    if (!host.some((l) => peers.has(l.ifindex))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Names of every namespace whose name starts with prefix (left over by an interrupted run of the same name). */
export async function netnsWithPrefix(prefix: string): Promise<string[]> {
  const names = await readdir(NETNS_DIR).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix));
}

export const ipIn = (ns: string, args: string[]): Promise<string> => mustRun(['ip', '-n', ns, ...args]);

/**
 * Several ip commands in ns from one process (`ip -batch`, stopping at the first that fails). Each
 * process start costs in the vm guest: `ip -j -d addr show` took ~0.2 s there (20 in a row, 2026-12-02).
 */
const ipBatchIn = (ns: string, options: string[], commands: string[][]): Promise<string> =>
  mustRun(['ip', '-n', ns, ...options, '-batch', '-'], { input: batchInput(commands) });

export async function linksIn(ns: string): Promise<IpLink[]> {
  return parseIpJson<IpLink>(await ipIn(ns, ['-j', '-d', 'addr', 'show']), `the links of netns ${ns}`);
}

export async function routesIn(ns: string): Promise<IpRoute[]> {
  return parseIpJson<IpRoute>(await ipIn(ns, ['-j', '-4', 'route', 'show', 'table', 'all']), `the IPv4 routes of netns ${ns}`);
}

/**
 * What a namespace and a state directory hold, as comparable one-line items. IPv6 link-local addresses
 * and routes are left out: the kernel makes them by itself for every link that comes up.
 */
export interface Snapshot {
  links: string[];
  addresses: string[];
  routes: string[];
  files: string[];
}

const linkItem = (l: IpLink): string => `link ${l.ifname} (${l.linkinfo?.info_kind ?? 'device'})`;

// `ip -d` names every route's type and table; unicast and main go unsaid, as plain `ip route` leaves them.
function routeItem(r: IpRoute & { table?: string; type?: string }): string {
  return `route ${r.type && r.type !== 'unicast' ? `${r.type} ` : ''}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.table && r.table !== 'main' ? ` table ${r.table}` : ''}`;
}

/** Every file under dir, relative to it; a dir that does not exist yet holds nothing. */
export async function filesUnder(dir: string | undefined): Promise<string[]> {
  if (!dir) return [];
  const found: string[] = [];
  const walk = async (sub: string): Promise<void> => {
    const entries = await readdir(path.join(dir, sub), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw new Error(`could not list ${path.join(dir, sub)}: ${err.message}`);
    });
    for (const e of entries) {
      const rel = path.join(sub, e.name);
      if (e.isDirectory()) await walk(rel);
      else found.push(`file ${rel}`);
    }
  };
  await walk('');
  if (found.length === 0 && (await stat(dir).catch(() => undefined)) === undefined) return [];
  return found.sort();
}

export async function snapshot(ns: string, stateDir: string | undefined): Promise<Snapshot> {
  // One ip process for both listings; `root 0.0.0.0/0` selects the IPv4 routes, as -4 would for routesIn.
  const [linksOut = '', routesOut = ''] = (await ipBatchIn(ns, ['-j', '-d'], [['addr', 'show'], ['route', 'show', 'table', 'all', 'root', '0.0.0.0/0']])).trim().split('\n');
  const links = parseIpJson<IpLink>(linksOut, `the links of netns ${ns}`);
  if (!links.some((l) => l.ifname === 'lo')) throw new Error(`the link listing of netns ${ns} has no loopback; it was not read`);
  const addresses = links.flatMap((l) => (l.addr_info ?? [])
    .filter((a) => !(a.family === 'inet6' && a.local.startsWith('fe80')))
    .map((a) => `address ${a.local}/${a.prefixlen} on ${l.ifname}`));
  return {
    links: links.map(linkItem).sort(),
    addresses: addresses.sort(),
    routes: parseIpJson<IpRoute>(routesOut, `the IPv4 routes of netns ${ns}`).map(routeItem).sort(),
    files: await filesUnder(stateDir),
  };
}

/** Items in `after` that `before` lacks (left behind), and the reverse (taken away). */
export function diffSnapshots(before: Snapshot, after: Snapshot): { added: string[]; removed: string[] } {
  const all = (s: Snapshot) => [...s.links, ...s.addresses, ...s.routes, ...s.files];
  const b = new Set(all(before));
  const a = new Set(all(after));
  return { added: [...a].filter((x) => !b.has(x)), removed: [...b].filter((x) => !a.has(x)) };
}

/** The links of a container namespace other than its loopback. */
export async function containerLinks(ns: string): Promise<string[]> {
  return (await linksIn(ns)).filter((l) => l.ifname !== 'lo').map(linkItem);
}

/** A veth pair inside ns, both ends up: a macvlan master, or a device host-device moves into a container. */
export async function addVethPair(ns: string, name: string, peer: string): Promise<void> {
  await ipBatchIn(ns, [], [['link', 'add', name, 'type', 'veth', 'peer', 'name', peer], ['link', 'set', name, 'up'], ['link', 'set', peer, 'up']]);
}
