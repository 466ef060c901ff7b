// Steps that inject faults into the cluster's own machinery (the API server, a node's runtime, the
// plugin's cache) and check what the plugin under test released meanwhile. Scenarios tagged
// @fault-injection need a provider that can inject them (Cluster.faults); the Before hook skips them with
// the reason elsewhere, so `faultsOf` finds them whenever a step runs.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Given, Then, When } from '@cucumber/cucumber';
import type { ClusterFaults, CniCallRecord } from '../clusters/provider.ts';
import { bridgeConfig } from '../fixtures/templates.ts';
import { CNI_STATE_DIR, leftoversOnNode } from '../clusters/leak-checks.ts';
import type { E2EWorld } from './world.ts';

/** How long the runtime has to make (and record) a CNI call a fault leads to. */
const CALL_TIMEOUT_MS = 30_000;
const POLL_MS = 250;

export function faultsOf(world: E2EWorld): ClusterFaults {
  const { faults } = world.cluster;
  if (!faults) throw new Error(`the ${world.cluster.provider} provider cannot inject faults into its cluster`);
  return faults;
}

/** Per scenario: what a fault step found out, for the Then steps after it. */
interface FaultNotes {
  apiStopped: boolean;
  /** The sandbox the runtime tore down on request, or the one a node restart left behind: its DEL is judged. */
  sandbox?: { pod: string; node: string; containerId: string; netns?: string; since: string };
  /** The plugin's cache file a step damaged, and how many plugin log lines its node had then. */
  damagedCache?: { pod: string; node: string; path: string; logLines: number };
  /** The CNI binary a step took away (the type of the node's first network configuration), and where it waits to be put back. */
  removedPlugin?: { node: string; type: string; path: string; aside: string; back: () => Promise<void> };
}
const notes = new WeakMap<E2EWorld, FaultNotes>();
function notesOf(world: E2EWorld): FaultNotes {
  let n = notes.get(world);
  if (!n) {
    n = { apiStopped: false };
    notes.set(world, n);
  }
  return n;
}

/** The pod's most recent successful ADD (its current sandbox) since `since`. */
async function lastGoodAdd(world: E2EWorld, pod: string, since = world.startedAt): Promise<CniCallRecord | undefined> {
  const { namespace } = world.podRecord(pod);
  return (await world.cluster.cniCalls(since)).filter((c) => c.op === 'ADD' && c.exitCode === 0 && c.namespace === namespace && c.pod === pod).at(-1);
}

/** Waits for the first call matching `match` since `since`, or fails saying what was waited for. */
export async function awaitCall(world: E2EWorld, since: string, what: string, match: (c: CniCallRecord) => boolean, timeoutMs = CALL_TIMEOUT_MS): Promise<CniCallRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await world.cluster.cniCalls(since)).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`the runtime made no ${what} within ${timeoutMs / 1000} s`);
    await sleep(POLL_MS);
  }
}

export const describeCall = (c: CniCallRecord): string =>
  `exit status ${c.exitCode}${c.errorCode !== undefined ? `, CNI error code ${c.errorCode}` : ''}`;

/**
 * What of one sandbox is still on the node while its pod object still exists: links that appeared (other
 * than the pods' veths), its network namespace, and state files naming it (IPAM allocations, caches).
 */
async function remainsOf(world: E2EWorld, node: string, containerId: string, netns?: string): Promise<string[]> {
  const leaks = await leftoversOnNode(world.cluster, node, {
    linksBefore: world.nodeLinksBefore.get(node) ?? new Set<string>(),
    podsStillOnNode: true,
    containerIds: [containerId],
    netnsPaths: netns ? [netns] : [],
  });
  return leaks.map((l) => l.what);
}

/** The plugin's log lines for its call about a container (why a DEL went wrong), for failure messages. */
export async function pluginSaid(world: E2EWorld, node: string, containerId: string): Promise<string> {
  const lines = await world.cluster.pluginLog(node, containerId).catch(() => []);
  return lines.slice(-6).join('\n') || '(no log lines for that container)';
}

Given('a bridge network {string} with subnet {cidr} that gives out only {word}', async function (this: E2EWorld, name: string, subnet: string, address: string) {
  const config = bridgeConfig(name, subnet);
  await this.createNad(this.namespace, name, { ...config, ipam: { type: 'host-local', ranges: [[{ subnet, rangeStart: address, rangeEnd: address }]] } });
});

When('the API server is stopped', async function (this: E2EWorld) {
  const faults = faultsOf(this);
  const n = notesOf(this);
  if (!n.apiStopped) {
    // A scenario failing half-way must not leave the next one without an API server.
    this.cleanups.push({ what: 'starting the API server this scenario stopped', run: async () => {
      if (n.apiStopped) await faults.startApiServer();
      n.apiStopped = false;
    } });
  }
  await faults.stopApiServer();
  n.apiStopped = true;
});

When('the API server is started again', async function (this: E2EWorld) {
  await faultsOf(this).startApiServer();
  notesOf(this).apiStopped = false;
});

When('the runtime on {node} tears down the sandbox of pod {string}', async function (this: E2EWorld, label: string, pod: string) {
  const node = await this.nodeNamed(label);
  const add = await lastGoodAdd(this, pod);
  if (!add) throw new Error(`pod "${pod}" has no sandbox the runtime set up in this scenario`);
  const since = new Date().toISOString();
  await faultsOf(this).stopPodSandbox(node, this.podRecord(pod).namespace, pod);
  notesOf(this).sandbox = { pod, node, containerId: add.containerId, ...(add.netns ? { netns: add.netns } : {}), since };
});

Then('that teardown succeeded and released every address pod {string} held', async function (this: E2EWorld, pod: string) {
  const sb = notesOf(this).sandbox;
  if (sb?.pod !== pod) throw new Error(`no sandbox of pod "${pod}" was torn down in this scenario`);
  const del = await awaitCall(this, sb.since, `DEL of pod "${pod}"`, (c) => c.op === 'DEL' && c.containerId === sb.containerId);
  assert.equal(del.exitCode, 0, `the runtime's DEL of pod "${pod}" (container ${sb.containerId.slice(0, 12)}) on ${sb.node} failed (${describeCall(del)}), ` +
    `so its networks stay attached; the plugin said:\n${await pluginSaid(this, sb.node, sb.containerId)}`);
  const left = await remainsOf(this, sb.node, sb.containerId, sb.netns);
  assert.deepEqual(left, [], `the DEL of pod "${pod}" exited 0 but left behind:\n${left.join('\n')}`);
});

Then('nothing pod {string} was given is left on its node', async function (this: E2EWorld, pod: string) {
  const { node } = this.podRecord(pod);
  if (!node) throw new Error(`pod "${pod}" was never placed on a node, so there is nothing to check`);
  const ids = await this.containerIdsOf(pod);
  assert.ok(ids.length > 0, `the runtime made no CNI call for pod "${pod}", so its node cannot be checked`);
  const left = (await Promise.all(ids.map((id) => remainsOf(this, node, id)))).flat();
  assert.deepEqual(left, [], `pod "${pod}" did not start, yet what it was given before the failure is still on ${node}:\n${left.join('\n')}`);
});

When('the plugin\'s cache file for pod {string} is cut off half-way', async function (this: E2EWorld, pod: string) {
  const add = await lastGoodAdd(this, pod);
  if (!add) throw new Error(`pod "${pod}" has no sandbox the runtime set up in this scenario`);
  // Multus keeps one file per container, named by its id, in its cniDir (/var/lib/cni/multus by default);
  // the runtime's own result cache (results/) and IPAM allocations (networks/) have other names.
  const found = await this.nodeExecOk(add.node, ['find', CNI_STATE_DIR, '-type', 'f', '-name', add.containerId]);
  const files = found.split('\n').map((l) => l.trim()).filter(Boolean);
  if (files.length !== 1) {
    throw new Error(`expected one plugin cache file named ${add.containerId.slice(0, 12)}… under ${CNI_STATE_DIR} on ${add.node}, found ${files.length}: ${files.join(', ') || '(none)'}`);
  }
  const path = files[0]!;
  const size = Number((await this.nodeExecOk(add.node, ['stat', '-c', '%s', path])).trim());
  if (!(size > 1)) throw new Error(`the plugin cache file ${path} on ${add.node} holds ${size} bytes, too few to cut`);
  await this.nodeExecOk(add.node, ['truncate', '-s', String(Math.floor(size / 2)), path]);
  const logLines = (await this.cluster.pluginLog(add.node)).length;
  notesOf(this).damagedCache = { pod, node: add.node, path, logLines };
});

Then('the plugin\'s log for pod {string} names its unreadable cache file', async function (this: E2EWorld, pod: string) {
  const damaged = notesOf(this).damagedCache;
  if (damaged?.pod !== pod) throw new Error(`no cache file of pod "${pod}" was damaged in this scenario`);
  const since = (await this.cluster.pluginLog(damaged.node)).slice(damaged.logLines);
  assert.ok(since.some((l) => l.includes(damaged.path)),
    `after its cache file ${damaged.path} was cut off, the plugin's log on ${damaged.node} does not name it, so nobody learns the cache was unreadable; ` +
    `its log lines since then:\n${since.slice(-8).join('\n') || '(none)'}`);
});

When('{node} restarts', async function (this: E2EWorld, label: string) {
  const node = await this.nodeNamed(label);
  const since = new Date().toISOString();
  const n = notesOf(this);
  // The sandbox a pod of this scenario on that node had: the Then steps judge its DEL.
  for (const [pod, record] of this.pods) {
    if (record.node !== node) continue;
    const add = await lastGoodAdd(this, pod);
    if (add) n.sandbox = { pod, node, containerId: add.containerId, ...(add.netns ? { netns: add.netns } : {}), since };
  }
  await faultsOf(this).restartNode(node);
});

Then('the runtime\'s DEL of the sandbox pod {string} had before the restart succeeded and released its addresses', async function (this: E2EWorld, pod: string) {
  const sb = notesOf(this).sandbox;
  if (sb?.pod !== pod) throw new Error(`pod "${pod}" had no sandbox on a node restarted in this scenario`);
  const del = await awaitCall(this, sb.since, `DEL of the sandbox pod "${pod}" had before ${sb.node} restarted`, (c) => c.op === 'DEL' && c.containerId === sb.containerId);
  assert.equal(del.exitCode, 0, `the DEL of the sandbox pod "${pod}" had before ${sb.node} restarted (its network namespace ${sb.netns ?? ''} is gone) failed ` +
    `(${describeCall(del)}); CNI spec 1.1.0 §DEL: it should release the IP allocation and succeed; the plugin said:\n${await pluginSaid(this, sb.node, sb.containerId)}`);
  // Its network namespace went with the reboot, and the new sandbox may have the same path: not judged here.
  const left = await remainsOf(this, sb.node, sb.containerId);
  assert.deepEqual(left, [], `the DEL of the sandbox pod "${pod}" had before ${sb.node} restarted exited 0 but left behind:\n${left.join('\n')}`);
});

Then('pod {string} runs again on {node} with interfaces {word} and {word}', async function (this: E2EWorld, pod: string, label: string, first: string, second: string) {
  const node = await this.nodeNamed(label);
  const since = notesOf(this).sandbox?.since ?? this.startedAt;
  const { namespace } = this.podRecord(pod);
  const add = await awaitCall(this, since, `ADD of a new sandbox for pod "${pod}" on ${node}`, (c) => c.op === 'ADD' && c.namespace === namespace && c.pod === pod);
  assert.equal(add.exitCode, 0, `the new sandbox of pod "${pod}" after ${node} restarted failed its ADD (${describeCall(add)}); the plugin said:\n${await pluginSaid(this, node, add.containerId)}`);
  await this.waitForPodRunning(pod);
  for (const ifname of [first, second]) await this.podLink(pod, ifname);
});

/** The type of the network configuration the node's runtime runs: the first file in /etc/cni/net.d, as libcni picks it. */
async function runtimeConfigType(world: E2EWorld, node: string): Promise<string> {
  const names = (await world.nodeExecOk(node, ['ls', '/etc/cni/net.d'])).split('\n').map((l) => l.trim()).filter((l) => /\.(conf|conflist|json)$/.test(l)).sort();
  const first = names[0];
  if (!first) throw new Error(`/etc/cni/net.d on ${node} holds no network configuration`);
  const conf = JSON.parse(await world.nodeExecOk(node, ['cat', `/etc/cni/net.d/${first}`])) as { type?: string; plugins?: { type?: string }[] };
  const type = conf.plugins?.[0]?.type ?? conf.type;
  if (!type) throw new Error(`/etc/cni/net.d/${first} on ${node} names no plugin type`);
  return type;
}

Given('the plugin\'s binary is removed from {node}, its configuration left in \\/etc\\/cni\\/net.d', async function (this: E2EWorld, label: string) {
  const node = await this.nodeNamed(label);
  const type = await runtimeConfigType(this, node);
  const path = `/opt/cni/bin/${type}`;
  // Aside on the node itself, under a name the runtime never looks up, so putting it back is a rename.
  const aside = `/opt/cni/bin/.${type}.uninstalled-${this.suffix}`;
  await this.nodeExecOk(node, ['mv', path, aside]);
  const n = notesOf(this);
  let back = false;
  const putBack = async () => {
    if (back) return;
    await this.nodeExecOk(node, ['mv', aside, path]);
    back = true;
  };
  this.cleanups.push({ what: `putting ${path} back on ${node}`, run: putBack });
  n.removedPlugin = { node, type, path, aside, back: putBack };
});

When('the plugin\'s binary is put back on {node}', async function (this: E2EWorld, label: string) {
  const node = await this.nodeNamed(label);
  const removed = notesOf(this).removedPlugin;
  if (removed?.node !== node) throw new Error(`no plugin binary was removed from ${node} in this scenario`);
  await removed.back();
});

Then('pod {string} does not start, and the reason given names the missing plugin', async function (this: E2EWorld, pod: string) {
  const removed = notesOf(this).removedPlugin;
  if (!removed) throw new Error('no plugin binary was removed in this scenario');
  const why = await this.waitForPodFailure(pod);
  assert.notEqual((await this.readPod(pod)).status?.phase, 'Running', `pod "${pod}" must not be Running`);
  assert.ok(why.includes(`"${removed.type}"`) || why.includes(removed.path),
    `the reason pod "${pod}" did not start should name the missing plugin "${removed.type}" (${removed.path}); the cluster says:\n${why}`);
});
