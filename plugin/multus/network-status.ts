// k8s.v1.cni.cncf.io/network-status (multi-net spec §5): one entry per attachment, built from each
// delegate's result, written through pods/status with conflict retries.
import { CniError, ErrorCode } from '../cni/errors.ts';
import { parseNetworkConfig } from '../cni/netconf.ts';
import { toCurrent, type CniDns } from '../cni/result.ts';
import type { ApiCaller } from '../k8s/client.ts';
import { statusMessage } from '../k8s/status-message.ts';
import { NETWORK_STATUS_ANNOTATION } from './annotations.ts';
import type { CachedAttachment } from './cache.ts';
import { getPod, podPath, type PodObject } from './kube.ts';

export interface NetworkStatusEntry {
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  mtu?: number;
  default: boolean;
  dns?: CniDns;
  'default-route'?: string[];
  'device-info'?: Record<string, unknown>;
}

export function statusEntry(a: CachedAttachment, netns: string): NetworkStatusEntry {
  const entry: NetworkStatusEntry = { name: a.network, default: a.isDefault };
  const version = parseNetworkConfig(a.netConf, a.network).cniVersion;
  if (a.result !== undefined && a.result !== null) {
    const r = toCurrent(a.result, version);
    // The first interface inside the sandbox is the attachment's (multi-net spec §5.3.2.1).
    const idx = r.interfaces.findIndex((i) => i.sandbox && (!netns || i.sandbox === netns));
    const sandboxIdx = idx >= 0 ? idx : r.interfaces.findIndex((i) => i.sandbox);
    const iface = r.interfaces[sandboxIdx];
    entry.interface = iface?.name ?? a.ifname;
    const ips = sandboxIdx >= 0 ? r.ips.filter((ip) => ip.interface === sandboxIdx) : r.ips.filter((ip) => ip.interface === undefined || ip.interface < 0);
    if (ips.length) entry.ips = ips.map((ip) => ip.address.split('/')[0] as string);
    if (iface?.mac) entry.mac = iface.mac;
    if (iface?.mtu) entry.mtu = iface.mtu;
    if (Object.keys(r.dns).length) entry.dns = r.dns;
  } else {
    entry.interface = a.ifname;
  }
  if (a.defaultRoute) entry['default-route'] = a.defaultRoute;
  if (a.deviceId) entry['device-info'] = { type: 'pci', version: '1.1.0', pci: { 'pci-address': a.deviceId } };
  return entry;
}

export function buildNetworkStatus(attachments: CachedAttachment[], netns: string): NetworkStatusEntry[] {
  return attachments.map((a) => statusEntry(a, netns));
}

/**
 * Write the annotation with PUT pods/status, retrying on 409 conflicts with a fresh GET. The pod read at
 * the start of ADD is tried first: usually nothing changed it meanwhile, which saves a round trip.
 */
export async function writeNetworkStatus(client: ApiCaller, ns: string, name: string, entries: NetworkStatusEntry[], known?: PodObject): Promise<void> {
  const value = JSON.stringify(entries, null, 2);
  for (let attempt = 1; ; attempt++) {
    const pod = attempt === 1 && known ? structuredClone(known) : await getPod(client, ns, name);
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [NETWORK_STATUS_ANNOTATION]: value };
    const res = await client.call('PUT', `${podPath(ns, name)}/status`, pod);
    if (res.status === 200 || res.status === 201) return;
    if (res.status === 409 && attempt < 5) continue;
    if (res.status === 404) throw new CniError(ErrorCode.PodNotFound, `pod ${ns}/${name} disappeared while writing network-status`);
    throw new CniError(ErrorCode.ApiFailure, `writing network-status of pod ${ns}/${name}: HTTP ${res.status}: ${statusMessage(res.body)}`);
  }
}
