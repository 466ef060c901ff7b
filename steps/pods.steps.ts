// When steps that start and delete pods with multi-network annotations.
import { When, type DataTable } from '@cucumber/cucumber';
import {
  DEFAULT_NETWORK_ANNOTATION, NETWORKS_ANNOTATION, commaNetworks, jsonNetworks, parseNetworkList, type NetworkSelection,
} from '../fixtures/templates.ts';
import type { E2EWorld } from './world.ts';

/**
 * Maps what a scenario wrote to real names: logical namespaces to per-scenario ones, and NADs the scenario
 * created under another name (in shared namespaces). Unqualified references to its own NADs stay unqualified.
 */
function realSelections(world: E2EWorld, selections: NetworkSelection[]): NetworkSelection[] {
  return selections.map((s) => {
    const known = world.nads.get(s.namespace ? `${s.namespace}/${s.name}` : s.name);
    if (known && (known.namespace !== world.namespace || known.name !== s.name)) return { ...s, namespace: known.namespace, name: known.name };
    return s.namespace === undefined ? s : { ...s, namespace: world.namespaceFor(s.namespace) };
  });
}

const splitList = (cell: string | undefined): string[] | undefined =>
  cell === undefined || cell.trim() === '' ? undefined : cell.split(',').map((v) => v.trim()).filter((v) => v !== '');

/** A data table with a `name` column and optional namespace/interface/ips/mac/default-route columns. */
export function selectionsFromTable(table: DataTable): NetworkSelection[] {
  return table.hashes().map((row) => {
    if (!row.name) throw new Error('every row of the networks table needs a "name"');
    const selection: NetworkSelection = { name: row.name };
    if (row.namespace) selection.namespace = row.namespace;
    if (row.interface) selection.interface = row.interface;
    const ips = splitList(row.ips);
    if (ips) selection.ips = ips;
    if (row.mac) selection.mac = row.mac;
    const gateways = splitList(row['default-route']);
    if (gateways) selection['default-route'] = gateways;
    return selection;
  });
}

async function createPod(world: E2EWorld, name: string, nodeLabel: string, annotations: Record<string, string>): Promise<void> {
  await world.createPod({ name, node: await world.nodeNamed(nodeLabel), annotations });
}

const commaAnnotation = (world: E2EWorld, networks: string) =>
  ({ [NETWORKS_ANNOTATION]: commaNetworks(realSelections(world, parseNetworkList(networks))) });
const jsonAnnotation = (world: E2EWorld, table: DataTable) =>
  ({ [NETWORKS_ANNOTATION]: jsonNetworks(realSelections(world, selectionsFromTable(table))) });

When('pod {string} starts on {node} attached to {string}', async function (this: E2EWorld, name: string, node: string, networks: string) {
  await createPod(this, name, node, commaAnnotation(this, networks));
  await this.waitForPodRunning(name);
});

When('pod {string} starts on {node} with networks:', async function (this: E2EWorld, name: string, node: string, table: DataTable) {
  await createPod(this, name, node, jsonAnnotation(this, table));
  await this.waitForPodRunning(name);
});

When('pod {string} starts on {node} with {string} as its default network', async function (this: E2EWorld, name: string, node: string, network: string) {
  const [selection] = realSelections(this, parseNetworkList(network));
  const ref = selection?.namespace ? `${selection.namespace}/${selection.name}` : `${this.namespace}/${selection?.name}`;
  await createPod(this, name, node, { [DEFAULT_NETWORK_ANNOTATION]: ref });
  await this.waitForPodRunning(name);
});

When('pod {string} starts on {node} with no additional networks', async function (this: E2EWorld, name: string, node: string) {
  await createPod(this, name, node, {});
  await this.waitForPodRunning(name);
});

When('pod {string} is created on {node} attached to {string}', async function (this: E2EWorld, name: string, node: string, networks: string) {
  await createPod(this, name, node, commaAnnotation(this, networks));
});

When('pod {string} is created on {node} with networks:', async function (this: E2EWorld, name: string, node: string, table: DataTable) {
  await createPod(this, name, node, jsonAnnotation(this, table));
});

When('pod {string} is created on {node} with this networks annotation:', async function (this: E2EWorld, name: string, node: string, text: string) {
  await createPod(this, name, node, { [NETWORKS_ANNOTATION]: this.realText(text.trim()) });
});

When('pod {string} is deleted', async function (this: E2EWorld, name: string) {
  await this.deletePodAndWait(name);
});
