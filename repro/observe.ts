// Applying a repro's objects to a cluster, waiting for each pod to run or fail with a stated reason, and
// reading back what happened to it: the kernel's view from inside the pod (ip -j), its network-status
// annotation, and the CNI calls the runtime made for it. Works through the Cluster interface and the
// Kubernetes API only, so it is the same on every provider.
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type CoreV1Event, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import type { CniCallRecord, Cluster } from '../clusters/provider.ts';
import { NETWORK_STATUS_ANNOTATION, NETWORKS_ANNOTATION } from '../fixtures/templates.ts';
import { impliedNamespaces, manifestsOf, type Manifest, type ReproInput } from './manifests.ts';

const POD_TIMEOUT_MS = 90_000;
const POLL_MS = 500;
/** A runtime may retry a failed sandbox: a failure counts as final after this long. */
const FAILURE_GRACE_MS = 3_000;

export interface KubeClients {
  objects: KubernetesObjectApi;
  core: CoreV1Api;
}

export function kubeClients(kubeconfigPath: string): KubeClients {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return { objects: KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(CoreV1Api) };
}

/** One address of an interface, as `ip -j addr` shows it. */
export interface PodAddress { family: string; local: string; prefixlen: number }
export interface PodInterface { ifname: string; mac?: string; mtu?: number; addresses: PodAddress[] }
export interface PodRoute { dst: string; gateway?: string; dev?: string; table?: string }

export interface PodObservation {
  namespace: string;
  name: string;
  node?: string;
  phase: string;
  running: boolean;
  /** Why it is not running, as the cluster says (events, status, conditions). */
  reason?: string;
  /** The k8s.v1.cni.cncf.io/networks annotation as applied. */
  networksAnnotation?: string;
  /** network-status as the pod carries it (parsed when JSON). */
  networkStatus?: unknown;
  interfaces: PodInterface[];
  routes: PodRoute[];
  /** Raw ip -j output (addr, link, route, rule) of the pod's netns; absent when it has none. */
  ip: Record<string, unknown>;
  cniCalls: CniCallRecord[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (err as Error).message;
}

/** Creates the objects in dependency order (namespaces, config, NADs, pods); a refused object is named with the API's message. */
export async function applyRepro(clients: KubeClients, input: ReproInput, progress: (l: string) => void): Promise<void> {
  const existing = (await clients.core.listNamespace()).items.map((n) => n.metadata?.name ?? '');
  const implied: Manifest[] = impliedNamespaces(input, existing).map((name) => ({
    kind: 'Namespace', source: `(namespace used by the manifests)`, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  }));
  for (const m of implied) progress(`creating namespace ${m.object.metadata.name}, which the manifests use but do not define`);
  const order = ['Namespace', 'ConfigMap', 'Secret', 'NetworkAttachmentDefinition', 'Pod'] as const;
  const nodes = new Set((await clients.core.listNode()).items.map((n) => n.metadata?.name));
  for (const kind of order) {
    for (const m of [...implied.filter((x) => x.kind === kind), ...manifestsOf(input, kind)]) {
      const object = structuredClone(m.object) as KubernetesObject & { spec?: { nodeName?: string } };
      // Objects as users paste them (kubectl get -o yaml) carry server-set fields a create refuses.
      if (object.metadata) for (const f of ['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink'] as const) delete object.metadata[f];
      delete (object as { status?: unknown }).status;
      if (kind === 'Pod' && object.spec?.nodeName && !nodes.has(object.spec.nodeName)) {
        progress(`${m.source}: pod ${object.metadata?.name} names node "${object.spec.nodeName}", which this cluster does not have; left to the scheduler`);
        delete object.spec.nodeName;
      }
      try {
        await clients.objects.create(object);
      } catch (err) {
        throw new Error(`${m.source}: the API server refused ${kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}: ${apiMessage(err)}`);
      }
    }
  }
}

async function podEvents(clients: KubeClients, namespace: string, name: string): Promise<CoreV1Event[]> {
  return (await clients.core.listNamespacedEvent({ namespace })).items.filter((e) => e.involvedObject?.name === name);
}

/** What the cluster says about why a pod is not running; only messages that name a cause unless withConditions. */
export function failureText(pod: V1Pod, events: readonly CoreV1Event[], withConditions: boolean): string {
  const seen = new Map<string, string[]>();
  const add = (label: string, message: string | undefined) => { if (message) seen.set(message, [...(seen.get(message) ?? []), label]); };
  for (const e of events) if (e.type === 'Warning') add(`event ${e.reason}`, e.message);
  add('status', pod.status?.message);
  for (const c of pod.status?.containerStatuses ?? []) add(`container ${c.name}`, c.state?.waiting?.message ?? c.state?.terminated?.message);
  for (const c of pod.status?.conditions ?? []) if (withConditions || c.reason === 'Unschedulable') add(`condition ${c.type}${c.reason ? ` (${c.reason})` : ''}`, c.message);
  return [...seen].map(([message, labels]) => `${labels.join(', ')}: ${message}`).join('\n');
}

/** Waits until the pod runs or the cluster states why it does not (or the timeout, which is then the reason). */
export async function waitForPod(clients: KubeClients, namespace: string, name: string, timeoutMs = POD_TIMEOUT_MS): Promise<{ pod: V1Pod; reason?: string }> {
  const deadline = Date.now() + timeoutMs;
  let failingSince: number | undefined;
  for (;;) {
    const pod = await clients.core.readNamespacedPod({ name, namespace });
    if (pod.status?.phase === 'Running') return { pod };
    const events = await podEvents(clients, namespace, name);
    const why = failureText(pod, events, false);
    if (why !== '' || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') failingSince ??= Date.now();
    if (failingSince !== undefined && Date.now() - failingSince >= FAILURE_GRACE_MS) {
      return { pod, reason: failureText(pod, events, true) || `phase ${pod.status?.phase}` };
    }
    if (Date.now() > deadline) {
      const all = failureText(pod, events, true);
      return { pod, reason: `not Running${timeoutMs > 0 ? ` after ${Math.round(timeoutMs / 1000)} s` : ''}${all ? `:\n${all}` : ' and no event or status says why'}` };
    }
    await sleep(POLL_MS);
  }
}

interface IpAddrJson { ifname: string; address?: string; mtu?: number; addr_info?: { family: string; local: string; prefixlen: number }[] }
interface IpRouteJson { dst: string; gateway?: string; dev?: string; table?: string }

async function podIp(cluster: Cluster, namespace: string, name: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [what, argv] of [['addr', ['ip', '-j', 'addr']], ['link', ['ip', '-j', '-d', 'link']], ['route', ['ip', '-j', 'route', 'show', 'table', 'all']],
    ['route6', ['ip', '-j', '-6', 'route', 'show', 'table', 'all']], ['rule', ['ip', '-j', 'rule']]] as const) {
    const r = await cluster.podExec(namespace, name, [...argv]);
    try {
      out[what] = r.code === 0 ? JSON.parse(r.stdout || '[]') : { error: `${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}` };
    } catch {
      out[what] = { error: `${argv.join(' ')} printed no JSON: ${r.stdout.slice(0, 200)}` };
    }
  }
  return out;
}

export function interfacesFrom(addr: unknown): PodInterface[] {
  if (!Array.isArray(addr)) return [];
  return (addr as IpAddrJson[]).map((l) => ({
    ifname: l.ifname, ...(l.address ? { mac: l.address } : {}), ...(l.mtu ? { mtu: l.mtu } : {}),
    addresses: (l.addr_info ?? []).map((a) => ({ family: a.family, local: a.local, prefixlen: a.prefixlen })),
  }));
}

export function routesFrom(...lists: unknown[]): PodRoute[] {
  return lists.flatMap((l) => (Array.isArray(l) ? (l as IpRouteJson[]) : []))
    // The kernel's local/broadcast routes say nothing a person looking for the cause wants.
    .filter((r) => r.table !== 'local' && !(r.dst?.startsWith('fe80::') || r.dst?.startsWith('ff00::') || r.dst === 'multicast'))
    .map((r) => ({ dst: r.dst, ...(r.gateway ? { gateway: r.gateway } : {}), ...(r.dev ? { dev: r.dev } : {}), ...(r.table && r.table !== 'main' ? { table: r.table } : {}) }));
}

function parseStatus(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Reads back one pod: kernel state from its netns (when it has one), network-status and its CNI calls. */
export async function observePod(cluster: Cluster, clients: KubeClients, namespace: string, name: string, waited: { pod: V1Pod; reason?: string }, since: string): Promise<PodObservation> {
  const pod = await clients.core.readNamespacedPod({ name, namespace }).catch(() => waited.pod);
  const annotations = pod.metadata?.annotations ?? {};
  const running = pod.status?.phase === 'Running';
  const ip: Record<string, unknown> = running ? await podIp(cluster, namespace, name).catch((err: Error) => ({ error: err.message })) : {};
  const calls = (await cluster.cniCalls(since)).filter((c) => c.namespace === namespace && c.pod === name);
  return {
    namespace, name, ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}), phase: pod.status?.phase ?? 'Unknown', running,
    ...(!running && waited.reason ? { reason: waited.reason } : {}),
    ...(annotations[NETWORKS_ANNOTATION] !== undefined ? { networksAnnotation: annotations[NETWORKS_ANNOTATION] } : {}),
    ...(annotations[NETWORK_STATUS_ANNOTATION] !== undefined ? { networkStatus: parseStatus(annotations[NETWORK_STATUS_ANNOTATION]) } : {}),
    interfaces: interfacesFrom(ip.addr), routes: routesFrom(ip.route, ip.route6), ip, cniCalls: calls,
  };
}

/** Waits for every pod of the repro (in parallel: their timeouts overlap) and reads each back. */
export async function observeRepro(cluster: Cluster, clients: KubeClients, input: ReproInput, since: string): Promise<PodObservation[]> {
  const pods = manifestsOf(input, 'Pod').map((m) => ({ namespace: m.object.metadata.namespace ?? 'default', name: m.object.metadata.name }));
  const waited = await Promise.all(pods.map((p) => waitForPod(clients, p.namespace, p.name)));
  const out: PodObservation[] = [];
  for (const [i, p] of pods.entries()) out.push(await observePod(cluster, clients, p.namespace, p.name, waited[i]!, since));
  return out;
}

const addressText = (i: PodInterface) => i.addresses.filter((a) => !(a.family === 'inet6' && a.local.startsWith('fe80:'))).map((a) => `${a.local}/${a.prefixlen}`).join(', ') || '(no address)';

interface StatusEntry { name?: string; interface?: string; ips?: string[]; default?: boolean; mac?: string }

/** The per-pod text a person reads: interfaces, routes, network-status, CNI calls. */
export function formatObservation(o: PodObservation): string {
  const lines = [`pod ${o.namespace}/${o.name}${o.node ? ` on ${o.node}` : ''}: ${o.running ? 'Running' : `NOT running (${o.phase})`}`];
  if (o.networksAnnotation !== undefined) lines.push(`  networks annotation: ${o.networksAnnotation}`);
  if (o.reason) lines.push(`  reason: ${o.reason.split('\n').join('\n          ')}`);
  if (o.running) {
    lines.push('  interfaces (ip -j addr in the pod\'s network namespace):');
    for (const i of o.interfaces) lines.push(`    ${i.ifname.padEnd(10)} ${addressText(i)}${i.mac && i.ifname !== 'lo' ? `  mac ${i.mac}` : ''}${i.mtu ? `  mtu ${i.mtu}` : ''}`);
    lines.push(`  routes: ${o.routes.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.table ? ` table ${r.table}` : ''}`).join('; ') || '(none)'}`);
  }
  if (Array.isArray(o.networkStatus)) {
    lines.push('  network-status:');
    for (const s of o.networkStatus as StatusEntry[]) lines.push(`    ${(s.interface ?? '(no interface)').padEnd(10)} ${s.name ?? '?'}${s.default ? ' (default)' : ''}  ${(s.ips ?? []).join(', ') || '(no ips)'}`);
  } else {
    lines.push(`  network-status: ${o.networkStatus === undefined ? '(not set)' : JSON.stringify(o.networkStatus)}`);
  }
  lines.push(`  CNI calls: ${o.cniCalls.length === 0 ? '(none)' : ''}`);
  for (const c of o.cniCalls) {
    const delegates = c.delegates.length ? `  delegates: ${c.delegates.map((d) => `${d.network} (${d.type}) ${Math.round(d.ms)} ms`).join(', ')}` : '';
    lines.push(`    ${c.op.padEnd(4)} ${String(Math.round(c.ms)).padStart(5)} ms  exit ${c.exitCode}${c.errorCode !== undefined ? ` (CNI error ${c.errorCode})` : ''}  on ${c.node}${delegates}`);
  }
  return lines.join('\n');
}
