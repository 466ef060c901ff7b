// The Cluster handle of a running local cluster, built from its state.json: what steps and the CLI
// use to run things in pods and on nodes, read CNI timings and plugin logs, and tear it down.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { CniCallRecord, Cluster, ClusterFaults, ExecResult, KilledPlugin } from '../provider.ts';
import { callControl, type ControlRequest } from './control.ts';
import { ApiClient } from './api-client.ts';
import { readCniCalls } from './cni-call-log.ts';
import { DeviceCheckpoint } from './device-checkpoint.ts';
import { NODE_CNI_CONF_DIR, pathWithNode } from './libcni.ts';
import { clusterNames } from './names.ts';
import { NETNS_ANNOTATION, nodeCheckpointFile } from './node-agent.ts';
import { DEFAULT_NETWORK_FILE, execOnNode, hostPathOf } from './node-host.ts';
import { isAlive, stopProcess } from './process-identity.ts';
import { runCommand } from './run-command.ts';
import { isExtendedResource } from './scheduler.ts';
import { readState, writeState, type LocalClusterState, type NodeState } from './state.ts';
import { destroyCluster } from './teardown.ts';
import { daemonMarker, startThickDaemon } from './thick-plugin.ts';

const PLUGIN_LOG = '/var/log/multus/multus.log';

export class LocalCluster implements Cluster {
  readonly provider = 'local' as const;
  private client?: ApiClient;

  constructor(private readonly state: LocalClusterState) {}

  get name(): string {
    return this.state.name;
  }

  get kubeconfigPath(): string {
    return this.state.kubeconfigPath;
  }

  /** Client for the cluster's API server (bearer token, cluster CA). */
  api(): ApiClient {
    if (!this.state.api) throw new Error(`cluster ${this.name} has no API server recorded in its state`);
    this.client ??= new ApiClient(this.state.api.url, this.state.api.token, readFileSync(this.state.api.caFile, 'utf8'));
    return this.client;
  }

  async nodeNames(): Promise<string[]> {
    return this.state.nodes.map((n) => n.name);
  }

  async podExec(namespace: string, pod: string, argv: string[]): Promise<ExecResult> {
    const p = await this.api().find<V1Pod>(`/api/v1/namespaces/${namespace}/pods/${pod}`);
    if (!p) throw new Error(`pod ${namespace}/${pod} not found`);
    const netns = p.metadata?.annotations?.[NETNS_ANNOTATION];
    if (!netns || !existsSync(`/run/netns/${netns}`)) {
      throw new Error(`pod ${namespace}/${pod} has no network namespace (phase ${p.status?.phase ?? 'unknown'}, node ${p.spec?.nodeName ?? 'none'})`);
    }
    // ip netns exec also mounts a /sys of the pod netns, so /sys/class/net shows the pod's links.
    return runCommand(['ip', 'netns', 'exec', netns, ...argv]);
  }

  async nodeExec(node: string, argv: string[]): Promise<ExecResult> {
    return execOnNode(this.node(node).holder!.pid, argv);
  }

  async cniCalls(since?: string): Promise<CniCallRecord[]> {
    return readCniCalls(this.state.cniCallsPath, since);
  }

  async pluginLog(node: string, containerId?: string): Promise<string[]> {
    const file = hostPathOf(this.node(node).dir, PLUGIN_LOG);
    if (!existsSync(file)) return [];
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
    if (!containerId) return lines;
    return lines.filter((l) => {
      try {
        return (JSON.parse(l) as { containerId?: string }).containerId === containerId;
      } catch {
        return false;
      }
    });
  }

  async exportLogs(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const workFiles = ['state.json', 'etcd.log', 'kube-apiserver.log'].map((f) => join(this.state.workDir, f));
    for (const f of [this.state.daemonLog, this.state.cniCallsPath, ...workFiles]) {
      if (existsSync(f)) cpSync(f, join(dir, f.split('/').pop()!));
    }
    for (const node of this.state.nodes) {
      const out = join(dir, node.name);
      mkdirSync(out, { recursive: true });
      // The plugin's log, and with a thick plugin the daemon's output log beside it.
      const logDir = hostPathOf(node.dir, dirname(PLUGIN_LOG));
      if (existsSync(logDir)) cpSync(logDir, out, { recursive: true });
      const confDir = hostPathOf(node.dir, '/etc/cni/net.d');
      if (existsSync(confDir)) cpSync(confDir, join(out, 'net.d'), { recursive: true });
      if (node.holder) {
        for (const what of ['addr', 'route', 'link']) {
          const r = await this.nodeExec(node.name, ['ip', '-j', what]);
          writeFileSync(join(out, `ip-${what}.json`), r.stdout || r.stderr);
        }
      }
    }
    if (this.state.api) {
      for (const [path, file] of [['/api/v1/pods', 'pods.json'], ['/api/v1/events', 'events.json'], ['/api/v1/nodes', 'nodes.json']] as const) {
        const body = await this.api().get(path).catch((err: Error) => ({ error: err.message }));
        writeFileSync(join(dir, file), JSON.stringify(body, null, 2));
      }
    }
  }

  /** Name of a node's network namespace under /run/netns (e.g. to move a host link onto the node). */
  nodeNetns(node: string): string {
    return this.node(node).netns;
  }

  /**
   * Registers (or replaces) a node's devices of one extended resource at run time, as a device plugin
   * would: the node's checkpoint lists them and the Node's capacity/allocatable count them, so pods
   * asking for the resource schedule there and get one of these IDs allocated.
   */
  async registerDevices(node: string, resource: string, deviceIds: string[]): Promise<void> {
    if (!isExtendedResource(resource)) throw new Error(`"${resource}" is not an extended resource name (domain/name, not kubernetes.io)`);
    const n = this.node(node);
    new DeviceCheckpoint(nodeCheckpointFile(n.dir)).register(resource, deviceIds);
    const qty = String(deviceIds.length);
    await this.api().patch(`/api/v1/nodes/${node}/status`, { status: { capacity: { [resource]: qty }, allocatable: { [resource]: qty } } });
  }

  /** SIGTERM to the node's multus-daemon (SIGKILL after 5 s), as when its DaemonSet pod is deleted. */
  async stopPluginDaemon(node: string): Promise<void> {
    const ref = this.thickNode(node).multusDaemon;
    if (ref) await stopProcess(ref);
  }

  /** Starts the node's multus-daemon again and returns once it serves the shim; state.json records its pid for teardown. */
  async startPluginDaemon(node: string): Promise<void> {
    const n = this.thickNode(node);
    if (n.multusDaemon && isAlive(n.multusDaemon)) throw new Error(`the multus-daemon on ${node} is already running (pid ${n.multusDaemon.pid})`);
    const plugin = this.state.plugin;
    const api = this.state.api;
    if (plugin?.kind !== 'thick' || !api) throw new Error(`cluster ${this.name} has no thick plugin or no API server recorded`);
    await startThickDaemon({
      holderPid: n.holder!.pid,
      nodeName: n.name,
      nodeDir: n.dir,
      daemon: plugin.daemon,
      primaryConfPath: join(NODE_CNI_CONF_DIR, DEFAULT_NETWORK_FILE),
      api: { host: api.fabricHost, port: api.port },
      marker: daemonMarker(clusterNames(this.name).processMarker, n.name),
      path: pathWithNode(),
      onProcess: (ref) => {
        n.multusDaemon = ref;
        // Re-read: the cluster daemon owns state.json; only this node's daemon pid changes here.
        const current = readState(this.state.workDir);
        const recorded = current?.nodes.find((x) => x.name === n.name);
        if (current && recorded) {
          recorded.multusDaemon = ref;
          writeState(current);
        }
      },
    });
  }

  /** Injected by the cluster daemon, which holds the API server and the node agents (control.ts). */
  readonly faults: ClusterFaults = {
    stopApiServer: () => this.control({ op: 'stop-api-server' }),
    startApiServer: () => this.control({ op: 'start-api-server' }),
    stopPodSandbox: (node, namespace, pod) => this.control({ op: 'stop-pod-sandbox', node, namespace, pod }),
    restartNode: (node) => this.control({ op: 'restart-node', node }),
    setCniTimeout: (seconds) => this.control({ op: 'set-cni-timeout', ms: seconds === undefined ? null : Math.round(seconds * 1000) }),
    killCniPlugin: (node, namespace, pod) => callControl<KilledPlugin>(this.state.workDir, { op: 'kill-cni-plugin', node, namespace, pod }),
    retryFailedSandboxes: (seconds) => this.control({ op: 'retry-failed-sandboxes', seconds: seconds ?? null }),
    holdCniAdds: (node, hold) => this.control({ op: 'hold-cni-adds', node, hold }),
    revokePluginCredentials: () => this.control({ op: 'revoke-plugin-credentials' }),
    renewPluginCredentials: () => this.control({ op: 'renew-plugin-credentials' }),
    restorePluginCredentials: () => this.control({ op: 'restore-plugin-credentials' }),
  };

  private async control(req: ControlRequest): Promise<void> {
    await callControl(this.state.workDir, req);
  }

  async destroy(): Promise<void> {
    this.client?.close();
    this.client = undefined;
    await destroyCluster(this.state.name, this.state.workDir);
  }

  private thickNode(name: string): NodeState {
    if (this.state.plugin?.kind !== 'thick') throw new Error(`the plugin under test on cluster ${this.name} is ${this.state.plugin?.kind ?? 'not installed'}, so it has no daemon to stop or start`);
    return this.node(name);
  }

  private node(name: string): NodeState {
    const node = this.state.nodes.find((n) => n.name === name);
    if (!node?.holder) throw new Error(`cluster ${this.name} has no node "${name}" (nodes: ${this.state.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }
}
