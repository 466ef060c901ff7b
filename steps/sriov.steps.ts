// Steps for emulated SR-IOV (@netdevsim): netdevsim NICs whose VFs the nodes offer as netdevsim.io/vf,
// NADs for the sriov delegate, and assertions against the PF's VF table, the pod's interface, the
// network-status device-info and kubelet's device checkpoint.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { CNI_VERSION, NETWORKS_ANNOTATION, RESOURCE_NAME_ANNOTATION, commaNetworks, hostLocalIpam, parseNetworkList, type CniConfig } from '../fixtures/templates.ts';
import { networkStatusOf } from './network-status.steps.ts';
import { parseIpJson } from '../clusters/ip-state.ts';
import type { E2EWorld } from './world.ts';

const RESOURCE = 'netdevsim.io/vf';
const CHECKPOINT = '/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint';

interface VfLink {
  ifname: string;
  address?: string;
  parentdev?: string;
  phys_port_name?: string;
  vfinfo_list?: { vf: number; address?: string; vlan_list?: { vlan?: number }[]; spoofchk?: boolean; trust?: boolean }[];
}

/** The VF a pod got, as read from the kernel: netdevsim device and VF index (its id is `<dev>-vf<k>`). */
interface PodVf { node: string; dev: string; vf: number; deviceId: string }
const podVfs = new WeakMap<E2EWorld, Map<string, PodVf>>();
function vfOf(world: E2EWorld, pod: string): PodVf {
  const vf = podVfs.get(world)?.get(pod);
  if (!vf) throw new Error(`no VF recorded for pod "${pod}" (use: Then pod "${pod}" has interface net1 on an allocated VF of node-N)`);
  return vf;
}

async function nodeVfLinks(world: E2EWorld, node: string): Promise<VfLink[]> {
  return parseIpJson<VfLink>(await world.nodeExecOk(node, ['ip', '-j', '-d', 'link', 'show']), `ip link of ${node}`);
}

async function pfOf(world: E2EWorld, node: string, dev: string): Promise<VfLink> {
  const links = await nodeVfLinks(world, node);
  const pf = links.find((l) => l.parentdev === dev && !/^pf\d+vf\d+$/.test(l.phys_port_name ?? ''));
  if (!pf) throw new Error(`${node} has no PF of ${dev}; its netdevsim links: ${links.filter((l) => l.parentdev).map((l) => l.ifname).join(', ') || '(none)'}`);
  return pf;
}

async function nodeCapacity(world: E2EWorld, node: string): Promise<number> {
  const n = await world.core.readNode({ name: node });
  return Number(n.status?.capacity?.[RESOURCE] ?? 0);
}

Given('every node offers {int} emulated SR-IOV VFs as netdevsim.io\\/vf', async function (this: E2EWorld, vfs: number) {
  for (const node of await this.cluster.nodeNames()) {
    const capacity = await nodeCapacity(this, node);
    assert.equal(capacity, vfs, `${node} offers ${capacity} ${RESOURCE}, expected ${vfs}: the cluster must be created with emulated SR-IOV NICs (clusters/vm/sriov-cluster.ts prepareNetdevsim/attachNetdevsim)`);
  }
});

function sriovConfig(name: string, subnet: string, settings: Record<string, unknown> = {}): CniConfig {
  return { cniVersion: CNI_VERSION, name, type: 'sriov', ...settings, ipam: hostLocalIpam(subnet) };
}

Given('an emulated SR-IOV network {string} with subnet {cidr}', async function (this: E2EWorld, name: string, subnet: string) {
  await this.createNad(this.namespace, name, sriovConfig(name, subnet), { annotations: { [RESOURCE_NAME_ANNOTATION]: RESOURCE } });
});

Given('an emulated SR-IOV network {string} with subnet {cidr}, vlan {int}, mac {mac}, spoofchk {word} and trust {word}',
  async function (this: E2EWorld, name: string, subnet: string, vlan: number, mac: string, spoofchk: string, trust: string) {
    await this.createNad(this.namespace, name, sriovConfig(name, subnet, { vlan, mac, spoofchk, trust }), { annotations: { [RESOURCE_NAME_ANNOTATION]: RESOURCE } });
  });

async function createVfPod(world: E2EWorld, name: string, node: string | undefined, vfs: number, networks: string): Promise<void> {
  await world.createPod({
    name,
    ...(node ? { node: await world.nodeNamed(node) } : {}),
    annotations: { [NETWORKS_ANNOTATION]: commaNetworks(parseNetworkList(networks)) },
    resources: { [RESOURCE]: String(vfs) },
  });
}

When('pod {string} starts on {node} with {int} VF(s) attached to {string}', async function (this: E2EWorld, name: string, node: string, vfs: number, networks: string) {
  await createVfPod(this, name, node, vfs, networks);
  await this.waitForPodRunning(name);
});

When('pod {string} is created asking for {int} VFs attached to {string}', async function (this: E2EWorld, name: string, vfs: number, networks: string) {
  await createVfPod(this, name, undefined, vfs, networks);
});

Then('pod {string} has interface {word} on an allocated VF of {node}', async function (this: E2EWorld, pod: string, ifname: string, nodeLabel: string) {
  const node = await this.nodeNamed(nodeLabel);
  const links = parseIpJson<VfLink>(await this.podExecOk(pod, ['ip', '-j', '-d', 'link', 'show', ifname]), `ip link of pod ${pod}`);
  const link = links[0];
  const m = /^pf\d+vf(\d+)$/.exec(link?.phys_port_name ?? '');
  const dev = link?.parentdev;
  if (!dev?.startsWith('netdevsim') || !m) throw new Error(`${ifname} of pod "${pod}" is not a netdevsim VF: ${JSON.stringify(link)}`);
  const vf: PodVf = { node, dev, vf: Number(m[1]), deviceId: `${dev}-vf${m[1]}` };
  // The VF must be the one kubelet's checkpoint allocated to this pod.
  const { uid } = this.podRecord(pod);
  const checkpoint = JSON.parse(await this.nodeExecOk(node, ['cat', CHECKPOINT])) as { Data: { PodDeviceEntries: { PodUID: string; ResourceName: string; DeviceIDs: Record<string, string[]> }[] | null } };
  const allocated = (checkpoint.Data.PodDeviceEntries ?? []).filter((e) => e.PodUID === uid && e.ResourceName === RESOURCE).flatMap((e) => Object.values(e.DeviceIDs).flat());
  assert.ok(allocated.includes(vf.deviceId), `pod "${pod}" has ${vf.deviceId} but ${node}'s checkpoint allocated it ${JSON.stringify(allocated)}`);
  await pfOf(this, node, vf.dev);
  if (!podVfs.has(this)) podVfs.set(this, new Map());
  podVfs.get(this)!.set(pod, vf);
});

Then('the PF on {node} shows the VF of pod {string} with vlan {int}, mac {mac}, spoofchk {word} and trust {word}',
  async function (this: E2EWorld, nodeLabel: string, pod: string, vlan: number, mac: string, spoofchk: string, trust: string) {
    const vf = vfOf(this, pod);
    assert.equal(vf.node, await this.nodeNamed(nodeLabel), `pod "${pod}"'s VF is on ${vf.node}`);
    const pf = await pfOf(this, vf.node, vf.dev);
    const shown = parseIpJson<VfLink>(await this.nodeExecOk(vf.node, ['ip', '-j', 'link', 'show', pf.ifname]), `ip link show ${pf.ifname}`)[0];
    const entry = shown?.vfinfo_list?.find((v) => v.vf === vf.vf);
    assert.ok(entry, `ip -j link show ${pf.ifname} on ${vf.node} lists no vf ${vf.vf}`);
    assert.deepEqual(
      { vlan: entry.vlan_list?.[0]?.vlan ?? 0, mac: entry.address?.toLowerCase(), spoofchk: entry.spoofchk ? 'on' : 'off', trust: entry.trust ? 'on' : 'off' },
      { vlan, mac, spoofchk, trust },
      `vf ${vf.vf} of ${pf.ifname} on ${vf.node}`,
    );
    const net1 = parseIpJson<VfLink>(await this.podExecOk(pod, ['ip', '-j', 'link', 'show', 'net1']), `ip link of pod ${pod}`)[0];
    assert.equal(net1?.address, mac, `net1 of pod "${pod}" should carry the network's MAC`);
  });

Then('the network-status of pod {string} carries the device-info of its VF', async function (this: E2EWorld, pod: string) {
  const vf = vfOf(this, pod);
  const entries = await networkStatusOf(this, pod);
  const entry = entries.find((e) => e.interface === 'net1');
  assert.ok(entry, `network-status of pod "${pod}" has no net1 entry: ${JSON.stringify(entries)}`);
  const info = entry['device-info'] as { type?: string; pci?: Record<string, string> } | undefined;
  assert.ok(info, `network-status entry of net1 has no device-info: ${JSON.stringify(entry)}`);
  assert.equal(info.type, 'pci');
  assert.equal(info.pci?.['pci-address'], vf.deviceId, `device-info should name the allocated VF: ${JSON.stringify(info)}`);
});

Then('the VF of pod {string} is reset and back in {node}\'s pool', async function (this: E2EWorld, pod: string, nodeLabel: string) {
  const vf = vfOf(this, pod);
  assert.equal(vf.node, await this.nodeNamed(nodeLabel));
  const links = await nodeVfLinks(this, vf.node);
  assert.ok(links.some((l) => l.parentdev === vf.dev && l.phys_port_name === `pf0vf${vf.vf}`), `the netdev of ${vf.deviceId} did not come back to ${vf.node}`);
  const pf = await pfOf(this, vf.node, vf.dev);
  const entry = pf.vfinfo_list?.find((v) => v.vf === vf.vf);
  assert.deepEqual(
    { vlan: entry?.vlan_list?.[0]?.vlan ?? 0, mac: entry?.address, spoofchk: entry?.spoofchk, trust: entry?.trust },
    { vlan: 0, mac: '00:00:00:00:00:00', spoofchk: true, trust: false },
    `vf ${vf.vf} of ${pf.ifname} should be reset`,
  );
  const checkpoint = await this.nodeExecOk(vf.node, ['cat', CHECKPOINT]);
  const entries = (JSON.parse(checkpoint) as { Data: { PodDeviceEntries: { DeviceIDs: Record<string, string[]> }[] | null } }).Data.PodDeviceEntries ?? [];
  assert.ok(!entries.some((e) => Object.values(e.DeviceIDs).flat().includes(vf.deviceId)), `${vf.deviceId} is still allocated in ${vf.node}'s checkpoint`);
});

Then('pod {string} stays Pending because no node has enough netdevsim.io\\/vf', async function (this: E2EWorld, pod: string) {
  const why = await this.waitForPodFailure(pod);
  assert.match(why, /Insufficient netdevsim\.io\/vf/, `the reason should say the VFs are insufficient; the cluster says:\n${why}`);
  const p = await this.readPod(pod);
  assert.equal(p.status?.phase ?? 'Pending', 'Pending');
  assert.equal(p.spec?.nodeName, undefined, `pod "${pod}" must not be bound to a node`);
});
