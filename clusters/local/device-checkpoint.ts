// Extended-resource devices given to pods, recorded in kubelet's device-plugin checkpoint format
// (/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint) which the plugin reads to inject
// `deviceID` into delegates of NADs with a k8s.v1.cni.cncf.io/resourceName annotation.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

interface PodDeviceEntry {
  PodUID: string;
  ContainerName: string;
  ResourceName: string;
  DeviceIDs: Record<string, string[]>;
}

interface Checkpoint {
  Data: { PodDeviceEntries: PodDeviceEntry[] | null; RegisteredDevices: Record<string, string[]> | null };
  Checksum: number;
}

/**
 * The file is the source of truth for registered devices too, so devices can be registered at run
 * time from another process (LocalCluster.registerDevices) while the node agent allocates.
 */
export class DeviceCheckpoint {
  constructor(
    /** Host path of the node's checkpoint file. */
    private readonly file: string,
  ) {}

  /** Sets the device IDs of one resource (keeping allocations); returns the node's whole registry. */
  register(resource: string, deviceIds: string[]): Record<string, string[]> {
    const cp = this.read();
    cp.Data.RegisteredDevices = { ...(cp.Data.RegisteredDevices ?? {}), [resource]: [...deviceIds] };
    this.write(cp);
    return cp.Data.RegisteredDevices;
  }

  registered(): Record<string, string[]> {
    return this.read().Data.RegisteredDevices ?? {};
  }

  /** Allocates unused devices for every extended resource the pod asks for; throws if short. */
  allocate(podUid: string, containerName: string, wants: Record<string, number>): Record<string, string[]> {
    const cp = this.read();
    const entries = cp.Data.PodDeviceEntries ?? [];
    if (entries.some((e) => e.PodUID === podUid)) {
      return Object.fromEntries(entries.filter((e) => e.PodUID === podUid).map((e) => [e.ResourceName, e.DeviceIDs['-1'] ?? []]));
    }
    const granted: Record<string, string[]> = {};
    const registered = cp.Data.RegisteredDevices ?? {};
    for (const [res, n] of Object.entries(wants)) {
      if (n === 0) continue;
      const used = new Set(entries.filter((e) => e.ResourceName === res).flatMap((e) => Object.values(e.DeviceIDs).flat()));
      const free = (registered[res] ?? []).filter((id) => !used.has(id));
      if (free.length < n) throw new Error(`insufficient ${res}: want ${n}, ${free.length} free on this node`);
      granted[res] = free.slice(0, n);
    }
    for (const [res, ids] of Object.entries(granted)) {
      entries.push({ PodUID: podUid, ContainerName: containerName, ResourceName: res, DeviceIDs: { '-1': ids } });
    }
    cp.Data.PodDeviceEntries = entries;
    this.write(cp);
    return granted;
  }

  release(podUid: string): void {
    const cp = this.read();
    const entries = cp.Data.PodDeviceEntries ?? [];
    if (!entries.some((e) => e.PodUID === podUid)) return;
    cp.Data.PodDeviceEntries = entries.filter((e) => e.PodUID !== podUid);
    this.write(cp);
  }

  private read(): Checkpoint {
    if (!existsSync(this.file)) return { Data: { PodDeviceEntries: [], RegisteredDevices: {} }, Checksum: 0 };
    return JSON.parse(readFileSync(this.file, 'utf8')) as Checkpoint;
  }

  private write(cp: Checkpoint): void {
    writeFileSync(`${this.file}.tmp`, JSON.stringify(cp));
    renameSync(`${this.file}.tmp`, this.file);
  }
}
