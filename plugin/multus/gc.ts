// GC (CNI 1.1.0): cache entries whose attachment is not in the valid list are deleted (their delegates
// DELed, best effort) and removed; GC is then forwarded to every delegate network we know of, with
// the still-valid attachments of that network.
import { CniError, ErrorCode } from '../cni/errors.ts';
import { gcNetwork, isJsonObject, type NetworkConfig } from '../cni/netconf.ts';
import { planAttachments } from './attachments.ts';
import { listCache, readCache, removeCache, type CachedAttachment } from './cache.ts';
import { delegationContext, type CallContext } from './context.ts';
import { attachmentNetwork, deleteAttachments } from './delegation.ts';

interface Attachment {
  containerID: string;
  ifname: string;
}

function validAttachments(raw: Record<string, unknown>): Attachment[] {
  const list = raw['cni.dev/valid-attachments'] ?? raw['cni.dev/attachments'] ?? [];
  if (!Array.isArray(list)) throw new CniError(ErrorCode.InvalidConfig, '"cni.dev/valid-attachments" must be a list');
  return list.map((a, i) => {
    if (!isJsonObject(a) || typeof a['containerID'] !== 'string' || typeof a['ifname'] !== 'string') {
      throw new CniError(ErrorCode.InvalidConfig, `"cni.dev/valid-attachments"[${i}] needs string containerID and ifname`);
    }
    return { containerID: a['containerID'], ifname: a['ifname'] };
  });
}

export async function cmdGc(ctx: CallContext): Promise<void> {
  const { conf, log } = ctx;
  const valid = validAttachments(ctx.raw);
  const isValid = (id: string, ifname: string) => valid.some((v) => v.containerID === id && v.ifname === ifname);
  const errors: string[] = [];
  // network name → its config and the delegate attachments still in use
  const nets = new Map<string, { net: NetworkConfig; inUse: Attachment[] }>();
  const remember = (a: CachedAttachment, containerId: string | undefined) => {
    const net = attachmentNetwork(a);
    const slot = nets.get(net.name) ?? { net, inUse: [] };
    if (containerId) slot.inUse.push({ containerID: containerId, ifname: a.ifname });
    nets.set(net.name, slot);
  };
  for (const id of listCache(conf.cniDir)) {
    const cached = readCache(conf.cniDir, id);
    if (cached.kind !== 'entry') {
      if (cached.kind === 'corrupt') errors.push(`cache ${cached.path} unreadable: ${cached.reason}`);
      continue;
    }
    const entry = cached.entry;
    if (isValid(entry.containerId, entry.ifname)) {
      for (const a of entry.attachments) remember(a, entry.containerId);
      continue;
    }
    log.verbose('GC: removing stale attachment', { containerId: entry.containerId, ifname: entry.ifname });
    // No netns: GC may assume it is gone, and a cached path could name a different namespace by now.
    const failures = await deleteAttachments(entry.attachments, { ...delegationContext(ctx, ''), containerId: entry.containerId });
    for (const f of failures) errors.push(`stale ${entry.containerId}/${f.attachment.ifname} (${f.attachment.network}): ${f.error.message}`);
    removeCache(conf.cniDir, entry.containerId);
  }
  const client = await ctx.connectKube();
  try {
    const [cluster] = await planAttachments({ conf, client, pod: undefined, podRef: undefined, ifname: 'eth0', cniArgs: '', strictDevices: false });
    if (cluster) remember(cluster, undefined);
  } catch (e) {
    errors.push(`cluster network: ${(e as Error).message}`);
  } finally {
    client?.close();
  }
  const path = delegationContext(ctx).path;
  for (const { net, inUse } of nets.values()) {
    for (const err of await gcNetwork(net, path, inUse)) errors.push(err.message);
  }
  if (errors.length) throw new CniError(ErrorCode.DelegateFailed, `GC finished with ${errors.length} error(s)`, errors.join('; '));
}
