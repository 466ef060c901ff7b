// One node's kubelet + container runtime: registers the Node, watches the pods bound to it, and
// for each creates a pod netns, runs the node's CNI config (libcni.ts), reports status and events
// as kubelet does, and on graceful delete runs DEL, removes the netns and finishes the delete. A DEL of
// a running pod's sandbox that fails keeps the sandbox (netns included) and the pod, and is retried
// until it succeeds, as containerd (StopPodSandbox returns the error) and kubelet (the pod worker
// retries the kill) do. A sandbox whose ADD failed gets one clean-up DEL and is dropped, or kept when that
// DEL fails (then as a running pod's); by default the pod then stays failed, so scenarios are
// deterministic; with retrySandboxes(ms) the agent creates a new sandbox after that pause (a kept one is
// torn down first), as kubelet's pod worker retries a failed RunPodSandbox.
import { randomBytes } from 'node:crypto';
import type { V1Node, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import type { CniCallRecord } from '../provider.ts';
import { ApiError, type ApiClient } from './api-client.ts';
import { appendCniCall, delegateTimes, fileSize, readFrom } from './cni-call-log.ts';
import { DeviceCheckpoint } from './device-checkpoint.ts';
import { recordPodEvent } from './events.ts';
import { deleteNetns } from './fabric.ts';
import { inform, type Informer } from './informer.ts';
import { CniError, NodeCni, type CniRuntimeArgs, type NetworkList } from './libcni.ts';
import { podNetns } from './names.ts';
import { hostPathOf } from './node-host.ts';
import { mustRun } from './run-command.ts';
import { podExtendedRequests } from './scheduler.ts';
import type { NodeState } from './state.ts';

export const NETNS_ANNOTATION = 'multus-e2e.io/netns';
export const SANDBOX_ANNOTATION = 'multus-e2e.io/sandbox-id';
const PLUGIN_LOG = '/var/log/multus/multus.log';
/**
 * Pause before a failed DEL is tried again. kubelet's pod worker retries after its backOffPeriod (10 s,
 * with jitter; pkg/kubelet/kubelet.go); shorter here so a scenario waits seconds, not tens of them.
 */
const DEL_RETRY_MS = 2_000;

/**
 * containerd's CNI library (github.com/containerd/go-cni, libcni.Remove) takes a DEL that fails with an
 * error containing "not found" as done ("could mean that it was already deleted"): the sandbox goes and
 * the DEL is not retried, whatever the plugin left behind. kind nodes run containerd, so this runtime does the same.
 */
function containerdTakesAsDeleted(err: Error): boolean {
  return err.message.includes('not found');
}

/** Host path of a node's kubelet device-plugin checkpoint. */
export function nodeCheckpointFile(nodeDir: string): string {
  return hostPathOf(nodeDir, '/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint');
}

export interface Sandbox {
  containerId: string;
  netns: string;
  /** null for host-network pods (no CNI, the node's netns). */
  network: NetworkList | null;
  runtime: CniRuntimeArgs;
}

export interface NodeAgentOptions {
  api: ApiClient;
  prefix: string;
  node: NodeState & { holder: NonNullable<NodeState['holder']> };
  cniCallsPath: string;
  /** Extended resource → device IDs this node offers from the start (more via LocalCluster.registerDevices). */
  devices: Record<string, string[]>;
  log: (line: string) => void;
  /**
   * Sandboxes an earlier agent of this node made (by pod uid), as containerd's metadata store keeps them
   * across a reboot: each is torn down (its netns may be gone) before the pod gets a new one.
   */
  staleSandboxes?: ReadonlyMap<string, Sandbox>;
  /** How long one plugin run may take before it is killed (default DEFAULT_CNI_TIMEOUT_MS, 120 s); `cni.setTimeout` changes it. */
  cniTimeoutMs?: number;
}

/** What StopPodSandbox's CNI DEL did. */
export interface SandboxStopped {
  containerId: string;
  ok: boolean;
  error?: string;
}

export class NodeAgent {
  /** The node's CNI runtime: its timeout, and the plugin processes running now (fault scenarios use both). */
  readonly cni: NodeCni;
  private readonly checkpoint: DeviceCheckpoint;
  private readonly sandboxes = new Map<string, Sandbox>();
  /** Pods whose sandbox failed: kept Pending, not retried. */
  private readonly failed = new Set<string>();
  private readonly queues = new Map<string, Promise<void>>();
  /** Pods whose teardown DEL failed, with the timer of its next try. */
  private readonly delRetries = new Map<string, NodeJS.Timeout>();
  /** Pause before a failed sandbox is created anew; undefined: never (the default). */
  private sandboxRetryMs: number | undefined;
  /** Failed pods waiting for a new sandbox, with the timer, and the pod objects last seen. */
  private readonly sandboxRetries = new Map<string, NodeJS.Timeout>();
  private readonly lastSeen = new Map<string, V1Pod>();
  /** While set, new sandboxes wait just before their CNI ADD until it resolves (a fault scenario's timing). */
  private addsHeld: { released: Promise<void>; release: () => void } | undefined;
  private informer?: Informer;

  constructor(private readonly o: NodeAgentOptions) {
    this.cni = new NodeCni(o.node.holder.pid, o.node.dir, o.cniTimeoutMs);
    this.checkpoint = new DeviceCheckpoint(nodeCheckpointFile(o.node.dir));
  }

  get name(): string {
    return this.o.node.name;
  }

  /** Failed sandboxes are created again after `ms` (kubelet's behaviour), or never (undefined). */
  retrySandboxes(ms: number | undefined): void {
    this.sandboxRetryMs = ms;
    if (ms === undefined) {
      for (const timer of this.sandboxRetries.values()) clearTimeout(timer);
      this.sandboxRetries.clear();
    }
  }

  /** Holds every new sandbox just before its CNI ADD (its netns made, the pod annotated), or lets them all go on. */
  holdAdds(hold: boolean): void {
    if (hold && !this.addsHeld) {
      let release = () => undefined as void;
      const released = new Promise<void>((resolve) => (release = resolve));
      this.addsHeld = { released, release };
    } else if (!hold && this.addsHeld) {
      this.addsHeld.release();
      this.addsHeld = undefined;
    }
  }

  /** Creates (or updates) the Node object with a Ready condition, addresses and capacity. */
  async register(): Promise<void> {
    const { api, node } = this.o;
    for (const [res, ids] of Object.entries(this.o.devices)) this.checkpoint.register(res, ids);
    const meta = {
      name: node.name,
      labels: { 'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch },
    };
    try {
      await api.post<V1Node>('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: meta, spec: { podCIDR: node.podCidr, podCIDRs: [node.podCidr] } });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
    }
    const capacity: Record<string, string> = { cpu: '2', memory: '4Gi', pods: '110' };
    for (const [res, ids] of Object.entries(this.checkpoint.registered())) capacity[res] = String(ids.length);
    const now = new Date().toISOString();
    await api.patch(`/api/v1/nodes/${node.name}/status`, {
      status: {
        capacity,
        allocatable: capacity,
        addresses: [
          { type: 'InternalIP', address: node.fabricIp },
          { type: 'Hostname', address: node.name },
        ],
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
        nodeInfo: { kubeletVersion: 'v1.32.0-multus-e2e', containerRuntimeVersion: 'multus-e2e://local', operatingSystem: 'linux', architecture: meta.labels['kubernetes.io/arch'], osImage: 'multus-e2e local node', kernelVersion: '', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '' },
      },
    });
  }

  start(): void {
    for (const [uid, sb] of this.o.staleSandboxes ?? []) {
      this.serial(uid, async () => {
        const pod: V1Pod = { metadata: { namespace: sb.runtime.podNamespace, name: sb.runtime.podName, uid } };
        if (sb.network) await this.timed('DEL', pod, sb.runtime, () => this.cni.del(sb.network!, sb.runtime)).catch((e: Error) => this.o.log(`${this.name}: DEL of the sandbox from before the restart of ${pod.metadata?.namespace}/${pod.metadata?.name}: ${e.message}`));
        this.checkpoint.release(uid);
      });
    }
    this.informer = inform<V1Pod>(
      this.o.api,
      `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.name}`)}`,
      (type, pod) => this.enqueue(pod, type === 'DELETED'),
      (pods) => {
        const present = new Set(pods.map((p) => p.metadata?.uid));
        for (const [uid, sb] of this.sandboxes) {
          if (!present.has(uid)) this.serial(uid, () => this.teardownOrRetry(uid, sb));
        }
      },
      (err) => this.o.log(`${this.name}: pod watch: ${err.message}`),
    );
  }

  /** Stops watching and waits for in-flight pod work; returns the sandboxes it still holds, by pod uid. */
  async stop(): Promise<Map<string, Sandbox>> {
    this.informer?.stop();
    for (const timer of this.delRetries.values()) clearTimeout(timer);
    this.delRetries.clear();
    this.retrySandboxes(undefined);
    this.holdAdds(false);
    await Promise.allSettled([...this.queues.values()]);
    return new Map(this.sandboxes);
  }

  /**
   * Tears the pod's sandbox down now, as `crictl stopp` or kubelet killing a pod do without going through
   * the API server: CNI DEL, then the netns. A failed DEL keeps the sandbox, and the pod's deletion repeats it.
   */
  stopSandbox(namespace: string, name: string): Promise<SandboxStopped> {
    const found = [...this.sandboxes].find(([, sb]) => sb.runtime.podNamespace === namespace && sb.runtime.podName === name);
    if (!found) return Promise.reject(new Error(`${this.name} has no sandbox of pod ${namespace}/${name}`));
    const [uid, sb] = found;
    return new Promise((resolve, reject) => {
      this.serial(uid, async () => {
        try {
          const ok = await this.teardown(uid, sb);
          resolve({ containerId: sb.containerId, ok, ...(ok ? {} : { error: 'the DEL failed; the sandbox is kept' }) });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
  }

  private enqueue(pod: V1Pod, deleted: boolean): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    if (deleted) this.lastSeen.delete(uid);
    else this.lastSeen.set(uid, pod);
    this.serial(uid, () => this.reconcile(uid, pod, deleted));
  }

  /** Work on one pod runs in order; different pods run in parallel, as kubelet's pod workers do. */
  private serial(uid: string, work: () => Promise<void>): void {
    const prev = this.queues.get(uid) ?? Promise.resolve();
    const next = prev
      .then(work)
      .catch((err: Error) => this.o.log(`${this.name}: pod ${uid}: ${err.stack ?? err.message}`))
      .finally(() => {
        if (this.queues.get(uid) === next) this.queues.delete(uid);
      });
    this.queues.set(uid, next);
  }

  private async reconcile(uid: string, pod: V1Pod, deleted: boolean): Promise<void> {
    const sb = this.sandboxes.get(uid);
    if (deleted || pod.metadata?.deletionTimestamp) {
      // The pod object stays (Terminating) until its sandbox is torn down, as kubelet keeps it.
      if (sb && !(await this.teardown(uid, sb))) {
        this.retryLater(uid, () => this.reconcile(uid, pod, deleted));
        return;
      }
      this.failed.delete(uid);
      if (!deleted) await this.finishDelete(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (sb || this.failed.has(uid) || phase === 'Succeeded' || phase === 'Failed') return;
    await this.createSandbox(uid, pod);
  }

  private async createSandbox(uid: string, pod: V1Pod): Promise<void> {
    const { api, prefix } = this.o;
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const containerId = randomBytes(32).toString('hex');
    const netns = podNetns(prefix, uid);
    const runtime: CniRuntimeArgs = { containerId, netns: `/run/netns/${netns}`, ifname: 'eth0', podNamespace: ns, podName: name, podUid: uid };
    const startTime = new Date().toISOString();
    if (pod.spec?.hostNetwork) {
      // kubelet runs no CNI for host-network pods: they share the node's netns and address.
      this.sandboxes.set(uid, { containerId, netns: this.o.node.netns, network: null, runtime });
      await api.patch(`/api/v1/namespaces/${ns}/pods/${name}`, { metadata: { annotations: { [NETNS_ANNOTATION]: this.o.node.netns, [SANDBOX_ANNOTATION]: containerId } } });
      await this.patchStatus(pod, runningStatus(pod, this.o.node.fabricIp, [this.o.node.fabricIp], startTime, containerId));
      return;
    }
    let network: NetworkList | undefined;
    try {
      await mustRun(['ip', 'netns', 'add', netns]);
      await mustRun(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
      // Annotate first so podExec can find the netns while the plugin is still running.
      await api.patch(`/api/v1/namespaces/${ns}/pods/${name}`, { metadata: { annotations: { [NETNS_ANNOTATION]: netns, [SANDBOX_ANNOTATION]: containerId } } });
      const wants = podExtendedRequests(pod);
      if (Object.values(wants).some((n) => n > 0)) this.checkpoint.allocate(uid, pod.spec?.containers[0]?.name ?? '', wants);
      network = this.cni.network();
      if (this.addsHeld) await this.addsHeld.released;
      const result = await this.timed('ADD', pod, runtime, () => this.cni.add(network!, runtime));
      this.sandboxes.set(uid, { containerId, netns, network, runtime });
      const ips = podIps(result, runtime.ifname);
      await this.patchStatus(pod, runningStatus(pod, this.o.node.fabricIp, ips, startTime, containerId));
    } catch (err) {
      this.sandboxes.delete(uid);
      this.failed.add(uid);
      const message = `Failed to create pod sandbox: failed to setup network for sandbox "${containerId}": ${describe(err, network)}`;
      this.o.log(`${this.name}: ${ns}/${name}: ${message}`);
      // As containerd does after a failed sandbox: DEL what may have been added, then drop the netns. A
      // clean-up DEL that fails leaves the sandbox (containerd marks it SANDBOX_UNKNOWN), netns included:
      // deleting the pod then retries its DEL until it succeeds, and the pod stays Terminating meanwhile.
      // Otherwise a failed sandbox stays failed (no ADD retries), so these scenarios are deterministic.
      const sandbox: Sandbox = { containerId, netns, network: network ?? null, runtime };
      this.sandboxes.set(uid, sandbox);
      if (!(await this.teardown(uid, sandbox))) this.o.log(`${this.name}: the sandbox of ${ns}/${name} stays until a DEL succeeds`);
      // With the API server away the event is lost (logged above), and the retry below must still be planned.
      await recordPodEvent(api, pod, { type: 'Warning', reason: 'FailedCreatePodSandBox', message, component: 'kubelet', host: this.name }).catch((e: Error) => this.o.log(`${this.name}: event of ${ns}/${name}: ${e.message}`));
      await this.patchStatus(pod, failedStatus(pod, this.o.node.fabricIp, startTime, message)).catch((e: Error) => this.o.log(`${this.name}: status of ${ns}/${name}: ${e.message}`));
      this.retrySandboxLater(uid);
    }
  }

  /** With retries on, a new sandbox for a failed pod after the pause, unless the pod was deleted meanwhile. */
  private retrySandboxLater(uid: string): void {
    const ms = this.sandboxRetryMs;
    if (ms === undefined || this.sandboxRetries.has(uid)) return;
    const timer = setTimeout(() => {
      this.sandboxRetries.delete(uid);
      this.serial(uid, async () => {
        const pod = this.lastSeen.get(uid);
        if (!pod || !this.failed.has(uid)) return;
        // As kubelet stops a sandbox its clean-up left behind before it creates a new one.
        const stale = this.sandboxes.get(uid);
        if (stale && !(await this.teardown(uid, stale))) {
          this.retrySandboxLater(uid);
          return;
        }
        this.failed.delete(uid);
        await this.reconcile(uid, pod, false);
      });
    }, ms);
    this.sandboxRetries.set(uid, timer);
  }

  /**
   * DEL, then the netns and devices go. Returns false when the DEL failed: the sandbox stays as it is
   * (containerd removes the netns only after a successful teardown) and the caller retries.
   */
  private async teardown(uid: string, sb: Sandbox): Promise<boolean> {
    if (sb.network) {
      const pod: V1Pod = { metadata: { namespace: sb.runtime.podNamespace, name: sb.runtime.podName, uid } };
      const network = sb.network;
      try {
        await this.timed('DEL', pod, sb.runtime, () => this.cni.del(network, sb.runtime));
      } catch (err) {
        if (containerdTakesAsDeleted(err as Error)) {
          this.o.log(`${this.name}: DEL of ${sb.runtime.podNamespace}/${sb.runtime.podName} failed with "not found", taken as deleted: ${(err as Error).message}`);
          return this.dropSandbox(uid, sb);
        }
        this.o.log(`${this.name}: DEL of ${sb.runtime.podNamespace}/${sb.runtime.podName} failed, retrying in ${DEL_RETRY_MS / 1000} s: ${(err as Error).message}`);
        return false;
      }
    }
    return this.dropSandbox(uid, sb);
  }

  private async dropSandbox(uid: string, sb: Sandbox): Promise<true> {
    // A host-network pod's sandbox is the node's own netns.
    if (sb.netns !== this.o.node.netns) await deleteNetns(sb.netns);
    this.sandboxes.delete(uid);
    this.checkpoint.release(uid);
    return true;
  }

  private async teardownOrRetry(uid: string, sb: Sandbox): Promise<void> {
    if (!(await this.teardown(uid, sb))) this.retryLater(uid, () => this.teardownOrRetry(uid, sb));
  }

  /** One pending retry per pod: later failures while it waits do not add more. */
  private retryLater(uid: string, work: () => Promise<void>): void {
    if (this.delRetries.has(uid)) return;
    const timer = setTimeout(() => {
      this.delRetries.delete(uid);
      // The pod's own work queue, so a retry never overlaps an event being handled for the same pod.
      this.serial(uid, async () => {
        if (this.sandboxes.has(uid)) await work();
      });
    }, DEL_RETRY_MS);
    this.delRetries.set(uid, timer);
  }

  private async finishDelete(pod: V1Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    try {
      await this.o.api.delete(`/api/v1/namespaces/${ns}/pods/${pod.metadata?.name}?gracePeriodSeconds=0`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata?.uid },
      });
    } catch (err) {
      if (!(err instanceof ApiError && (err.status === 404 || err.status === 409))) throw err;
    }
  }

  private async patchStatus(pod: V1Pod, status: V1PodStatus): Promise<void> {
    await this.o.api.patch(`/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}/status`, { status });
  }

  /** Runs one CNI operation, appending its CniCallRecord (with delegate times from the plugin log). */
  private async timed<T>(op: 'ADD' | 'DEL', pod: V1Pod, runtime: CniRuntimeArgs, call: () => Promise<T>): Promise<T> {
    const { containerId, netns } = runtime;
    const logFile = hostPathOf(this.o.node.dir, PLUGIN_LOG);
    const logOffset = fileSize(logFile);
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    let exitCode = 0;
    let errorCode: number | undefined;
    let error: string | undefined;
    try {
      return await call();
    } catch (err) {
      exitCode = err instanceof CniError && err.exitCode !== undefined ? err.exitCode : 1;
      if (err instanceof CniError) errorCode = err.code;
      error = (err as Error).message;
      throw err;
    } finally {
      const rec: CniCallRecord = {
        op,
        node: this.name,
        namespace: pod.metadata?.namespace ?? '',
        pod: pod.metadata?.name ?? '',
        containerId,
        netns,
        ms: Math.round((performance.now() - t0) * 100) / 100,
        exitCode,
        ...(errorCode !== undefined ? { errorCode } : {}),
        ...(error !== undefined ? { error } : {}),
        delegates: delegateTimes(readFrom(logFile, logOffset), containerId, op),
        startedAt,
      };
      appendCniCall(this.o.cniCallsPath, rec);
    }
  }
}

function describe(err: unknown, network: NetworkList | undefined): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (!network) return msg;
  const plugin = (err as { plugin?: string }).plugin;
  return `plugin type="${plugin ?? network.plugins[0]?.type ?? ''}" name="${network.name}" failed (add): ${msg}`;
}

/** IPs of the pod's own interface in the CNI result (1.0.0 / 0.4.0 / 0.3.x layout). */
export function podIps(result: Record<string, unknown>, ifname: string): string[] {
  const interfaces = (result.interfaces ?? []) as { name?: string; sandbox?: string }[];
  const ips = (result.ips ?? []) as { address?: string; interface?: number }[];
  const mine = ips.filter((ip) => {
    if (ip.interface === undefined) return true;
    const itf = interfaces[ip.interface];
    return !!itf?.sandbox && (itf.name === ifname || !itf.name);
  });
  return mine.map((ip) => String(ip.address ?? '').split('/')[0]!).filter(Boolean);
}

function conditions(ready: boolean, message?: string): V1PodCondition[] {
  const now = new Date();
  const notReady = ready ? {} : { reason: 'ContainersNotReady', message: message ?? '' };
  return [
    { type: 'PodReadyToStartContainers', status: ready ? 'True' : 'False', lastTransitionTime: now },
    { type: 'Initialized', status: 'True', lastTransitionTime: now },
    { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now, ...notReady },
    { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now, ...notReady },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
  ];
}

function runningStatus(pod: V1Pod, hostIP: string, ips: string[], startTime: string, containerId: string): V1PodStatus {
  return {
    phase: 'Running',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(ips.length ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    startTime: new Date(startTime),
    conditions: conditions(true),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      containerID: `multus-e2e://${containerId}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: new Date() } },
    })),
  };
}

function failedStatus(pod: V1Pod, hostIP: string, startTime: string, message: string): V1PodStatus {
  return {
    phase: 'Pending',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    startTime: new Date(startTime),
    conditions: conditions(false, message),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating', message } },
    })),
  };
}
