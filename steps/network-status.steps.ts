// Then steps about the k8s.v1.cni.cncf.io/network-status annotation, checked against the kernel.
import assert from 'node:assert/strict';
import { Then, type DataTable } from '@cucumber/cucumber';
import { NETWORK_STATUS_ANNOTATION } from '../fixtures/templates.ts';
import { ipv4Addresses } from '../clusters/ip-state.ts';
import type { E2EWorld } from './world.ts';

export interface NetworkStatusEntry {
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  default?: boolean;
  'device-info'?: Record<string, unknown>;
}

export async function networkStatusOf(world: E2EWorld, pod: string): Promise<NetworkStatusEntry[]> {
  const p = await world.readPod(pod);
  const text = p.metadata?.annotations?.[NETWORK_STATUS_ANNOTATION];
  if (!text) throw new Error(`pod "${pod}" has no ${NETWORK_STATUS_ANNOTATION} annotation`);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed)) throw new Error('not a JSON list');
    return parsed as NetworkStatusEntry[];
  } catch (err) {
    throw new Error(`pod "${pod}" ${NETWORK_STATUS_ANNOTATION} is not a JSON list (${(err as Error).message}): ${text}`);
  }
}

const CLUSTER_NETWORK = '(cluster network)';

Then('the network-status of pod {string} lists, in order, with the addresses the kernel shows:',
  async function (this: E2EWorld, pod: string, table: DataTable) {
    const status = await networkStatusOf(this, pod);
    const expected = table.hashes();
    const shown = JSON.stringify(status);
    assert.equal(status.length, expected.length, `pod "${pod}" network-status should have ${expected.length} entries: ${shown}`);
    for (const [i, row] of expected.entries()) {
      const entry = status[i]!;
      assert.equal(entry.interface, row.interface, `network-status entry ${i} interface (${shown})`);
      if (row.network !== CLUSTER_NETWORK) assert.equal(entry.name, this.nadRef(row.network ?? ''), `network-status entry ${i} network name (${shown})`);
      assert.equal(entry.default === true, row.default === 'yes', `network-status entry ${i} default flag (${shown})`);
      const link = await this.podLink(pod, entry.interface ?? '');
      const kernelIps = ipv4Addresses(link).map((a) => a.local).sort();
      const statusIps = (entry.ips ?? []).filter((ip) => !ip.includes(':')).sort();
      assert.deepEqual(statusIps, kernelIps, `network-status IPv4 addresses of ${entry.interface} vs the kernel's`);
      assert.equal(entry.mac?.toLowerCase(), link.address?.toLowerCase(), `network-status MAC of ${entry.interface} vs the kernel's`);
    }
  });
