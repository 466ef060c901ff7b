// The scheduler's decision, as a pure function: spec.nodeSelector, extended resources (e.g.
// netdevsim.io/vf) against Node capacity, then spread (fewest pods, lowest index on a tie).
// Messages follow kube-scheduler's "0/2 nodes are available: 2 Insufficient netdevsim.io/vf.".
import type { V1Pod } from '@kubernetes/client-node';

export interface SchedulableNode {
  name: string;
  labels: Record<string, string>;
  /** Extended resource name → capacity (device count). */
  extended: Record<string, number>;
}

export type ScheduleDecision = { node: string } | { unschedulable: string };

/** Names with a domain that is not kubernetes.io, as Kubernetes defines extended resources. */
export function isExtendedResource(name: string): boolean {
  const slash = name.indexOf('/');
  if (slash <= 0) return false;
  const domain = name.slice(0, slash);
  return domain !== 'kubernetes.io' && !domain.endsWith('.kubernetes.io') && !name.startsWith('requests.');
}

/** Extended resources the pod asks for (requests, or limits when requests are absent). */
export function podExtendedRequests(pod: V1Pod): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of pod.spec?.containers ?? []) {
    const amounts = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    for (const [name, qty] of Object.entries(amounts)) {
      if (!isExtendedResource(name)) continue;
      const n = Number(qty);
      if (!Number.isInteger(n) || n < 0) throw new Error(`container ${c.name}: extended resource ${name} must be a whole number, got "${qty}"`);
      total[name] = (total[name] ?? 0) + n;
    }
  }
  return total;
}

function isActive(pod: V1Pod): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

export function choosePodNode(pod: V1Pod, nodes: SchedulableNode[], boundPods: V1Pod[]): ScheduleDecision {
  const wants = podExtendedRequests(pod);
  const selector = pod.spec?.nodeSelector ?? {};
  const reasons = new Map<string, number>();
  const fits: { node: SchedulableNode; load: number }[] = [];
  for (const node of nodes) {
    const onNode = boundPods.filter((p) => p.spec?.nodeName === node.name && isActive(p));
    const reason = misfit(node, selector, wants, onNode);
    if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    else fits.push({ node, load: onNode.length });
  }
  if (fits.length > 0) {
    fits.sort((a, b) => a.load - b.load);
    return { node: fits[0]!.node.name };
  }
  const detail = [...reasons.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, count]) => `${count} ${reason}`)
    .join(', ');
  return { unschedulable: `0/${nodes.length} nodes are available${detail ? `: ${detail}` : ''}.` };
}

function misfit(node: SchedulableNode, selector: Record<string, string>, wants: Record<string, number>, onNode: V1Pod[]): string | undefined {
  for (const [k, v] of Object.entries(selector)) {
    if (node.labels[k] !== v) return "node(s) didn't match Pod's node affinity/selector";
  }
  for (const [res, n] of Object.entries(wants)) {
    if (n === 0) continue;
    const used = onNode.reduce((sum, p) => sum + (podExtendedRequests(p)[res] ?? 0), 0);
    if (used + n > (node.extended[res] ?? 0)) return `Insufficient ${res}`;
  }
  return undefined;
}
