// Then steps about failures and about what a pod leaves behind on its node: links, network namespaces,
// IPAM allocations and cache files.
import assert from 'node:assert/strict';
import { Then } from '@cucumber/cucumber';
import { leftoversOnNode } from '../clusters/leak-checks.ts';
import type { E2EWorld } from './world.ts';

/** Waits until the cluster reports why the pod's sandbox failed, checks it is not Running, and returns that report. */
async function podDidNotStart(world: E2EWorld, pod: string): Promise<string> {
  const why = await world.waitForPodFailure(pod);
  const p = await world.readPod(pod);
  assert.notEqual(p.status?.phase, 'Running', `pod "${pod}" must not be Running`);
  return why;
}

Then('pod {string} does not start', async function (this: E2EWorld, pod: string) {
  await podDidNotStart(this, pod);
});

// Naming the cause is a @quality requirement of its own (no spec says what an error must say), kept in a
// separate step so a build can pass the @core "does not start" scenarios while failing this one.
Then('pod {string} does not start, and the reason given names {string}', async function (this: E2EWorld, pod: string, cause: string) {
  const why = await podDidNotStart(this, pod);
  const want = this.realText(cause);
  assert.ok(why.includes(want), `the reason pod "${pod}" did not start should name "${want}"; the cluster says:\n${why}`);
});

/** What of a deleted pod is still on its node, as human-readable findings (empty when clean). */
async function leftoversOf(world: E2EWorld, pod: string, node: string, containerIds: string[], netnsPaths: string[]): Promise<string[]> {
  const { namespace } = world.podRecord(pod);
  const podsStillOnNode = (await world.core.listNamespacedPod({ namespace })).items.some((p) => p.spec?.nodeName === node);
  const linksBefore = world.nodeLinksBefore.get(node) ?? new Set<string>();
  const leaks = await leftoversOnNode(world.cluster, node, { linksBefore, podsStillOnNode, containerIds, netnsPaths });
  return leaks.map((l) => l.what);
}

Then('deleting pod {string} leaves no interfaces, addresses or IPAM allocations behind', async function (this: E2EWorld, pod: string) {
  const { namespace } = this.podRecord(pod);
  await this.deletePodAndWait(pod);
  // Read once the pod is gone: the failure may have been reported before the runtime recorded the ADD
  // (upstream Multus posts a Warning event, NoNetworkFound, while its ADD is still running).
  const calls = (await this.cluster.cniCalls(this.startedAt)).filter((c) => c.namespace === namespace && c.pod === pod);
  const containerIds = [...new Set(calls.map((c) => c.containerId))];
  const netnsPaths = [...new Set(calls.map((c) => c.netns).filter((n): n is string => Boolean(n)))];
  const record = this.podRecord(pod);
  if (!record.node) throw new Error(`pod "${pod}" was never placed on a node, so there is nothing to check`);
  assert.ok(containerIds.length > 0, `the runtime made no CNI call for pod "${pod}", so its node cannot be checked`);
  assert.ok(netnsPaths.length > 0, `the CNI calls recorded for pod "${pod}" carry no network namespace, so its removal cannot be checked`);
  const findings = await leftoversOf(this, pod, record.node, containerIds, netnsPaths);
  assert.deepEqual(findings, [], `pod "${pod}" left things behind on ${record.node}:\n${findings.join('\n')}`);
});
