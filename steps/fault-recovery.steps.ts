// Steps of the fault scenarios in which a pod's ADD fails and the pod must start once the fault is
// gone: the API server stopped during an ADD, and the plugin's API credentials revoked and renewed.
// The faults go through Cluster.faults (faults.steps.ts); each is undone by a cleanup when a scenario
// fails half-way, so the next scenario finds the cluster as it was.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Given, Then, When } from '@cucumber/cucumber';
import { SANDBOX_ANNOTATION } from '../clusters/local/node-agent.ts';
import type { CniCallRecord } from '../clusters/provider.ts';
import { awaitCall, describeCall, faultsOf, pluginSaid } from './faults.steps.ts';
import type { E2EWorld } from './world.ts';

/** An ADD with the API server away may take the plugin's whole wait for it, and the runtime allows a CNI call 120 s. */
const FAILED_ADD_TIMEOUT_MS = 150_000;
const HELD_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

/** Per scenario: what is to be undone, and since when pod ADDs are judged. */
interface RecoveryNotes {
  held?: string;
  revoked: boolean;
  /** ISO time each pod was created by a step of this file, or held. */
  since: Map<string, string>;
}
const notes = new WeakMap<E2EWorld, RecoveryNotes>();
function notesOf(world: E2EWorld): RecoveryNotes {
  let n = notes.get(world);
  if (!n) {
    n = { revoked: false, since: new Map() };
    notes.set(world, n);
  }
  return n;
}

Given('the node agents retry failed sandboxes every {int} seconds, as kubelet does', async function (this: E2EWorld, seconds: number) {
  const faults = faultsOf(this);
  this.cleanups.push({ what: 'turning sandbox retries off again', run: () => faults.retryFailedSandboxes(undefined) });
  await faults.retryFailedSandboxes(seconds);
});

Given('the runtime on {node} holds each new sandbox just before its CNI ADD', async function (this: E2EWorld, label: string) {
  const node = await this.nodeNamed(label);
  const faults = faultsOf(this);
  const n = notesOf(this);
  this.cleanups.push({ what: `letting the sandboxes held on ${node} go on`, run: async () => {
    if (n.held) await faults.holdCniAdds(node, false);
    n.held = undefined;
  } });
  await faults.holdCniAdds(node, true);
  n.held = node;
});

When('the runtime on {node} holds the sandbox of pod {string}', async function (this: E2EWorld, label: string, pod: string) {
  const node = await this.nodeNamed(label);
  if (notesOf(this).held !== node) throw new Error(`the runtime on ${node} holds no sandboxes in this scenario`);
  // The runtime annotates the pod with its sandbox just before the hold: from then on its ADD waits.
  const deadline = Date.now() + HELD_TIMEOUT_MS;
  for (;;) {
    const p = await this.readPod(pod);
    if (p.metadata?.annotations?.[SANDBOX_ANNOTATION]) break;
    if (Date.now() > deadline) throw new Error(`the runtime on ${node} made no sandbox for pod "${pod}" within ${HELD_TIMEOUT_MS / 1000} s (phase ${p.status?.phase ?? 'unknown'}, node ${p.spec?.nodeName ?? 'none'})`);
    await sleep(POLL_MS);
  }
  const calls = await this.cluster.cniCalls(this.startedAt);
  const { namespace } = this.podRecord(pod);
  assert.ok(!calls.some((c) => c.op === 'ADD' && c.namespace === namespace && c.pod === pod), `pod "${pod}" already had an ADD, so its sandbox was not held`);
  notesOf(this).since.set(pod, new Date().toISOString());
});

When('the runtime on {node} goes on with the sandboxes it holds', async function (this: E2EWorld, label: string) {
  const node = await this.nodeNamed(label);
  await faultsOf(this).holdCniAdds(node, false);
  notesOf(this).held = undefined;
});

/** host:port of the API server as the kubeconfig names it: the port is the one the plugin reaches too. */
function apiServerPort(world: E2EWorld): string | undefined {
  return /server:\s*"?https?:\/\/[^\s"]*:(\d+)/.exec(readFileSync(world.cluster.kubeconfigPath, 'utf8'))?.[1];
}

/** The first ADD of the pod's held sandbox, which must have failed: the API server was stopped meanwhile. */
async function failedHeldAdd(world: E2EWorld, pod: string): Promise<CniCallRecord> {
  const since = notesOf(world).since.get(pod);
  if (!since) throw new Error(`the sandbox of pod "${pod}" was not held in this scenario`);
  const { namespace } = world.podRecord(pod);
  const add = await awaitCall(world, since, `ADD of pod "${pod}"`, (c) => c.op === 'ADD' && c.namespace === namespace && c.pod === pod, FAILED_ADD_TIMEOUT_MS);
  assert.notEqual(add.exitCode, 0, `the ADD of pod "${pod}" with the API server stopped succeeded (${describeCall(add)}): the plugin attached it without reading the pod and its networks`);
  return add;
}

Then('the ADD of pod {string} failed', async function (this: E2EWorld, pod: string) {
  await failedHeldAdd(this, pod);
});

Then('the ADD of pod {string} failed, and the error the runtime reports names the Kubernetes API', async function (this: E2EWorld, pod: string) {
  const add = await failedHeldAdd(this, pod);
  const error = add.error ?? '';
  const port = apiServerPort(this);
  const namesApi = /kubernetes api|api ?server|apiserver/i.test(error) || (port !== undefined && error.includes(`:${port}`));
  // The judged text goes into the report whatever the verdict: a plugin's wording may depend on timing.
  this.log(`the runtime reported: ${error || '(no message)'}`);
  assert.ok(namesApi, `the ADD of pod "${pod}" failed (${describeCall(add)}), but its error does not name the Kubernetes API (its words or its address, port ${port ?? '?'}), ` +
    `so nobody learns the API server was out of reach; the runtime reported:\n${error || '(no message)'}\nthe plugin said:\n${await pluginSaid(this, add.node, add.containerId)}`);
});

When('the plugin\'s API credentials are revoked', async function (this: E2EWorld) {
  const faults = faultsOf(this);
  const n = notesOf(this);
  // Also after a renewal: the plugin may still hold its first token (upstream v4.2.2 thick did, and
  // failed every later scenario with Unauthorized), so the cluster gets that one back.
  this.cleanups.push({ what: 'restoring the plugin\'s first API credentials', run: async () => {
    await faults.restorePluginCredentials();
    n.revoked = false;
  } });
  n.revoked = true;
  await faults.revokePluginCredentials();
});

When('the plugin\'s API credentials are renewed', async function (this: E2EWorld) {
  await faultsOf(this).renewPluginCredentials();
  notesOf(this).revoked = false;
});

Then('pod {string} does not start, and the reason given names its rejected credentials', async function (this: E2EWorld, pod: string) {
  const why = await this.waitForPodFailure(pod);
  assert.notEqual((await this.readPod(pod)).status?.phase, 'Running', `pod "${pod}" must not be Running`);
  // 401 Unauthorized: the token is not (or no longer) valid; 403 Forbidden: valid, but not allowed.
  assert.ok(/\b40[13]\b|unauthori[sz]ed|forbidden|credential|authenticat/i.test(why),
    `the reason pod "${pod}" did not start should say that the API server refused the plugin's credentials (401/403, Unauthorized); the cluster says:\n${why}`);
});
