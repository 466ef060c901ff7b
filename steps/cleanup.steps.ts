// Then steps about failures and about what a pod leaves behind on its node: links, network namespaces,
// IPAM allocations and cache files.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Then } from '@cucumber/cucumber';
import type { E2EWorld } from './world.ts';

const execFileAsync = promisify(execFile);

Then('pod {string} does not start, and the reason given names {string}', async function (this: E2EWorld, pod: string, cause: string) {
  const why = await this.waitForPodFailure(pod);
  const want = this.realText(cause);
  assert.ok(why.includes(want), `the reason pod "${pod}" did not start should name "${want}"; the cluster says:\n${why}`);
  const p = await this.readPod(pod);
  assert.notEqual(p.status?.phase, 'Running', `pod "${pod}" must not be Running`);
});

/** Names of network namespaces visible on the node and on this host. */
async function netnsNames(world: E2EWorld, node: string): Promise<string[]> {
  const onNode = await world.cluster.nodeExec(node, ['ip', 'netns', 'list']);
  const onHost = await execFileAsync('ip', ['netns', 'list']).then((r) => r.stdout, () => '');
  return `${onNode.stdout}\n${onHost}`.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n !== '');
}

/** What of a deleted pod is still on its node, as human-readable findings (empty when clean). */
async function leftoversOf(world: E2EWorld, pod: string, node: string, uid: string | undefined, containerIds: string[]): Promise<string[]> {
  const findings: string[] = [];
  const { namespace } = world.podRecord(pod);
  const otherPodsOnNode = (await world.core.listNamespacedPod({ namespace })).items.some((p) => p.spec?.nodeName === node);
  const before = world.nodeLinksBefore.get(node) ?? new Set<string>();
  for (const link of await world.nodeLinks(node)) {
    if (before.has(link.ifname)) continue;
    const kind = link.linkinfo?.info_kind;
    // Bridges created by the bridge plugin stay by design; veths of pods still running are theirs.
    if (kind === 'bridge') continue;
    if (kind === 'veth' && otherPodsOnNode) continue;
    findings.push(`link ${link.ifname} (${kind ?? 'unknown kind'}) appeared on ${node} during the scenario and is still there`);
  }
  const markers = [...containerIds, ...(uid ? [uid, uid.replace(/-/g, '').slice(0, 16)] : [])];
  for (const ns of await netnsNames(world, node)) {
    if (markers.some((m) => ns.includes(m))) findings.push(`network namespace ${ns} of the pod still exists`);
  }
  for (const id of containerIds) {
    const res = await world.cluster.nodeExec(node, ['sh', '-c', 'grep -rls -- "$1" /var/lib/cni 2>/dev/null; find /var/lib/cni -name "*$1*" 2>/dev/null; true', 'sh', id]);
    for (const file of new Set(res.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== ''))) {
      findings.push(`${file} on ${node} still refers to container ${id.slice(0, 12)} (IPAM allocation or cache entry)`);
    }
  }
  return findings;
}

Then('deleting pod {string} leaves no interfaces, addresses or IPAM allocations behind', async function (this: E2EWorld, pod: string) {
  const containerIds = await this.containerIdsOf(pod);
  await this.deletePodAndWait(pod);
  const record = this.podRecord(pod);
  if (!record.node) throw new Error(`pod "${pod}" was never placed on a node, so there is nothing to check`);
  assert.ok(containerIds.length > 0, `the runtime made no CNI call for pod "${pod}", so its node cannot be checked`);
  const findings = await leftoversOf(this, pod, record.node, record.uid, containerIds);
  assert.deepEqual(findings, [], `pod "${pod}" left things behind on ${record.node}:\n${findings.join('\n')}`);
});
