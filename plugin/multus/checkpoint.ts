// Kubelet's device-plugin checkpoint: which device IDs of a resource belong to a pod.
import { readFileSync } from 'node:fs';
import { CniError, ErrorCode } from '../cni/errors.ts';

interface PodDeviceEntry {
  PodUID?: string;
  ContainerName?: string;
  ResourceName?: string;
  DeviceIDs?: Record<string, string[]> | string[];
}

/** Hands out the pod's devices of each resource one by one, in checkpoint order. */
export class DeviceAllocator {
  private entries: PodDeviceEntry[] | undefined;
  private readonly used = new Map<string, number>();
  constructor(
    private readonly file: string,
    private readonly podUid: string,
  ) {}

  private load(): PodDeviceEntry[] {
    if (this.entries) return this.entries;
    let doc: { Data?: { PodDeviceEntries?: PodDeviceEntry[] } };
    try {
      doc = JSON.parse(readFileSync(this.file, 'utf8')) as typeof doc;
    } catch (e) {
      throw new CniError(ErrorCode.InvalidConfig, `cannot read kubelet checkpoint ${this.file}: ${(e as Error).message}`);
    }
    this.entries = Array.isArray(doc.Data?.PodDeviceEntries) ? doc.Data.PodDeviceEntries : [];
    return this.entries;
  }

  devicesOf(resource: string): string[] {
    const ids: string[] = [];
    for (const e of this.load()) {
      if (e.PodUID !== this.podUid || e.ResourceName !== resource || !e.DeviceIDs) continue;
      const lists = Array.isArray(e.DeviceIDs) ? [e.DeviceIDs] : Object.values(e.DeviceIDs);
      for (const l of lists) if (Array.isArray(l)) ids.push(...l.filter((x): x is string => typeof x === 'string'));
    }
    return ids;
  }

  next(resource: string, network: string): string {
    if (!this.podUid) throw new CniError(ErrorCode.InvalidConfig, `network ${network} needs a ${resource} device but K8S_POD_UID is not in CNI_ARGS`);
    const ids = this.devicesOf(resource);
    const n = this.used.get(resource) ?? 0;
    const id = ids[n];
    if (id === undefined) {
      throw new CniError(ErrorCode.InvalidConfig, `network ${network}: no unused ${resource} device allocated to pod ${this.podUid} in ${this.file} (${ids.length} allocated)`);
    }
    this.used.set(resource, n + 1);
    return id;
  }
}
