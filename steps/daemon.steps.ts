// Steps that take a thick plugin's per-node daemon away and bring it back, and what the runtime saw
// meanwhile. The Before hook skips these scenarios (with the reason) when the plugin is thin or the
// provider cannot stop its daemon, so the provider calls below exist whenever a step runs.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Given, Then, When } from '@cucumber/cucumber';
import type { CniCallRecord } from '../clusters/provider.ts';
import type { E2EWorld } from './world.ts';

/** CNI spec 1.1.0 §Error codes: 11 "Try again later". */
const TRY_AGAIN_LATER = 11;
/** How long the runtime has to make (and record) the DEL of a pod whose deletion was requested. */
const DEL_ATTEMPT_TIMEOUT_MS = 30_000;
const POLL_MS = 250;

/** Nodes whose daemon this scenario stopped and has not started again. */
const stoppedNodes = new WeakMap<E2EWorld, Set<string>>();

function daemonControl(world: E2EWorld): { stop: (node: string) => Promise<void>; start: (node: string) => Promise<void> } {
  const { stopPluginDaemon, startPluginDaemon } = world.cluster;
  if (!stopPluginDaemon || !startPluginDaemon) throw new Error(`the ${world.cluster.provider} provider cannot stop and start the plugin's daemon`);
  return { stop: (node) => stopPluginDaemon.call(world.cluster, node), start: (node) => startPluginDaemon.call(world.cluster, node) };
}

Given('the Multus daemon on {node} is stopped', async function (this: E2EWorld, label: string) {
  const node = await this.nodeNamed(label);
  const control = daemonControl(this);
  let stopped = stoppedNodes.get(this);
  if (!stopped) {
    const nodes = new Set<string>();
    stopped = nodes;
    stoppedNodes.set(this, nodes);
    // A scenario that fails half-way must not leave the node without its daemon for the next one
    // (nor its pods undeletable: their DELs need the daemon).
    this.cleanups.push({ what: 'starting the Multus daemons this scenario stopped', run: async () => {
      for (const n of nodes) await control.start(n);
      nodes.clear();
    } });
  }
  await control.stop(node);
  stopped.add(node);
});

When('the Multus daemon on {node} is started again', async function (this: E2EWorld, label: string) {
  const node = await this.nodeNamed(label);
  await daemonControl(this).start(node);
  stoppedNodes.get(this)?.delete(node);
});

/** The runtime's calls of one verb for a pod of this scenario, oldest first. */
async function callsFor(world: E2EWorld, pod: string, op: CniCallRecord['op'], since = world.startedAt): Promise<CniCallRecord[]> {
  const { namespace } = world.podRecord(pod);
  return (await world.cluster.cniCalls(since)).filter((c) => c.op === op && c.namespace === namespace && c.pod === pod);
}

const describeCall = (c: CniCallRecord): string =>
  `exit status ${c.exitCode}${c.errorCode !== undefined ? `, CNI error code ${c.errorCode}` : ', no CNI error object'}`;

/**
 * The cluster's reason the pod did not start. A pod that started anyway is reported with what shows
 * how: its interfaces, and the configs its node's runtime chooses from (it runs the first one).
 */
async function whyNotStarted(world: E2EWorld, pod: string): Promise<string> {
  try {
    return await world.waitForPodFailure(pod);
  } catch (err) {
    const p = await world.readPod(pod).catch(() => undefined);
    const node = world.podRecord(pod).node;
    if (p?.status?.phase !== 'Running' || !node) throw err;
    const links = await world.podLinks(pod).then((ls) => ls.map((l) => l.ifname).join(', '), (e: Error) => `unknown (${e.message})`);
    const confs = await world.cluster.nodeExec(node, ['ls', '/etc/cni/net.d']);
    throw new Error(`pod "${pod}" is Running although the Multus daemon on ${node} is stopped; its interfaces: ${links}; ` +
      `/etc/cni/net.d on ${node} holds: ${confs.stdout.trim().split('\n').join(', ') || '(nothing)'} (the runtime runs the first config there)`);
  }
}

Then('pod {string} does not start, and the reason given says to try again \\(CNI error code 11)', async function (this: E2EWorld, pod: string) {
  const why = await whyNotStarted(this, pod);
  const adds = await callsFor(this, pod, 'ADD');
  const add = adds.at(-1);
  assert.ok(add, `the runtime recorded no ADD for pod "${pod}"; the cluster says:\n${why}`);
  assert.notEqual(add.exitCode, 0, `the ADD of pod "${pod}" succeeded although the daemon was down`);
  assert.equal(add.errorCode, TRY_AGAIN_LATER,
    `the ADD of pod "${pod}" failed with ${describeCall(add)}, not CNI error code ${TRY_AGAIN_LATER} ("Try again later", CNI spec 1.1.0 §Error codes), ` +
    `so the runtime is not told the failure is transient; the cluster says:\n${why}`);
});

/** Per pod: when its deletion was requested, so the DEL that follows can be told from earlier ones. */
const deletionRequested = new WeakMap<E2EWorld, Map<string, string>>();

When('the deletion of pod {string} is requested', async function (this: E2EWorld, pod: string) {
  const { namespace } = this.podRecord(pod);
  const requests = deletionRequested.get(this) ?? new Map<string, string>();
  deletionRequested.set(this, requests);
  requests.set(pod, new Date().toISOString());
  await this.core.deleteNamespacedPod({ name: pod, namespace });
});

Then('the runtime\'s DEL for pod {string} fails, and the pod stays, still attached to {word}', async function (this: E2EWorld, pod: string, ifname: string) {
  const since = deletionRequested.get(this)?.get(pod);
  if (!since) throw new Error(`the deletion of pod "${pod}" was not requested in this scenario (When the deletion of pod "${pod}" is requested)`);
  const deadline = Date.now() + DEL_ATTEMPT_TIMEOUT_MS;
  let del: CniCallRecord | undefined;
  while (!(del = (await callsFor(this, pod, 'DEL', since))[0])) {
    if (Date.now() > deadline) throw new Error(`the runtime made no DEL for pod "${pod}" within ${DEL_ATTEMPT_TIMEOUT_MS / 1000} s of its deletion`);
    await sleep(POLL_MS);
  }
  assert.notEqual(del.exitCode, 0,
    `the DEL of pod "${pod}" exited 0 while the Multus daemon on its node was stopped, so nothing can have released its networks; ` +
    'the runtime took the success at its word, removed the sandbox and will never repeat the DEL (CNI spec 1.1.0 §DEL), ' +
    'so whatever the attachments hold outside the pod (IPAM allocations, caches) stays');
  const p = await this.readPod(pod).catch(() => undefined);
  assert.ok(p, `pod "${pod}" is gone after its DEL failed (${describeCall(del)}): the runtime must keep it and repeat the DEL`);
  await this.podLink(pod, ifname);
});
