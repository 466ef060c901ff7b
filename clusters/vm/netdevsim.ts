// Emulated SR-IOV NICs: one netdevsim device per node, in switchdev mode so each VF has a
// representor netdev (netdevsim has no real VF netdevs; the representor stands in for the VF the pod
// gets). Runs where the kernel has netdevsim: inside the vm guest, or a host that has the module.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { $ } from 'zx';
import { pfName, readNetdevsimLinks, representorName, vfDeviceId } from '../../fixtures/delegates/sriov/netdevsim-links.ts';

export const NETDEVSIM_RESOURCE = 'netdevsim.io/vf';
/** netdevsim's own VF limit unless raised through debugfs. */
const DEFAULT_MAX_VFS = 4;
const BUS = '/sys/bus/netdevsim';
/** Where a device plugin leaves per-device information (NPWG device-info spec 1.1). */
export const DP_DEVINFO_DIR = '/var/run/k8s.cni.cncf.io/devinfo/dp';

export interface NetdevsimNic {
  /** netdevsim bus id: the device is netdevsim<id>. */
  id: number;
  /** PF netdev name (renamed to nsim<id>). */
  pf: string;
  resourceName: string;
  /** One per VF, in VF order: `netdevsim<id>-vf<k>`, what the device plugin advertises and the delegate takes as deviceID. */
  deviceIds: string[];
  /** Representor netdev names (nsim<id>v<k>), in VF order. */
  representors: string[];
}

export interface CreateNicsOptions {
  count: number;
  /** VFs per NIC (default 4). */
  vfs?: number;
  resourceName?: string;
}

export async function netdevsimAvailable(): Promise<boolean> {
  if (existsSync(BUS)) return true;
  const r = await $({ quiet: true, nothrow: true })`modprobe netdevsim`;
  return r.exitCode === 0 && existsSync(BUS);
}

async function freeIds(n: number): Promise<number[]> {
  const used = new Set((await readdir(join(BUS, 'devices')).catch(() => [] as string[])).map((d) => Number(d.replace('netdevsim', ''))));
  const ids: number[] = [];
  for (let id = 1; ids.length < n; id++) if (!used.has(id)) ids.push(id);
  return ids;
}

/** Creates `count` NICs in the current network namespace. On failure nothing is left behind. */
export async function createNetdevsimNics(opts: CreateNicsOptions): Promise<NetdevsimNic[]> {
  const vfs = opts.vfs ?? DEFAULT_MAX_VFS;
  if (!Number.isInteger(vfs) || vfs < 1 || vfs > 64) throw new Error(`netdevsim: vfs must be an integer 1..64, got ${vfs}`);
  if (!(await netdevsimAvailable())) throw new Error('netdevsim: this kernel has no netdevsim module (use the vm provider)');
  const nics: NetdevsimNic[] = [];
  try {
    for (const id of await freeIds(opts.count)) nics.push(await createNic(id, vfs, opts.resourceName ?? NETDEVSIM_RESOURCE));
    return nics;
  } catch (e) {
    await deleteNetdevsimNics(nics);
    throw e;
  }
}

async function createNic(id: number, vfs: number, resourceName: string): Promise<NetdevsimNic> {
  const dev = `netdevsim${id}`;
  await writeFile(join(BUS, 'new_device'), `${id} 1`);
  try {
    await $({ quiet: true })`devlink dev eswitch set ${`netdevsim/${dev}`} mode switchdev`;
    if (vfs > DEFAULT_MAX_VFS) await writeFile(`/sys/kernel/debug/netdevsim/${dev}/max_vfs`, String(vfs));
    await writeFile(join(BUS, 'devices', dev, 'sriov_numvfs'), String(vfs));
    const links = await readNetdevsimLinks(dev);
    if (!links.pf) throw new Error(`netdevsim: ${dev} has no PF netdev`);
    const pf = pfName(dev);
    await $({ quiet: true })`ip link set ${links.pf} name ${pf}`;
    const representors: string[] = [];
    const deviceIds: string[] = [];
    for (let vf = 0; vf < vfs; vf++) {
      const rep = links.representors.get(vf);
      if (!rep) throw new Error(`netdevsim: ${dev} has no representor for vf ${vf}`);
      const name = representorName(dev, vf);
      await $({ quiet: true })`ip link set ${rep} name ${name}`;
      representors.push(name);
      deviceIds.push(vfDeviceId(dev, vf));
      await writeDeviceInfo(resourceName, dev, vf);
    }
    return { id, pf, resourceName, deviceIds, representors };
  } catch (e) {
    await deleteNic(id, resourceName);
    throw e;
  }
}

function dpInfoFile(resourceName: string, deviceId: string): string {
  return join(DP_DEVINFO_DIR, `${resourceName.replace(/\//g, '-')}-${deviceId}-device.json`);
}

/** What a device plugin publishes per device; netdevsim is not PCI, so its ids stand in for addresses. */
async function writeDeviceInfo(resourceName: string, dev: string, vf: number): Promise<void> {
  await mkdir(DP_DEVINFO_DIR, { recursive: true });
  const info = { type: 'pci', version: '1.1.0', pci: { 'pci-address': vfDeviceId(dev, vf), 'pf-pci-address': dev, 'representor-device': representorName(dev, vf) } };
  await writeFile(dpInfoFile(resourceName, vfDeviceId(dev, vf)), JSON.stringify(info));
}

/** Moves a NIC's PF and every representor into a network namespace (a name under /var/run/netns or a path). */
export async function moveNetdevsimNic(nic: NetdevsimNic, netns: string): Promise<void> {
  for (const link of [nic.pf, ...nic.representors]) await $({ quiet: true })`ip link set ${link} netns ${netns}`;
}

async function deleteNic(id: number, resourceName: string): Promise<void> {
  const dev = `netdevsim${id}`;
  // Deleting the device removes its netdevs in whatever namespace they are.
  if (existsSync(join(BUS, 'devices', dev))) await writeFile(join(BUS, 'del_device'), String(id));
  const files = await readdir(DP_DEVINFO_DIR).catch(() => [] as string[]);
  const prefix = `${resourceName.replace(/\//g, '-')}-${dev}-vf`;
  for (const f of files) if (f.startsWith(prefix)) await rm(join(DP_DEVINFO_DIR, f), { force: true });
}

export async function deleteNetdevsimNics(nics: NetdevsimNic[]): Promise<void> {
  for (const nic of nics) await deleteNic(nic.id, nic.resourceName);
}
