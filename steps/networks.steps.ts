// Given steps that define networks: NetworkAttachmentDefinitions, node-local CNI configs, Multus config.
import { Given } from '@cucumber/cucumber';
import {
  bridgeConfig, ipvlanConfig, macvlanConfig, macvlanTuningConflist, staticMacvlanConflist, staticVlanConfig, vlanConfig,
} from '../fixtures/templates.ts';
import {
  NODE_MULTUS_CONF_DIR, clusterNetworkAsConflistPath, clusterNetworkSet, editMultusConfigEverywhere, multusNamespace, writeNodeFile,
} from './multus-config.ts';
import type { E2EWorld } from './world.ts';

Given('a namespace {string}', async function (this: E2EWorld, logical: string) {
  await this.createNamespace(logical);
});

Given('a macvlan network {string} on master {word} with subnet {cidr}', async function (this: E2EWorld, name: string, master: string, subnet: string) {
  await this.createNad(this.namespace, name, macvlanConfig(name, master, subnet));
});

Given('a macvlan network {string} in namespace {string} on master {word} with subnet {cidr}',
  async function (this: E2EWorld, name: string, logicalNs: string, master: string, subnet: string) {
    await this.createNad(this.namespaceFor(logicalNs), name, macvlanConfig(name, master, subnet), { reference: `${logicalNs}/${name}` });
  });

Given('an ipvlan network {string} in {word} mode on master {word} with subnet {cidr}',
  async function (this: E2EWorld, name: string, mode: string, master: string, subnet: string) {
    if (mode !== 'l2' && mode !== 'l3' && mode !== 'l3s') throw new Error(`ipvlan mode must be l2, l3 or l3s, got "${mode}"`);
    await this.createNad(this.namespace, name, ipvlanConfig(name, master, mode, subnet));
  });

Given('a vlan network {string} with VLAN id {int} on master {word} with subnet {cidr}',
  async function (this: E2EWorld, name: string, vlanId: number, master: string, subnet: string) {
    await this.createNad(this.namespace, name, vlanConfig(name, master, vlanId, subnet));
  });

Given('a vlan network {string} with VLAN id {int} on master {word} whose addresses each pod chooses',
  async function (this: E2EWorld, name: string, vlanId: number, master: string) {
    await this.createNad(this.namespace, name, staticVlanConfig(name, master, vlanId));
  });

Given('a macvlan network {string} in the global namespace {string} on master {word} with subnet {cidr}',
  async function (this: E2EWorld, name: string, namespace: string, master: string, subnet: string) {
    // Global namespaces are shared by every scenario: a per-scenario name avoids collisions; removed in After.
    await this.createNad(namespace, `${name}-${this.suffix}`, macvlanConfig(name, master, subnet), { reference: `${namespace}/${name}` });
  });

Given('a bridge network {string} with subnet {cidr}', async function (this: E2EWorld, name: string, subnet: string) {
  await this.createNad(this.namespace, name, bridgeConfig(name, subnet));
});

Given('a macvlan network {string} on master {word} whose addresses and MAC each pod chooses', async function (this: E2EWorld, name: string, master: string) {
  await this.createNad(this.namespace, name, staticMacvlanConflist(name, master));
});

Given('a macvlan network {string} on master {word} with subnet {cidr}, tuned to MTU {int}',
  async function (this: E2EWorld, name: string, master: string, subnet: string, mtu: number) {
    await this.createNad(this.namespace, name, macvlanTuningConflist(name, master, subnet, mtu));
  });

Given('every node has a macvlan network {string} on master {word} with subnet {cidr} in its Multus config directory',
  async function (this: E2EWorld, name: string, master: string, subnet: string) {
    const file = `${NODE_MULTUS_CONF_DIR}/${name}.conf`;
    for (const node of await this.cluster.nodeNames()) {
      this.cleanups.push({ what: `removing ${file} on ${node}`, run: async () => void (await this.nodeExecOk(node, ['rm', '-f', file])) });
      await writeNodeFile(this, node, file, `${JSON.stringify(macvlanConfig(name, master, subnet), null, 2)}\n`);
    }
  });

Given('a network {string} whose configuration comes from the nodes', async function (this: E2EWorld, name: string) {
  await this.createNad(this.namespace, name, undefined);
});

Given('a macvlan network {string} in the Multus namespace on master {word} with subnet {cidr}',
  async function (this: E2EWorld, name: string, master: string, subnet: string) {
    // Multus resolves defaultNetworks in its own namespace; the NAD is removed after the scenario.
    const namespace = await multusNamespace(this);
    await this.createNad(namespace, `${name}-${this.suffix}`, macvlanConfig(name, master, subnet), { reference: name });
  });

Given('every node\'s Multus configuration adds {string} to its default networks', async function (this: E2EWorld, name: string) {
  const real = this.nads.get(name)?.name ?? name;
  await editMultusConfigEverywhere(this, `defaultNetworks += ${real}`, async (settings, node) => {
    const current = Array.isArray(settings.defaultNetworks) ? (settings.defaultNetworks as string[]) : [];
    return { ...(await clusterNetworkSet(this, node, settings)), defaultNetworks: [...current, real] };
  });
});

Given('every node\'s Multus configuration isolates namespaces', async function (this: E2EWorld) {
  await editMultusConfigEverywhere(this, 'namespaceIsolation', () => ({ namespaceIsolation: true }));
});

Given('every node\'s Multus configuration names its cluster network by the path of its conflist file', async function (this: E2EWorld) {
  await editMultusConfigEverywhere(this, 'clusterNetwork as a conflist path', (settings, node) => clusterNetworkAsConflistPath(this, node, settings));
});
