// Gives a local-provider cluster emulated SR-IOV NICs: one netdevsim NIC per node, its VFs offered as
// the extended resource netdevsim.io/vf (the local provider's `extendedResources` create option), the
// PF and VF representors moved into the node's network namespace, and the emulated SR-IOV delegate
// installed as /opt/cni/bin/sriov. Used by whoever creates the cluster, in three steps:
//   const sriov = await prepareNetdevsim(nodes);                    // before create()
//   const cluster = await localProvider.create({ ..., extendedResources: sriov.extendedResources });
//   await attachNetdevsim(cluster, sriov);                           // after create(), before any pod
//   ... cluster.destroy(); await releaseNetdevsim(sriov);
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../provider.ts';
import { clusterPrefix, nodeName, nodeNetns } from '../local/names.ts';
import { SRIOV_DELEGATE_DIST, buildSriovDelegate } from '../../fixtures/delegates/sriov/build.ts';
import { NETDEVSIM_RESOURCE, createNetdevsimNics, deleteNetdevsimNics, moveNetdevsimNic, type NetdevsimNic } from './netdevsim.ts';

export const DEFAULT_VFS_PER_NODE = 4;

export interface NetdevsimSetup {
  /** nics[i] belongs to node-(i+1). */
  nics: NetdevsimNic[];
  /** For the local provider's create(): `{ "node-1": { "netdevsim.io/vf": [device ids] }, … }`. */
  extendedResources: Record<string, Record<string, string[]>>;
}

/** Creates one NIC per node (in this network namespace) and the extended resources that advertise them. */
export async function prepareNetdevsim(nodes: number, vfs = Number(process.env.MULTUS_E2E_VFS ?? DEFAULT_VFS_PER_NODE)): Promise<NetdevsimSetup> {
  const nics = await createNetdevsimNics({ count: nodes, vfs });
  const extendedResources: NetdevsimSetup['extendedResources'] = {};
  nics.forEach((nic, i) => { extendedResources[nodeName(i + 1)] = { [NETDEVSIM_RESOURCE]: nic.deviceIds }; });
  return { nics, extendedResources };
}

/** Moves each node's NIC into its network namespace and installs the sriov delegate on every node. */
export async function attachNetdevsim(cluster: Cluster, setup: NetdevsimSetup): Promise<void> {
  const delegate = await ensureSriovDelegate();
  const nodes = await cluster.nodeNames();
  const prefix = clusterPrefix(cluster.name);
  for (const [i, nic] of setup.nics.entries()) {
    const node = nodes[i];
    if (!node) throw new Error(`netdevsim: NIC ${nic.pf} has no node to go to (cluster has ${nodes.length} nodes)`);
    await moveNetdevsimNic(nic, join('/run/netns', nodeNetns(prefix, node)));
  }
  for (const node of nodes) {
    const r = await cluster.nodeExec(node, ['install', '-m', '0755', delegate, '/opt/cni/bin/sriov']);
    if (r.code !== 0) throw new Error(`netdevsim: installing the sriov delegate on ${node} failed: ${r.stderr.trim()}`);
  }
}

export async function releaseNetdevsim(setup: NetdevsimSetup): Promise<void> {
  await deleteNetdevsimNics(setup.nics);
}

/** The bundled delegate, rebuilt when a source is newer (the guest reuses the host's build). */
export async function ensureSriovDelegate(): Promise<string> {
  const dir = join(SRIOV_DELEGATE_DIST, '..', '..');
  const newest = Math.max(...['main.ts', 'netdevsim-links.ts'].map((f) => statSync(join(dir, f)).mtimeMs));
  if (existsSync(SRIOV_DELEGATE_DIST) && statSync(SRIOV_DELEGATE_DIST).mtimeMs >= newest) return SRIOV_DELEGATE_DIST;
  return buildSriovDelegate();
}
