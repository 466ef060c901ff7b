// CHECK that checks: every cached attachment's interface must exist in the pod's netns, and every
// delegate (>= 0.4.0) is CHECKed with its own ADD result as prevResult.
import { CniError, ErrorCode } from '../cni/errors.ts';
import { versionAtLeast } from '../cni/version.ts';
import { readCache } from './cache.ts';
import { delegationContext, type CallContext } from './context.ts';
import { checkAttachment } from './delegation.ts';
import { linkNames } from './netns.ts';

export async function cmdCheck(ctx: CallContext): Promise<void> {
  const { conf, env } = ctx;
  if (!versionAtLeast(conf.cniVersion, '0.4.0')) {
    throw new CniError(ErrorCode.IncompatibleVersion, `CHECK is not defined for cniVersion ${conf.cniVersion} (needs 0.4.0 or later)`);
  }
  const cached = readCache(conf.cniDir, env.containerId);
  if (cached.kind === 'missing') throw new CniError(ErrorCode.AttachmentBroken, `no attachments recorded for container ${env.containerId} (no cache in ${conf.cniDir})`);
  if (cached.kind === 'corrupt') throw new CniError(ErrorCode.AttachmentBroken, `cache ${cached.path} is unreadable: ${cached.reason}`);
  const entry = cached.entry;
  if (!entry.complete) throw new CniError(ErrorCode.AttachmentBroken, `ADD of container ${env.containerId} did not complete`);
  let links: string[];
  try {
    links = await linkNames(env.netns);
  } catch (e) {
    throw new CniError(ErrorCode.AttachmentBroken, `cannot inspect network namespace ${env.netns}: ${(e as Error).message}`);
  }
  const dctx = delegationContext(ctx);
  for (const a of entry.attachments) {
    if (!links.includes(a.ifname)) {
      throw new CniError(ErrorCode.AttachmentBroken, `interface ${a.ifname} of network ${a.network} is missing from ${env.netns}`);
    }
    await checkAttachment(a, dctx);
  }
}
