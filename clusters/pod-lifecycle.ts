// Pods and NADs through the Kubernetes API of any Cluster: creating a pod once its namespace can take it,
// waiting for it to run (or for the cluster to say why not) and for deleted pods to go, judging a
// deletion failed once the runtime's DEL has failed a few times. Shared by the scenarios' World and by
// `multus-e2e certify --profile full`, which must not import steps/.
import { CoreV1Api, CustomObjectsApi, KubeConfig, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, CniCallRecord } from './provider.ts';

export const NAD_GROUP = 'k8s.cni.cncf.io';
export const NAD_VERSION = 'v1';
export const NAD_PLURAL = 'network-attachment-definitions';

/**
 * Between two reads of a pod while waiting for it to run or go. Every wait loses half of it on average,
 * and a scenario waits several times (a 10 s scenario lost ~1 s at 500 ms); a read is one small GET.
 */
const POLL_MS = 200;
const SERVICE_ACCOUNT_WAIT_MS = 30_000;
export const POD_START_TIMEOUT_MS = 90_000;
export const POD_GONE_TIMEOUT_MS = 90_000;
/** Failed DELs of one pod after which its deletion is judged failed rather than slow. */
const FAILED_DELS_BEFORE_VERDICT = 3;
/**
 * Between two looks at the CNI call records while pods are going. On kind a look is a `docker exec` per
 * node reading the call and plugin logs whole; every 200 ms that starved the kubelets on a 2-core host
 * (a pod took 33–49 s to go where `kubectl delete --wait` alone takes 10 s), and a runtime retries a
 * failed DEL seconds apart anyway.
 */
const FAILED_DEL_LOOK_MS = 5_000;
/** How long a pod may stay not Running after a FailedCreatePodSandBox event before the start counts as failed. */
const SANDBOX_RETRY_GRACE_MS = 10_000;

export function kubeClients(kubeconfigPath: string): { core: CoreV1Api; custom: CustomObjectsApi } {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return { core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

/**
 * A real API server refuses pods until the namespace's "default" ServiceAccount exists (its
 * controller makes it moments after the namespace; seconds on a loaded machine): retried meanwhile.
 */
export async function createPodObject(core: CoreV1Api, namespace: string, body: object): Promise<void> {
  const deadline = Date.now() + SERVICE_ACCOUNT_WAIT_MS;
  for (;;) {
    try {
      await core.createNamespacedPod({ namespace, body });
      return;
    } catch (err) {
      const e = err as { code?: number; body?: unknown };
      const text = typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? '');
      const noServiceAccount = e.code === 403 && /serviceaccount \\*"default\\*" not found/.test(text);
      if (!noServiceAccount || Date.now() > deadline) throw err;
    }
    await sleep(POLL_MS);
  }
}

export async function podEvents(core: CoreV1Api, namespace: string, name: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({ namespace });
  return list.items.filter((e) => e.involvedObject?.name === name);
}

/**
 * Everything the cluster says about why a pod is not running (events and status), each message once.
 * Without `withConditions`, only what names a cause: Warning events, the status message and container
 * waiting messages. A real kubelet sets Ready=False ("containers with unready status") at once, before
 * the sandbox failure event carrying the plugin's error arrives, so a condition says only that the pod
 * is not ready.
 */
export async function podFailureText(core: CoreV1Api, namespace: string, name: string, opts: { withConditions?: boolean } = {}): Promise<string> {
  const [p, events] = await Promise.all([core.readNamespacedPod({ name, namespace }), podEvents(core, namespace, name)]);
  const sources = new Map<string, string[]>();
  const add = (label: string, message: string | undefined) => {
    if (!message) return;
    sources.set(message, [...(sources.get(message) ?? []), label]);
  };
  for (const e of events) if (e.type === 'Warning') add(`event ${e.reason}`, e.message);
  add('status', p.status?.message);
  if (opts.withConditions ?? true) for (const c of p.status?.conditions ?? []) add(`condition ${c.type}`, c.message);
  for (const c of p.status?.containerStatuses ?? []) add(`container ${c.name}`, c.state?.waiting?.message);
  return [...sources].map(([message, labels]) => `${labels.join(', ')}: ${message}`).join('\n');
}

/** True once the runtime has reported a failed sandbox for the pod (a FailedCreatePodSandBox event). */
export async function sandboxFailed(core: CoreV1Api, namespace: string, name: string): Promise<boolean> {
  return (await podEvents(core, namespace, name)).some((e) => e.type === 'Warning' && e.reason === 'FailedCreatePodSandBox');
}

/** Waits until the pod is Running; throws with what the cluster says when it failed or the deadline passed. `onRead` sees every read. */
export async function waitForPodRunning(core: CoreV1Api, namespace: string, name: string, timeoutMs = POD_START_TIMEOUT_MS, onRead: (p: V1Pod) => void = () => undefined): Promise<V1Pod> {
  const deadline = Date.now() + timeoutMs;
  let sandboxFailedSince: number | undefined;
  for (;;) {
    const p = await core.readNamespacedPod({ name, namespace });
    onRead(p);
    if (p.status?.phase === 'Running') return p;
    // A runtime may retry a failed sandbox, so give it a moment before calling the failure final.
    if (sandboxFailedSince === undefined && (await sandboxFailed(core, namespace, name))) sandboxFailedSince = Date.now();
    const gaveUp = sandboxFailedSince !== undefined && Date.now() - sandboxFailedSince > SANDBOX_RETRY_GRACE_MS;
    if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded' || gaveUp || Date.now() > deadline) {
      const why = await podFailureText(core, namespace, name);
      const waited = Math.round((Date.now() - (deadline - timeoutMs)) / 1000);
      throw new Error(`pod "${name}" is ${p.status?.phase ?? 'without status'} instead of Running after ${waited} s${why ? `:\n${why}` : ' (no events or status message)'}`);
    }
    await sleep(POLL_MS);
  }
}

async function failedDelReport(cluster: Cluster, pod: string, failed: CniCallRecord[]): Promise<string> {
  const last = failed.at(-1) as CniCallRecord;
  const log = await cluster.pluginLog(last.node, last.containerId).catch(() => []);
  return `pod "${pod}" stays Terminating: the runtime's CNI DEL failed ${failed.length} times `
    + `(last exit ${last.exitCode}${last.errorCode !== undefined ? `, CNI error code ${last.errorCode}` : ''}); `
    + `the plugin's last log lines for container ${last.containerId.slice(0, 12)} on ${last.node}:\n${log.slice(-6).join('\n') || '(none)'}`;
}

/**
 * Waits until the named pods (all of the namespace's when names is undefined), deleted at `since` (ISO
 * time), are gone. A runtime retries a failed DEL and keeps the pod Terminating meanwhile (kubelet and
 * containerd do; so does the local node agent): once a pod's DEL has failed a few times, this says why
 * instead of waiting out the deadline. DELs before `since` do not count: their cause may have cleared.
 */
export async function waitForPodsGone(core: CoreV1Api, cluster: Cluster, namespace: string, names: string[] | undefined, since: string, timeoutMs = POD_GONE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let nextLook = Date.now() + FAILED_DEL_LOOK_MS;
  for (;;) {
    const list = await core.listNamespacedPod({ namespace });
    const left = list.items.filter((p) => names === undefined || names.includes(p.metadata?.name ?? ''));
    if (left.length === 0) return;
    if (Date.now() >= nextLook) {
      nextLook = Date.now() + FAILED_DEL_LOOK_MS;
      const failedDels = (await cluster.cniCalls(since)).filter((c) => c.op === 'DEL' && c.exitCode !== 0 && c.namespace === namespace);
      for (const p of left) {
        const failed = failedDels.filter((c) => c.pod === p.metadata?.name);
        if (failed.length >= FAILED_DELS_BEFORE_VERDICT) throw new Error(await failedDelReport(cluster, p.metadata?.name ?? '', failed));
      }
      await cluster.removeStoppedSandboxes?.(namespace, left.filter((p) => p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? ''));
    }
    if (Date.now() > deadline) {
      throw new Error(`pods still present in ${namespace} ${Math.round(timeoutMs / 1000)} s after their deletion: ${left.map((p) => `${p.metadata?.name} (${p.status?.phase})`).join(', ')}`);
    }
    await sleep(POLL_MS);
  }
}
