// "default-route" (multi-net spec §4.1.2.1.9): the selected attachment gets the default route(s) via
// the requested gateways; every other interface's default routes are removed, eth0's included.
import { CniError, ErrorCode } from '../cni/errors.ts';
import { ipFamily } from '../cni/ip.ts';
import { fromCurrent, toCurrent, cidrFamily } from '../cni/result.ts';
import { parseNetworkConfig } from '../cni/netconf.ts';
import type { CachedAttachment } from './cache.ts';
import { defaultRoutes, runInNetns } from './netns.ts';

const DEFAULT_DST = new Set(['0.0.0.0/0', '::/0']);

export async function applyDefaultRoute(netns: string, attachments: CachedAttachment[]): Promise<void> {
  const chosen = attachments.find((a) => a.defaultRoute !== undefined);
  if (!chosen?.defaultRoute) return;
  for (const fam of [4, 6] as const) {
    for (const r of await defaultRoutes(netns, fam)) {
      if (r.dev === chosen.ifname && chosen.defaultRoute.length === 0) continue;
      const argv = ['ip', `-${fam}`, 'route', 'del', 'default'];
      if (r.gateway) argv.push('via', r.gateway);
      if (r.dev) argv.push('dev', r.dev);
      if (r.metric !== undefined) argv.push('metric', String(r.metric));
      const res = await runInNetns(netns, argv);
      if (res.code !== 0) throw new CniError(ErrorCode.DelegateFailed, `default-route: cannot remove default route via ${r.dev ?? '?'}: ${res.stderr.trim()}`);
    }
  }
  for (const [i, gw] of chosen.defaultRoute.entries()) {
    const fam = ipFamily(gw) === 6 ? 6 : 4;
    // Several gateways of one family get increasing metrics, in the order given.
    const res = await runInNetns(netns, ['ip', `-${fam}`, 'route', 'add', 'default', 'via', gw, 'dev', chosen.ifname, 'metric', String(i)]);
    if (res.code !== 0) {
      throw new CniError(ErrorCode.DelegateFailed, `default-route: cannot add default route via ${gw} on ${chosen.ifname} (network ${chosen.network}): ${res.stderr.trim()}`);
    }
  }
  // Keep the recorded results truthful: only the chosen attachment reports default routes.
  for (const a of attachments) {
    if (a.result === undefined || a.result === null) continue;
    const version = parseNetworkConfig(a.netConf, a.network).cniVersion;
    const cur = toCurrent(a.result, version);
    cur.routes = cur.routes.filter((r) => !DEFAULT_DST.has(r.dst));
    if (a === chosen) for (const gw of chosen.defaultRoute) cur.routes.push({ dst: cidrFamily(gw) === 6 ? '::/0' : '0.0.0.0/0', gw });
    a.result = fromCurrent(cur, version);
  }
}
