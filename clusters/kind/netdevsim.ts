// netdevsim on kind: kind nodes share the host's kernel, so SR-IOV-like devices are created on the
// host (sysfs) and their PF netdevs moved into a worker container's network namespace.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ToolRunner } from './tools.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export type Availability = { ok: true } | { ok: false; reason: string };

/**
 * Whether @netdevsim scenarios can run on kind. Devices can be moved into the nodes when the host
 * kernel has netdevsim (netdevsimIntoNode), but the scenarios also need the VFs offered to the real
 * kubelet as netdevsim.io/vf and allocated into its device checkpoint, which takes a device plugin
 * this provider does not ship; so the answer is no, with the reason that applies.
 */
export function kindNetdevsimAvailability(sysfs = '/sys'): Availability {
  if (!existsSync(join(sysfs, 'bus/netdevsim/new_device'))) {
    return {
      ok: false,
      reason: `the host kernel has no netdevsim (${join(sysfs, 'bus/netdevsim')} is missing); kind nodes share the host kernel`,
    };
  }
  return {
    ok: false,
    reason: 'the kind provider has no device plugin to offer netdevsim VFs to the kubelet as netdevsim.io/vf (use the local or vm provider)',
  };
}

export interface NetdevsimRequest {
  /** netdevsim device id (the N of netdevsimN); must be unused on the host. */
  id: number;
  ports: number;
  /** VFs to create on the device (sriov_numvfs); 0 for none. */
  numvfs: number;
}


/** A device id not in use on the host, from base upwards. */
export function freeNetdevsimId(sysfs = '/sys', base = 700): number {
  const devices = join(sysfs, 'bus/netdevsim/devices');
  const used = new Set(existsSync(devices) ? readdirSync(devices) : []);
  let id = base;
  while (used.has(`netdevsim${id}`)) id++;
  return id;
}

/**
 * Creates the device, waits for its port netdevs, sets the VF count and moves every port into the
 * node container's network namespace. Returns the PF names as they appear inside the node. The device
 * is deleted again if any step fails.
 */
export async function netdevsimIntoNode(
  runner: ToolRunner,
  container: string,
  req: NetdevsimRequest,
  sysfs = '/sys',
): Promise<string[]> {
  const bus = join(sysfs, 'bus/netdevsim');
  const device = join(bus, 'devices', `netdevsim${req.id}`);
  writeFileSync(join(bus, 'new_device'), `${req.id} ${req.ports}`);
  try {
    const netDir = join(device, 'net');
    let pfs: string[] = [];
    for (let waited = 0; waited <= 5_000; waited += 100) {
      pfs = existsSync(netDir) ? readdirSync(netDir).sort() : [];
      if (pfs.length >= req.ports) break;
      await sleep(100);
    }
    if (pfs.length < req.ports) throw new Error(`netdevsim${req.id}: ${pfs.length} of ${req.ports} port netdevs appeared`);
    if (req.numvfs > 0) writeFileSync(join(device, 'sriov_numvfs'), String(req.numvfs));
    const pid = (await runner.run('docker', ['inspect', '--format', '{{.State.Pid}}', container])).stdout.trim();
    if (!/^[1-9]\d*$/.test(pid)) throw new Error(`docker inspect ${container}: no running pid (got "${pid}")`);
    for (const pf of pfs) await runner.run('ip', ['link', 'set', 'dev', pf, 'netns', pid]);
    return pfs;
  } catch (err) {
    removeNetdevsim(req.id, sysfs);
    throw err;
  }
}

/** Deletes the device (its netdevs vanish with it, wherever they were moved). Idempotent. */
export function removeNetdevsim(id: number, sysfs = '/sys'): void {
  if (!existsSync(join(sysfs, 'bus/netdevsim/devices', `netdevsim${id}`))) return;
  writeFileSync(join(sysfs, 'bus/netdevsim/del_device'), String(id));
}
