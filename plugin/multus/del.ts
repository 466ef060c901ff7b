// DEL: undo what the cache says was attached, in reverse, continuing past failures. Without a cache
// re-derive from the pod; what cannot be determined is logged precisely, never skipped silently.
import { CniError, ErrorCode } from '../cni/errors.ts';
import { planAttachments, type PodRef } from './attachments.ts';
import { readCache, removeCache, writeCache, type CachedAttachment, type CacheEntry } from './cache.ts';
import { delegationContext, type CallContext } from './context.ts';
import { deleteAttachments } from './delegation.ts';
import { getPod, type PodObject } from './kube.ts';

/** Attachments derived from config (+ the pod when it can be read); `unknown` says what could not be known. */
async function rederive(ctx: CallContext): Promise<{ attachments: CachedAttachment[]; unknown?: string }> {
  const { conf, env, podRef } = ctx;
  const client = await ctx.connectKube();
  try {
    let pod: PodObject | undefined;
    let unknown: string | undefined;
    if (client && podRef) {
      try {
        pod = await getPod(client, podRef.namespace, podRef.name);
      } catch (e) {
        unknown = `pod ${podRef.namespace}/${podRef.name} could not be read (${(e as Error).message}); its secondary networks (k8s.v1.cni.cncf.io/networks) are unknown and were not deleted`;
      }
    }
    const plan = (p: PodObject | undefined, ref: PodRef | undefined) =>
      planAttachments({ conf, client, pod: p, podRef: ref, ifname: env.ifname, cniArgs: env.args, strictDevices: false });
    try {
      return { attachments: await plan(pod, podRef), ...(unknown ? { unknown } : {}) };
    } catch (e) {
      if (!pod) throw e;
      // The pod's annotations no longer resolve (e.g. a NAD was deleted): still remove the cluster network.
      const attachments = (await plan(undefined, podRef)).slice(0, 1);
      return { attachments, unknown: `pod networks could not be resolved (${(e as Error).message}); only the cluster network was deleted` };
    }
  } finally {
    client?.close();
  }
}

export async function cmdDel(ctx: CallContext): Promise<void> {
  const { conf, env, log } = ctx;
  const cached = readCache(conf.cniDir, env.containerId);
  let entry: CacheEntry;
  if (cached.kind === 'entry') {
    entry = cached.entry;
  } else {
    if (cached.kind === 'corrupt') log.error('cache unreadable; re-deriving attachments from the pod', { path: cached.path, reason: cached.reason });
    let derived: { attachments: CachedAttachment[]; unknown?: string };
    try {
      derived = await rederive(ctx);
    } catch (e) {
      const why = `cannot determine what to delete: ${(e as Error).message}`;
      log.error(why, { cache: cached.kind });
      // A cache existed (so something was attached): make the runtime retry rather than leak it.
      if (cached.kind === 'corrupt') throw new CniError(ErrorCode.TryAgainLater, `cache ${cached.path} is unreadable (${cached.reason}) and ${why}`);
      return;
    }
    if (derived.unknown) log.error('DEL without cache: not everything could be determined', { detail: derived.unknown });
    entry = { version: 1, containerId: env.containerId, netns: env.netns, ifname: env.ifname, cniVersion: conf.cniVersion, complete: true, attachments: derived.attachments };
  }
  log.verbose('deleting attachments', { from: cached.kind === 'entry' ? 'cache' : 'pod and config', attachments: entry.attachments.map((a) => `${a.network}@${a.ifname}`) });
  const all = await deleteAttachments(entry.attachments, delegationContext(ctx, env.netns));
  // An attachment whose own ADD failed usually fails DEL for the same reason (e.g. a missing macvlan
  // master); it was already rolled back once, so its failure is logged but does not block the pod.
  const failures = all.filter((f) => !f.attachment.addFailed);
  for (const f of all.filter((x) => x.attachment.addFailed)) {
    log.error('DEL of an attachment whose ADD had failed also failed; not retried', { network: f.attachment.network, ifname: f.attachment.ifname, error: f.error.message });
  }
  if (!failures.length) {
    removeCache(conf.cniDir, env.containerId);
    return;
  }
  if (conf.retryDeleteOnError) {
    entry.attachments = entry.attachments.filter((a) => failures.some((f) => f.attachment === a));
    writeCache(conf.cniDir, entry);
  } else removeCache(conf.cniDir, env.containerId);
  const summary = failures.map((f) => `${f.attachment.network} (${f.attachment.ifname}): ${f.error.message}`).join('; ');
  const first = failures[0] as (typeof failures)[number];
  throw new CniError(first.error.code, `DEL failed for ${failures.length} attachment(s): ${summary}`, conf.retryDeleteOnError ? 'kept in the cache for the next DEL' : '');
}
