// STATUS (CNI 1.1.0): ready when the readiness indicator exists and the cluster network says so.
import { CniError, ErrorCode } from '../cni/errors.ts';
import { statusNetwork } from '../cni/netconf.ts';
import { versionAtLeast } from '../cni/version.ts';
import { planAttachments } from './attachments.ts';
import { delegationContext, waitForReadiness, type CallContext } from './context.ts';
import { attachmentNetwork } from './delegation.ts';

export async function cmdStatus(ctx: CallContext): Promise<void> {
  const { conf, env } = ctx;
  if (!versionAtLeast(conf.cniVersion, '1.1.0')) {
    throw new CniError(ErrorCode.IncompatibleVersion, `STATUS is not defined for cniVersion ${conf.cniVersion} (needs 1.1.0)`);
  }
  await waitForReadiness(conf, 1000, ErrorCode.NotAvailable);
  const client = await ctx.connectKube();
  try {
    const [cluster] = await planAttachments({ conf, client, pod: undefined, podRef: undefined, ifname: env.ifname || 'eth0', cniArgs: '', strictDevices: false });
    if (!cluster) return;
    try {
      await statusNetwork(attachmentNetwork(cluster), delegationContext(ctx).path);
    } catch (e) {
      const err = e as CniError;
      throw new CniError(err.code >= 50 && err.code <= 51 ? err.code : ErrorCode.NotAvailable, `cluster network ${cluster.network} is not ready: ${err.message}`, err.details);
    }
  } finally {
    client?.close();
  }
}
