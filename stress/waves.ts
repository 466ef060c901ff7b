// Churn on a running cluster: waves of pods, each attached to the same K secondary networks, created and
// deleted P at a time through the Kubernetes API; after each wave, every node is checked for what the
// wave's pods left behind. Works on any Cluster (the CLI runs it on the local provider).
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { addressKeys, ipamAllocations, leftoversOnNode, readNodeLinks, type Leak } from '../clusters/leak-checks.ts';
import type { Cluster, CniCallRecord } from '../clusters/provider.ts';
import { bridgeConfig, commaNetworks, macvlanConfig, nad, NETWORKS_ANNOTATION, pod, type CniConfig } from '../fixtures/templates.ts';

export interface StressPlan {
  pods: number;
  networks: number;
  waves: number;
  parallel: number;
}

/** Most secondary networks a pod gets: each has its own /20 inside 198.18.16.0–198.18.159.255. */
export const MAX_NETWORKS = 8;
const POLL_MS = 400;
const POD_START_TIMEOUT_MS = 120_000;
const POD_GONE_TIMEOUT_MS = 120_000;
/** Failed DELs of one pod after which its deletion is judged failed (the runtime keeps retrying meanwhile). */
const FAILED_DELS_BEFORE_VERDICT = 3;
/** How long the poller's reads may keep failing (a loaded API server) before the wave gives up. */
const API_OUTAGE_MS = 60_000;
const NAD_API = { group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions' } as const;

/**
 * The K networks: odd ones macvlan on eth1, even ones bridge, each with host-local IPAM in its own /20 of
 * 198.18.0.0/15 (above the fabric's 198.18.0.0/24, below the local provider's pod ranges in 198.19.0.0/16).
 */
export function stressNetworks(count: number): { name: string; config: CniConfig }[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_NETWORKS) throw new Error(`networks must be 1 to ${MAX_NETWORKS}, got ${count}`);
  return Array.from({ length: count }, (_, i) => {
    const name = `stress-net${i + 1}`;
    const subnet = `198.18.${16 * (i + 1)}.0/20`;
    return { name, config: i % 2 === 0 ? macvlanConfig(name, 'eth1', subnet) : bridgeConfig(name, subnet) };
  });
}

export const podName = (wave: number, index: number): string => `w${wave}-p${index}`;

/** A pod that did not start, or whose deletion did not complete. */
export interface PodFailure {
  pod: string;
  phase: 'start' | 'delete';
  reason: string;
}

export interface WaveOutcome {
  wave: number;
  started: number;
  failures: PodFailure[];
  /** Leaks found after the wave that no earlier wave's check had found. */
  leaks: Leak[];
  /** Leaks an earlier wave found that are still there. */
  carriedLeaks: number;
  /** The CNI calls the runtime made for this wave's pods. */
  calls: CniCallRecord[];
  seconds: number;
}

export interface WaveProgress {
  wave: number;
  stage: 'starting' | 'deleting' | 'checking';
  done: number;
  failed: number;
  total: number;
}

/** Runs fn over items, at most `parallel` at a time, in order of items; takes no new item once stop() says so. */
async function pool<T>(items: readonly T[], parallel: number, fn: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

/** One poller for the whole wave (one pod list and one read of the CNI call log per tick), shared by every waiter. */
class WaveObserver {
  pods = new Map<string, V1Pod>();
  calls: CniCallRecord[] = [];
  private tick: Promise<void> | undefined;
  private failingSince: number | undefined;

  constructor(private readonly core: CoreV1Api, private readonly cluster: Cluster, private readonly namespace: string,
    private readonly since: string) {}

  /** Fresh state, shared by the waiters that ask at the same time; a failed read keeps the last state until it has failed for API_OUTAGE_MS. */
  refresh(): Promise<void> {
    this.tick ??= (async () => {
      try {
        const [list, calls] = await Promise.all([this.core.listNamespacedPod({ namespace: this.namespace }), this.cluster.cniCalls(this.since)]);
        this.pods = new Map(list.items.map((p) => [p.metadata?.name ?? '', p]));
        this.calls = calls.filter((c) => c.namespace === this.namespace);
        this.failingSince = undefined;
      } catch (err) {
        this.failingSince ??= Date.now();
        if (Date.now() - this.failingSince > API_OUTAGE_MS) {
          throw new Error(`could not read the pods of namespace ${this.namespace} or the CNI call log for ${API_OUTAGE_MS / 1000} s: ${(err as Error).message}`);
        }
      }
    })().finally(() => {
      this.tick = undefined;
    });
    return this.tick;
  }

  callsOf(pod: string, op: CniCallRecord['op'], since = ''): CniCallRecord[] {
    return this.calls.filter((c) => c.pod === pod && c.op === op && c.startedAt >= since);
  }

  /** Polls until decide() gives an answer or the deadline passes (then timedOut() is the answer). */
  async until<T>(decide: () => T | undefined, timeoutMs: number, timedOut: () => T): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.refresh();
      const answer = decide();
      if (answer !== undefined) return answer;
      if (Date.now() > deadline) return timedOut();
      await sleep(POLL_MS);
    }
  }
}

/** How long after a failed ADD the pod's status may take to say why. */
const REASON_GRACE_MS = 15_000;

/** The runtime's reason for a failed sandbox as the pod's status carries it, without the sandbox boilerplate. */
function sandboxFailure(p: V1Pod | undefined): string | undefined {
  const message = p?.status?.containerStatuses?.[0]?.state?.waiting?.message ?? p?.status?.message;
  if (!message?.includes('Failed to create pod sandbox')) return undefined;
  return message.replace(/^.*failed to setup network for sandbox "[0-9a-f]+": /, '').slice(0, 400);
}

const failedCallText = (c: CniCallRecord): string =>
  `exit ${c.exitCode}${c.errorCode !== undefined ? `, CNI error code ${c.errorCode}` : ''} on ${c.node}`;

export interface StressRunner {
  /**
   * Runs one wave: start its pods, delete them, check every node. Once stop() is true no further pod is
   * created; those already created are still deleted and checked.
   */
  wave(wave: number, onProgress: (p: WaveProgress) => void, stop?: () => boolean): Promise<WaveOutcome>;
}

/**
 * Creates the stress namespace and its networks and reads each node's links and addresses as they are
 * before any stress pod (what the leak checks compare with).
 */
export async function prepareStress(cluster: Cluster, plan: StressPlan, namespace = 'stress'): Promise<StressRunner> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const networks = stressNetworks(plan.networks);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  for (const n of networks) await custom.createNamespacedCustomObject({ ...NAD_API, namespace, body: nad(namespace, n.name, n.config) });
  const annotations = { [NETWORKS_ANNOTATION]: commaNetworks(networks.map((n) => ({ name: n.name }))) };
  const nodes = await cluster.nodeNames();
  const baseline = new Map<string, { links: Set<string>; addresses: Set<string> }>();
  for (const node of nodes) {
    const links = await readNodeLinks(cluster, node);
    baseline.set(node, { links: new Set(links.map((l) => l.ifname)), addresses: addressKeys(links) });
  }
  const seenLeaks = new Set<string>();

  async function checkNodes(calls: CniCallRecord[]): Promise<{ leaks: Leak[]; carried: number }> {
    const found: Leak[] = [];
    for (const node of nodes) {
      const own = calls.filter((c) => c.node === node);
      const before = baseline.get(node)!;
      const leaks = await leftoversOnNode(cluster, node, {
        linksBefore: before.links, addressesBefore: before.addresses, podsStillOnNode: false,
        containerIds: [...new Set(own.map((c) => c.containerId))],
        netnsPaths: [...new Set(own.map((c) => c.netns).filter((n): n is string => Boolean(n)))],
      });
      // Every pod is gone, so any address host-local still holds is leaked, whichever container it names.
      const named = new Set(leaks.map((l) => l.object));
      for (const file of await ipamAllocations(cluster, node)) {
        if (!named.has(file)) leaks.push({ kind: 'ipam', node, object: file, what: `${file} on ${node} is still allocated (host-local) with no pod left` });
      }
      found.push(...leaks);
    }
    const key = (l: Leak) => `${l.node} ${l.object}`;
    const fresh = found.filter((l) => !seenLeaks.has(key(l)));
    for (const l of fresh) seenLeaks.add(key(l));
    return { leaks: fresh, carried: found.length - fresh.length };
  }

  return {
    async wave(wave, onProgress, stop) {
      const t0 = Date.now();
      const since = new Date(t0).toISOString();
      const observer = new WaveObserver(core, cluster, namespace, since);
      const names = Array.from({ length: plan.pods }, (_, i) => podName(wave, i + 1));
      const created: string[] = [];
      const failures: PodFailure[] = [];
      let done = 0;
      let started = 0;
      const report = (stage: WaveProgress['stage']) => onProgress({ wave, stage, done, failed: failures.length, total: stage === 'starting' ? plan.pods : created.length });

      await pool(names, plan.parallel, async (name) => {
        const refused = await core.createNamespacedPod({ namespace, body: pod({ namespace, name, annotations }) }).then(() => undefined, (err: Error) => err.message);
        if (refused !== undefined) {
          failures.push({ pod: name, phase: 'start', reason: `the API server refused it: ${refused}` });
          done++;
          return report('starting');
        }
        created.push(name);
        // The local node agent does not retry a failed sandbox, so a failed ADD is final; its reason (the
        // plugin's error) reaches the pod's status after the clean-up DEL, which may take a while.
        let failedSeenAt: number | undefined;
        const failure = await observer.until<string | null>(() => {
          const p = observer.pods.get(name);
          if (p?.status?.phase === 'Running') return null;
          const failed = observer.callsOf(name, 'ADD').find((c) => c.exitCode !== 0);
          if (!failed) return undefined;
          failedSeenAt ??= Date.now();
          const why = sandboxFailure(p);
          if (why === undefined && Date.now() - failedSeenAt < REASON_GRACE_MS) return undefined;
          return `ADD failed (${failedCallText(failed)})${why ? `: ${why}` : ''}`;
        }, POD_START_TIMEOUT_MS, () => `not Running ${POD_START_TIMEOUT_MS / 1000} s after its creation (${observer.pods.get(name)?.status?.phase ?? 'no status'})`);
        if (failure === null) started++;
        else failures.push({ pod: name, phase: 'start', reason: failure });
        done++;
        report('starting');
      }, stop);

      done = 0;
      await pool(created, plan.parallel, async (name) => {
        const deletedAt = new Date().toISOString();
        const deleteRefused = await core.deleteNamespacedPod({ name, namespace }).then(() => undefined, (err: Error & { code?: number }) => (err.code === 404 ? undefined : err.message));
        if (deleteRefused !== undefined) {
          failures.push({ pod: name, phase: 'delete', reason: `the API server refused its deletion: ${deleteRefused}` });
          done++;
          return report('deleting');
        }
        const failure = await observer.until<string | null>(() => {
          if (!observer.pods.has(name)) return null;
          const failed = observer.callsOf(name, 'DEL', deletedAt).filter((c) => c.exitCode !== 0);
          return failed.length >= FAILED_DELS_BEFORE_VERDICT ? `stays Terminating: DEL failed ${failed.length} times (last ${failedCallText(failed.at(-1)!)})` : undefined;
        }, POD_GONE_TIMEOUT_MS, () => `still there ${POD_GONE_TIMEOUT_MS / 1000} s after its deletion`);
        if (failure !== null) failures.push({ pod: name, phase: 'delete', reason: failure });
        done++;
        report('deleting');
      });

      report('checking');
      await observer.refresh();
      const calls = observer.calls.filter((c) => names.includes(c.pod));
      const { leaks, carried } = await checkNodes(calls);
      return { wave, started, failures, leaks, carriedLeaks: carried, calls, seconds: Math.round((Date.now() - t0) / 100) / 10 };
    },
  };
}
