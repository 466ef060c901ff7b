// Two builds, one report: per pod, what differs between the observations of run A and run B
// (status, interfaces, addresses, routes, CNI errors). MACs and times are left out: they differ
// between any two runs of the same build.
import type { PodObservation } from './observe.ts';

export interface PodDiff {
  pod: string;
  differences: string[];
}

const key = (o: PodObservation) => `${o.namespace}/${o.name}`;

function addressesOf(o: PodObservation): Map<string, string> {
  return new Map(o.interfaces.map((i) => [i.ifname, i.addresses.filter((a) => !a.local.startsWith('fe80:')).map((a) => `${a.local}/${a.prefixlen}`).sort().join(', ') || '(none)']));
}

const routeText = (r: PodObservation['routes'][number]) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.table ? ` table ${r.table}` : ''}`;

/** "interface, network, ips" per network-status entry, so a changed name or order shows. */
function statusLines(o: PodObservation): string[] {
  if (!Array.isArray(o.networkStatus)) return [o.networkStatus === undefined ? '(not set)' : JSON.stringify(o.networkStatus)];
  return (o.networkStatus as { interface?: string; name?: string; ips?: string[]; default?: boolean }[])
    .map((s) => `${s.interface ?? '-'} ${s.name ?? '?'}${s.default ? ' (default)' : ''} ${(s.ips ?? []).join(',')}`);
}

function cniErrors(o: PodObservation): string[] {
  return o.cniCalls.filter((c) => c.exitCode !== 0).map((c) => `${c.op} exit ${c.exitCode}${c.errorCode !== undefined ? ` (CNI error ${c.errorCode})` : ''}`);
}

function setDiff(what: string, a: readonly string[], b: readonly string[], out: string[]): void {
  const onlyA = a.filter((x) => !b.includes(x));
  const onlyB = b.filter((x) => !a.includes(x));
  if (onlyA.length === 0 && onlyB.length === 0) return;
  out.push(`${what}: ${onlyA.length ? `only A: ${onlyA.join('; ')}` : ''}${onlyA.length && onlyB.length ? ' | ' : ''}${onlyB.length ? `only B: ${onlyB.join('; ')}` : ''}`);
}

export function diffObservations(a: readonly PodObservation[], b: readonly PodObservation[]): PodDiff[] {
  const pods = [...new Set([...a.map(key), ...b.map(key)])];
  return pods.map((pod) => {
    const oa = a.find((o) => key(o) === pod);
    const ob = b.find((o) => key(o) === pod);
    const differences: string[] = [];
    if (!oa || !ob) return { pod, differences: [`observed only in ${oa ? 'A' : 'B'}`] };
    if (oa.running !== ob.running || oa.phase !== ob.phase) {
      differences.push(`status: A ${oa.running ? 'Running' : `not running (${oa.phase})`}, B ${ob.running ? 'Running' : `not running (${ob.phase})`}`);
    }
    if (!oa.running || !ob.running) {
      const ra = (oa.reason ?? '').split('\n')[0] ?? '';
      const rb = (ob.reason ?? '').split('\n')[0] ?? '';
      if (ra !== rb) differences.push(`reason: A "${ra || '(none)'}", B "${rb || '(none)'}"`);
    }
    const aa = addressesOf(oa);
    const ab = addressesOf(ob);
    setDiff('interfaces', [...aa.keys()], [...ab.keys()], differences);
    for (const [ifname, addrs] of aa) {
      const other = ab.get(ifname);
      if (other !== undefined && other !== addrs) differences.push(`addresses of ${ifname}: A ${addrs}, B ${other}`);
    }
    setDiff('routes', oa.routes.map(routeText), ob.routes.map(routeText), differences);
    const sa = statusLines(oa);
    const sb = statusLines(ob);
    if (sa.join('\n') !== sb.join('\n')) differences.push(`network-status: A [${sa.join('; ')}], B [${sb.join('; ')}]`);
    setDiff('CNI errors', cniErrors(oa), cniErrors(ob), differences);
    return { pod, differences };
  });
}

export function formatDiff(diffs: readonly PodDiff[], labelA: string, labelB: string): string {
  const lines = [`differences per pod (A = ${labelA}, B = ${labelB}):`];
  for (const d of diffs) {
    lines.push(`  pod ${d.pod}: ${d.differences.length === 0 ? 'same' : ''}`);
    for (const x of d.differences) lines.push(`    ${x}`);
  }
  return lines.join('\n');
}
