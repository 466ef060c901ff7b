// Invoking one attachment's delegate (with the timing line the harness reads) and tearing a list of
// attachments down in reverse, continuing past failures (multi-net spec §7.2).
import { CniError } from '../cni/errors.ts';
import { addNetwork, checkNetwork, delNetwork, parseNetworkConfig, type CallParams, type NetworkConfig } from '../cni/netconf.ts';
import type { CachedAttachment } from './cache.ts';
import type { Logger } from './log.ts';

export interface DelegationContext {
  containerId: string;
  netns: string;
  path: string[];
  log: Logger;
}

export function attachmentNetwork(a: CachedAttachment): NetworkConfig {
  return parseNetworkConfig(a.netConf, `cached config of network ${a.network}`);
}

function params(a: CachedAttachment, ctx: DelegationContext): CallParams {
  return { containerId: ctx.containerId, netns: ctx.netns, ifname: a.ifname, args: a.cniArgs, path: ctx.path, capabilityArgs: a.capabilityArgs };
}

async function timed<T>(verb: string, a: CachedAttachment, net: NetworkConfig, ctx: DelegationContext, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const fields = {
    verb,
    network: a.network,
    type: String(net.plugins[0]?.['type'] ?? ''),
    ...(net.isList ? { plugins: net.plugins.map((p) => String(p['type'])) } : {}),
    ifname: a.ifname,
  };
  try {
    const out = await fn();
    ctx.log.timing('delegate', { ...fields, ms: round(performance.now() - start), ok: true }, true);
    return out;
  } catch (e) {
    ctx.log.timing('delegate', { ...fields, ms: round(performance.now() - start), ok: false, error: (e as Error).message }, false);
    if (e instanceof CniError) throw new CniError(e.code, `network ${a.network} (interface ${a.ifname}): ${e.message}`, e.details);
    throw e;
  }
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export async function addAttachment(a: CachedAttachment, ctx: DelegationContext): Promise<unknown> {
  const net = attachmentNetwork(a);
  return timed('ADD', a, net, ctx, () => addNetwork(net, params(a, ctx)));
}

export async function checkAttachment(a: CachedAttachment, ctx: DelegationContext): Promise<boolean> {
  const net = attachmentNetwork(a);
  return timed('CHECK', a, net, ctx, () => checkNetwork(net, params(a, ctx), a.result));
}

/** DEL every attachment in reverse; returns the ones that failed with their errors. */
export async function deleteAttachments(list: CachedAttachment[], ctx: DelegationContext): Promise<{ attachment: CachedAttachment; error: CniError }[]> {
  const failed: { attachment: CachedAttachment; error: CniError }[] = [];
  for (const a of [...list].reverse()) {
    try {
      const net = attachmentNetwork(a);
      await timed('DEL', a, net, ctx, () => delNetwork(net, params(a, ctx), a.result));
    } catch (e) {
      const err = e instanceof CniError ? e : new CniError(999, (e as Error).message);
      ctx.log.error('delegate DEL failed', { network: a.network, ifname: a.ifname, error: err.message });
      failed.push({ attachment: a, error: err });
    }
  }
  return failed;
}
