// One World per scenario: its own Kubernetes namespace (plus any extra namespaces it asks for), the pods
// and networks it created, and the clean-up actions that must run even when it fails.
import { randomBytes } from 'node:crypto';
import { setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import type { CoreV1Api, CustomObjectsApi, CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Cluster, ExecResult } from '../clusters/provider.ts';
import {
  NAD_GROUP, NAD_PLURAL, NAD_VERSION, POD_GONE_TIMEOUT_MS, POD_START_TIMEOUT_MS, createPodObject, isNotFound, podEvents, podFailureText, sandboxFailed, waitForPodRunning, waitForPodsGone,
} from '../clusters/pod-lifecycle.ts';
import { nad, pod, type CniConfig, type NadObject, type PodOptions } from '../fixtures/templates.ts';
import { parseIpJson, type IpLink, type IpRoute } from '../clusters/ip-state.ts';
import type { RunState } from './run-state.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export { NAD_GROUP, NAD_PLURAL, NAD_VERSION, POD_GONE_TIMEOUT_MS, POD_START_TIMEOUT_MS, isNotFound, kubeClients } from '../clusters/pod-lifecycle.ts';

/** Between two reads of a pod while waiting for it to fail. */
const POLL_MS = 200;

/** Set once per run by the BeforeAll hook; every World shares it. */
export interface SuiteContext {
  state: RunState;
  cluster: Cluster;
  core: CoreV1Api;
  custom: CustomObjectsApi;
}

let suite: SuiteContext | undefined;
export function setSuiteContext(ctx: SuiteContext | undefined): void {
  suite = ctx;
}
export function suiteContext(): SuiteContext {
  if (!suite) throw new Error('no cluster: the BeforeAll hook did not attach to one (see the error above)');
  return suite;
}

export interface PodRecord {
  namespace: string;
  /** Node it was placed on (by the scenario, or as the API server reports it once scheduled). */
  node?: string;
  uid?: string;
}

export function describeExec(argv: string[], res: ExecResult): string {
  return `${argv.join(' ')} exited ${res.code}: ${(res.stderr || res.stdout).trim().slice(0, 500)}`;
}

export class E2EWorld extends World {
  readonly suffix = randomBytes(3).toString('hex');
  /** The scenario's own namespace. */
  readonly namespace = `e2e-${this.suffix}`;
  /** Logical namespace name used in a scenario → real (per-scenario unique) name. */
  readonly extraNamespaces = new Map<string, string>();
  readonly pods = new Map<string, PodRecord>();
  /** NADs created, by the reference a scenario uses ("data-net", "shared/corp") → real namespace and name. */
  readonly nads = new Map<string, { namespace: string; name: string }>();
  /** Undo actions (Multus config edits, node files); run in reverse order in After. */
  readonly cleanups: { what: string; run: () => Promise<void> }[] = [];
  /** Link names per node before the scenario touched it, to tell what a pod left behind. */
  readonly nodeLinksBefore = new Map<string, Set<string>>();
  startedAt = new Date().toISOString();

  constructor(options: IWorldOptions) {
    super(options);
  }

  get cluster(): Cluster {
    return suiteContext().cluster;
  }
  get core(): CoreV1Api {
    return suiteContext().core;
  }
  get custom(): CustomObjectsApi {
    return suiteContext().custom;
  }

  /** Real namespace for a scenario's logical one: undefined → the scenario's own namespace. */
  namespaceFor(logical?: string): string {
    if (logical === undefined || logical === '') return this.namespace;
    const known = this.extraNamespaces.get(logical);
    if (known) return known;
    // Global namespaces (default, kube-system) are real names; anything else gets a per-scenario name.
    if (['default', 'kube-system', 'kube-public'].includes(logical)) return logical;
    throw new Error(`namespace "${logical}" was not created by this scenario (use: Given a namespace "${logical}")`);
  }

  async createNamespace(logical?: string): Promise<string> {
    const real = logical === undefined ? this.namespace : `${logical.slice(0, 40)}-${this.suffix}`;
    await this.core.createNamespace({ body: { metadata: { name: real, labels: { 'app.kubernetes.io/managed-by': 'multus-e2e' } } } });
    if (logical !== undefined) this.extraNamespaces.set(logical, real);
    return real;
  }

  /** node-N in a scenario → the provider's N-th node name. */
  async nodeNamed(label: string): Promise<string> {
    const m = /^node-(\d+)$/.exec(label);
    const names = await this.cluster.nodeNames();
    const node = m ? names[Number(m[1]) - 1] : names.includes(label) ? label : undefined;
    if (!node) throw new Error(`this cluster has no ${label} (nodes: ${names.join(', ')})`);
    return node;
  }

  /** Creates a NAD; `reference` is how the scenario names it (default: its name). */
  async createNad(namespace: string, name: string, config: CniConfig | undefined, opts: { reference?: string; annotations?: Record<string, string> } = {}): Promise<NadObject> {
    const body = nad(namespace, name, config, opts.annotations);
    await this.custom.createNamespacedCustomObject({ group: NAD_GROUP, version: NAD_VERSION, namespace, plural: NAD_PLURAL, body });
    this.nads.set(opts.reference ?? name, { namespace, name });
    return body;
  }

  /** "namespace/name" of a NAD as network-status names it, from the scenario's reference. */
  nadRef(reference: string): string {
    const known = this.nads.get(reference);
    if (known) return `${known.namespace}/${known.name}`;
    const slash = reference.indexOf('/');
    if (slash >= 0) return `${this.namespaceFor(reference.slice(0, slash))}/${reference.slice(slash + 1)}`;
    return `${this.namespace}/${reference}`;
  }

  /** Rewrites logical "ns/name" references in a text into real ones (for expected error messages). */
  realText(text: string): string {
    let out = text;
    for (const [logical, real] of this.extraNamespaces) out = out.split(`${logical}/`).join(`${real}/`);
    return out;
  }

  async snapshotNodeLinks(node: string): Promise<void> {
    if (this.nodeLinksBefore.has(node)) return;
    const links = await this.nodeLinks(node);
    this.nodeLinksBefore.set(node, new Set(links.map((l) => l.ifname)));
  }

  async createPod(opts: Omit<PodOptions, 'namespace'> & { namespace?: string }): Promise<void> {
    const namespace = opts.namespace ?? this.namespace;
    if (opts.node) await this.snapshotNodeLinks(opts.node);
    else for (const node of await this.cluster.nodeNames()) await this.snapshotNodeLinks(node);
    await createPodObject(this.core, namespace, pod({ ...opts, namespace }));
    this.pods.set(opts.name, { namespace, ...(opts.node ? { node: opts.node } : {}) });
  }

  podRecord(name: string): PodRecord {
    const record = this.pods.get(name);
    if (!record) throw new Error(`pod "${name}" was not created in this scenario`);
    return record;
  }

  async readPod(name: string): Promise<V1Pod> {
    const { namespace } = this.podRecord(name);
    return this.core.readNamespacedPod({ name, namespace });
  }

  async podEvents(name: string): Promise<CoreV1Event[]> {
    return podEvents(this.core, this.podRecord(name).namespace, name);
  }

  /** What the cluster says about why the pod is not running (clusters/pod-lifecycle.ts). */
  async podFailureText(name: string, opts: { withConditions?: boolean } = {}): Promise<string> {
    return podFailureText(this.core, this.podRecord(name).namespace, name, opts);
  }

  /** True once the runtime has reported a failed sandbox for the pod (a FailedCreatePodSandBox event). */
  async sandboxFailed(name: string): Promise<boolean> {
    return sandboxFailed(this.core, this.podRecord(name).namespace, name);
  }

  async waitForPodRunning(name: string, timeoutMs = POD_START_TIMEOUT_MS): Promise<V1Pod> {
    return waitForPodRunning(this.core, this.podRecord(name).namespace, name, timeoutMs, (p) => this.rememberPlacement(name, p));
  }

  /**
   * Waits until the cluster reports why the pod cannot start (a Warning event, the status message or a
   * container waiting message); the pod's conditions count as the reason only at the deadline.
   */
  async waitForPodFailure(name: string, timeoutMs = POD_START_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = await this.readPod(name);
      this.rememberPlacement(name, p);
      if (p.status?.phase === 'Running') throw new Error(`pod "${name}" is Running, but it should not have started`);
      if ((await this.podFailureText(name, { withConditions: false })) !== '') return this.podFailureText(name);
      if (Date.now() > deadline) {
        const why = await this.podFailureText(name);
        if (why !== '') return why;
        throw new Error(`pod "${name}" is ${p.status?.phase ?? 'without status'} after ${Math.round(timeoutMs / 1000)} s and no event or status message says why`);
      }
      await sleep(POLL_MS);
    }
  }

  private rememberPlacement(name: string, p: V1Pod): void {
    const record = this.podRecord(name);
    if (p.spec?.nodeName) record.node = p.spec.nodeName;
    if (p.metadata?.uid) record.uid = p.metadata.uid;
  }

  async deletePodAndWait(name: string, timeoutMs = POD_GONE_TIMEOUT_MS): Promise<void> {
    const { namespace } = this.podRecord(name);
    // Only DELs from here on count: earlier ones may have failed for reasons the scenario has since cleared.
    const since = new Date().toISOString();
    try {
      const p = await this.core.readNamespacedPod({ name, namespace });
      this.rememberPlacement(name, p);
      await this.core.deleteNamespacedPod({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.waitForPodsGone(namespace, [name], since, timeoutMs);
  }

  /** Waits until the named pods, deleted at `since`, are gone (clusters/pod-lifecycle.ts). */
  async waitForPodsGone(namespace: string, names: string[] | undefined, since: string, timeoutMs = POD_GONE_TIMEOUT_MS): Promise<void> {
    await waitForPodsGone(this.core, this.cluster, namespace, names, since, timeoutMs);
  }

  async podExecOk(name: string, argv: string[]): Promise<string> {
    const { namespace } = this.podRecord(name);
    const res = await this.cluster.podExec(namespace, name, argv);
    if (res.code !== 0) throw new Error(`in pod "${name}": ${describeExec(argv, res)}`);
    return res.stdout;
  }

  async nodeExecOk(node: string, argv: string[]): Promise<string> {
    const res = await this.cluster.nodeExec(node, argv);
    if (res.code !== 0) throw new Error(`on ${node}: ${describeExec(argv, res)}`);
    return res.stdout;
  }

  async podLinks(name: string): Promise<IpLink[]> {
    return parseIpJson<IpLink>(await this.podExecOk(name, ['ip', '-j', '-d', 'addr']), `ip addr of pod ${name}`);
  }

  async podLink(name: string, ifname: string): Promise<IpLink> {
    const links = await this.podLinks(name);
    const link = links.find((l) => l.ifname === ifname);
    if (!link) throw new Error(`pod "${name}" has no interface ${ifname}; it has ${links.map((l) => l.ifname).join(', ')}`);
    return link;
  }

  async podRoutes(name: string): Promise<IpRoute[]> {
    return parseIpJson<IpRoute>(await this.podExecOk(name, ['ip', '-j', '-4', 'route']), `ip route of pod ${name}`);
  }

  async nodeLinks(node: string): Promise<IpLink[]> {
    return parseIpJson<IpLink>(await this.nodeExecOk(node, ['ip', '-j', '-d', 'link']), `ip link of ${node}`);
  }

  /** Container ids the runtime used for a pod (every sandbox attempt), from the CNI calls it made. */
  async containerIdsOf(name: string): Promise<string[]> {
    const { namespace } = this.podRecord(name);
    const calls = await this.cluster.cniCalls(this.startedAt);
    return [...new Set(calls.filter((c) => c.namespace === namespace && c.pod === name).map((c) => c.containerId))];
  }
}

setWorldConstructor(E2EWorld);
