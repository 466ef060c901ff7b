// The one interface every cluster provider (local, vm, kind) implements. Steps and the CLI talk to
// clusters only through it, so the same .feature files run unchanged on every provider.

/** Which Multus build the suite installs. */
export type PluginUnderTest =
  | { kind: 'bundled' }
  /** Any Multus-compatible thin binary: it reads the upstream Multus config format and runs in the CNI call. */
  | { kind: 'thin'; path: string }
  /** Upstream-style thick plugin: a per-node daemon (multus-daemon) and the CNI binary that forwards to it (multus-shim). */
  | { kind: 'thick'; shim: string; daemon: string };

/**
 * Shape of the Multus configuration the installer writes. `delegates`: the primary network's conflist
 * inline under "delegates" (what upstream's --multus-conf-file=auto generates); `cluster-network-file`:
 * "clusterNetwork" names the primary conflist's path and the plugin reads it at each call.
 */
export type MultusConfigShape = 'delegates' | 'cluster-network-file';
export const MULTUS_CONFIG_SHAPES: readonly MultusConfigShape[] = ['delegates', 'cluster-network-file'];

/** The plugin as the CLI's --plugin value spells it (bundled, thin:PATH, thick:SHIM,DAEMON); also its label in reports. */
export function pluginArgument(plugin: PluginUnderTest): string {
  switch (plugin.kind) {
    case 'bundled':
      return 'bundled';
    case 'thin':
      return `thin:${plugin.path}`;
    case 'thick':
      return `thick:${plugin.shim},${plugin.daemon}`;
  }
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One CNI call as the container runtime saw it (the node agent times it). */
export interface CniCallRecord {
  op: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC';
  node: string;
  namespace: string;
  pod: string;
  containerId: string;
  /** CNI_NETNS of the call: the pod's network namespace as the runtime named it (/run/netns/cni-… under containerd). */
  netns?: string;
  /** Wall time of the call from spawn to exit, milliseconds. */
  ms: number;
  exitCode: number;
  /** The `code` of the CNI error object a failed call printed (CNI spec 1.1.0 §Error), when it printed one. */
  errorCode?: number;
  /** A failed call's error as the runtime reports it (the plugin's msg and details, as libcni gives them), where the provider records it. */
  error?: string;
  /** Per-delegate wall times from the plugin's JSON log, when the plugin under test writes one. */
  delegates: { network: string; type: string; ms: number }[];
  /** ISO time the call started. */
  startedAt: string;
}

export interface ClusterOptions {
  /** Cluster name; also the prefix of every namespace/link the provider creates. */
  name: string;
  nodes: number;
  plugin: PluginUnderTest;
  /** Shape of the Multus configuration the installer generates for a bundled or thin plugin (default `delegates`); a thick plugin's daemon writes its own. */
  multusConfig?: MultusConfigShape;
  /** Where logs, exported state and reports for this cluster go. */
  workDir: string;
  /** Progress lines for a person watching ("creating node node-1 …"). */
  progress?: (line: string) => void;
}

export interface Cluster {
  readonly name: string;
  readonly provider: 'local' | 'vm' | 'kind';
  /** Path to a kubeconfig file that kubectl and @kubernetes/client-node can use from the host. */
  readonly kubeconfigPath: string;
  /** Node names, in order (node-1, node-2, …). */
  nodeNames(): Promise<string[]>;
  /** Run argv inside the pod's network namespace (e.g. ["ip", "-j", "addr"]). */
  podExec(namespace: string, pod: string, argv: string[]): Promise<ExecResult>;
  /** Run argv on a node as on that host (its network namespace and its own /etc/cni, /opt/cni/bin, /var/lib/cni). */
  nodeExec(node: string, argv: string[]): Promise<ExecResult>;
  /** CNI calls made since the cluster came up (or since the given ISO time). */
  cniCalls(since?: string): Promise<CniCallRecord[]>;
  /** The plugin's log lines (JSON lines, as written) on a node, optionally only those of one container. */
  pluginLog(node: string, containerId?: string): Promise<string[]>;
  /**
   * Stops / starts again the plugin's per-node daemon (a thick plugin's multus-daemon), as when its
   * DaemonSet pod goes away and comes back. Undefined on providers that cannot; rejects when the plugin
   * under test has no daemon.
   */
  stopPluginDaemon?(node: string): Promise<void>;
  startPluginDaemon?(node: string): Promise<void>;
  /**
   * Removes the stopped sandboxes of deleted pods (their network already torn down) on the pods' nodes,
   * as the runtime's garbage collection would later; undefined where the runtime removes them at once.
   */
  removeStoppedSandboxes?(namespace: string, pods: string[]): Promise<void>;
  /** Faults of the cluster's own machinery the fault scenarios inject; undefined on providers that cannot. */
  readonly faults?: ClusterFaults;
  /** Copy logs and state useful for debugging into dir. */
  exportLogs(dir: string): Promise<void>;
  /** Remove everything the cluster created on this host. Idempotent. */
  destroy(): Promise<void>;
}

export interface ClusterFaults {
  /** Stops the API server process (the objects stay in its store); nothing on the nodes can reach it. */
  stopApiServer(): Promise<void>;
  /** Starts it again and returns once it serves. */
  startApiServer(): Promise<void>;
  /**
   * The node's runtime tears the pod's sandbox down now (CNI DEL, then its network namespace), as
   * `crictl stopp` or kubelet killing the pod do, without asking the API server. A failed DEL keeps the
   * sandbox; the call's record (cniCalls) says how it went.
   */
  stopPodSandbox(node: string, namespace: string, pod: string): Promise<void>;
  /**
   * The node reboots: its kubelet and runtime stop, every pod network namespace is gone, and when they
   * are back the runtime tears down the sandboxes it had (CNI DEL with a network namespace that no
   * longer exists) before starting the pods again. Resolves once the node agent runs again.
   */
  restartNode(node: string): Promise<void>;
  /**
   * Every node's runtime gives up on a CNI plugin run after `seconds` and kills it with what it started
   * (its process group); undefined puts back the default, 120 s (kubelet's --runtime-request-timeout).
   */
  setCniTimeout(seconds: number | undefined): Promise<void>;
  /**
   * Kills with SIGKILL the plugin process the node's runtime is running now for the pod's ADD: the binary
   * it executed (a thin plugin; a thick plugin's shim), by pid, not what that process started.
   */
  killCniPlugin(node: string, namespace: string, pod: string): Promise<KilledPlugin>;
  /**
   * Whether the nodes' runtimes create a failed pod's sandbox again after `seconds`, as kubelet's pod
   * worker retries a failed RunPodSandbox, or never (undefined, the default: a failed pod stays failed).
   */
  retryFailedSandboxes(seconds: number | undefined): Promise<void>;
  /** The node's runtime holds every new sandbox just before its CNI ADD (netns made, pod annotated), or lets them go on (false). */
  holdCniAdds(node: string, hold: boolean): Promise<void>;
  /** The API server stops accepting the plugin's service account token (401 from the next request on). */
  revokePluginCredentials(): Promise<void>;
  /** A new token for the plugin's service account, accepted by the API server and handed to the plugin as its installation does (kubeconfig, token file). */
  renewPluginCredentials(): Promise<void>;
  /**
   * The plugin's first token accepted and handed to it again, as before any revocation: how a scenario
   * leaves the cluster, since a plugin may keep using the token it read first for a while (client-go
   * re-reads a token file about once a minute).
   */
  restorePluginCredentials(): Promise<void>;
}

/** The plugin process a fault killed. */
export interface KilledPlugin {
  pid: number;
  /** Its type, the file name in the CNI bin dir. */
  type: string;
  /** Its command line as /proc showed it just before. */
  command: string;
}

export interface ClusterProvider {
  readonly name: 'local' | 'vm' | 'kind';
  /** Bring up a cluster with the plugin under test installed and ready. */
  create(opts: ClusterOptions): Promise<Cluster>;
  /** Re-attach to a cluster created earlier (e.g. by `multus-e2e cluster up`). */
  attach(name: string, workDir: string): Promise<Cluster>;
}
