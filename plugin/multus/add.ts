// ADD: plan every attachment (validating all of it first), cache the plan, attach in order, roll back
// in reverse when one fails, apply default-route, publish network-status.
import { CniError, ErrorCode } from '../cni/errors.ts';
import { convertResult, emptyResult } from '../cni/result.ts';
import type { JsonObject } from '../cni/netconf.ts';
import { planAttachments } from './attachments.ts';
import { removeCache, writeCache, type CacheEntry } from './cache.ts';
import { delegationContext, waitForReadiness, type CallContext } from './context.ts';
import { applyDefaultRoute } from './default-route.ts';
import { addAttachment, attachmentNetwork, deleteAttachments } from './delegation.ts';
import { getPod, type PodObject } from './kube.ts';
import { buildNetworkStatus, writeNetworkStatus } from './network-status.ts';

const READINESS_TIMEOUT_MS = 10_000;

export async function cmdAdd(ctx: CallContext): Promise<JsonObject> {
  const { conf, env, podRef, log, phases } = ctx;
  await waitForReadiness(conf, READINESS_TIMEOUT_MS);
  const client = await phases.time('apiClient', () => ctx.connectKube());
  try {
    let pod: PodObject | undefined;
    if (client && podRef) {
      pod = await phases.time('podRead', () => getPod(client, podRef.namespace, podRef.name));
      // A cached copy may still be the pod's predecessor of the same name: ask the API server once.
      if (podRef.uid && pod.metadata.uid && pod.metadata.uid !== podRef.uid) pod = await getPod(client, podRef.namespace, podRef.name, true);
      if (podRef.uid && pod.metadata.uid && pod.metadata.uid !== podRef.uid) {
        throw new CniError(ErrorCode.PodNotFound, `pod ${podRef.namespace}/${podRef.name} has UID ${pod.metadata.uid}, expected ${podRef.uid} (the pod was recreated)`);
      }
    }
    const attachments = await phases.time('plan', () => planAttachments({ conf, client, pod, podRef, ifname: env.ifname, cniArgs: env.args, strictDevices: true }));
    log.verbose('attachments planned', { attachments: attachments.map((a) => `${a.network}@${a.ifname}`) });
    const entry: CacheEntry = {
      version: 1,
      containerId: env.containerId,
      netns: env.netns,
      ifname: env.ifname,
      cniVersion: conf.cniVersion,
      ...(podRef ? { pod: podRef } : {}),
      complete: false,
      attachments: [],
    };
    // Written before the first delegate ADD so a crash mid-ADD still leaves DEL something to undo.
    entry.attachments = attachments;
    phases.timeSync('cacheWrites', () => writeCache(conf.cniDir, entry));
    const dctx = delegationContext(ctx);
    let done = 0;
    try {
      for (const a of attachments) {
        done++;
        try {
          a.result = await phases.time('delegates', () => addAttachment(a, dctx));
        } catch (e) {
          a.addFailed = true;
          throw e;
        }
        phases.timeSync('cacheWrites', () => writeCache(conf.cniDir, entry));
      }
      await applyDefaultRoute(env.netns, attachments);
      if (client && podRef) await phases.time('statusWrite', () => writeNetworkStatus(client, podRef.namespace, podRef.name, buildNetworkStatus(attachments, env.netns), pod));
    } catch (e) {
      // Roll back everything attempted (the failing one included: it may have half-configured).
      const failures = await deleteAttachments(attachments.slice(0, done), dctx);
      if (failures.length) {
        log.error('rollback incomplete', { failed: failures.map((f) => ({ network: f.attachment.network, ifname: f.attachment.ifname, error: f.error.message })) });
        entry.attachments = failures.map((f) => f.attachment);
        phases.timeSync('cacheWrites', () => writeCache(conf.cniDir, entry));
      } else removeCache(conf.cniDir, env.containerId);
      throw e;
    }
    entry.complete = true;
    phases.timeSync('cacheWrites', () => writeCache(conf.cniDir, entry));
    const first = attachments[0];
    if (!first || first.result === undefined || first.result === null) return emptyResult(conf.cniVersion);
    return convertResult(first.result, attachmentNetwork(first).cniVersion, conf.cniVersion);
  } finally {
    client?.close();
  }
}
