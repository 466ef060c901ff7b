// A running kind cluster behind the shared Cluster interface. Everything on the nodes goes through
// `docker exec`; pods are found through the API and entered through their CRI sandbox's netns.
import { mkdirSync, rmSync, rmdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, CniCallRecord, ExecResult } from '../provider.ts';
import { Kubectl, compareNodeNames } from './kubectl.ts';
import { netnsFromInspectP } from './pod-sandbox.ts';
import { CNI_CALLS_FILE, callsFromRecorder } from './cni-call-recorder.ts';
import { pluginLogLines } from './plugin-log.ts';
import { removeEth1Network } from './second-nic.ts';
import { netdevsimIntoNode, removeNetdevsim, freeNetdevsimId } from './netdevsim.ts';
import { PLUGIN_LOG_FILE } from './node-paths.ts';
import type { ToolRunner } from './tools.ts';

/** What attach() and destroy() need to know about a cluster; kept in <workDir>/kind-state.json. */
export interface KindClusterState {
  name: string;
  kubeconfigPath: string;
  /** Docker network giving the workers eth1. */
  eth1Network: string;
  /** Whether this provider created the kind cluster (destroy deletes only what it created). */
  createdCluster: boolean;
  createdEth1Network: boolean;
  /** Whether kind's own `kind` docker network appeared with this cluster (kind leaves it after delete). */
  createdKindNetwork?: boolean;
  /** The install manifest applied, removed on destroy when the cluster itself stays, and before another plugin is installed. */
  installManifest: string;
  /** The primary network the cluster was made with (kindnet, bridge, manifest:PATH); a reuse must ask for the same. */
  primary?: string;
  /** netdevsim device ids created on the host for this cluster. */
  netdevsimIds: number[];
}

export const STATE_FILE = 'kind-state.json';
/** The kind cluster config create() writes into the work dir. */
export const KIND_CONFIG_FILE = 'kind-config.yaml';

/** Every node container of the cluster (control plane included), in kind's order. */
export async function kindNodes(runner: ToolRunner, name: string): Promise<string[]> {
  const out = await runner.run('kind', ['get', 'nodes', '--name', name]);
  return out.stdout.split('\n').map((s) => s.trim()).filter(Boolean).sort(compareNodeNames);
}

async function kindClusterNames(runner: ToolRunner): Promise<string[]> {
  const out = await runner.run('kind', ['get', 'clusters']);
  return out.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

export async function kindClusterExists(runner: ToolRunner, name: string): Promise<boolean> {
  return (await kindClusterNames(runner)).includes(name);
}

/** The docker network kind puts every cluster's nodes on. */
export const KIND_NETWORK = 'kind';

export function readState(workDir: string): KindClusterState | undefined {
  const file = join(workDir, STATE_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as KindClusterState) : undefined;
}

export function writeState(workDir: string, state: KindClusterState): void {
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

export class KindCluster implements Cluster {
  readonly provider = 'kind' as const;
  readonly name: string;
  readonly kubeconfigPath: string;
  private readonly kubectl: Kubectl;
  // A cluster's nodes do not change while it is attached; every `kind`/`kubectl`/`docker exec` costs
  // 1–2 s on a loaded machine, and the steps ask for nodes, CNI calls and pod netns many times a scenario.
  private nodes?: string[];
  private workers?: string[];
  /** Pod ("namespace/name") → node and sandbox netns, found once per pod; see podExec. */
  private readonly sandboxes = new Map<string, { node: string; netns: string }>();

  constructor(
    private readonly runner: ToolRunner,
    private readonly workDir: string,
    private readonly state: KindClusterState,
    private readonly sysfs = '/sys',
  ) {
    this.name = state.name;
    this.kubeconfigPath = state.kubeconfigPath;
    this.kubectl = new Kubectl(runner, state.kubeconfigPath);
  }

  /** Schedulable (worker) nodes, in kind's order; the control plane is tainted and takes no test pods. */
  async nodeNames(): Promise<string[]> {
    this.workers ??= (await this.kubectl.nodes()).filter((n) => !n.controlPlane).map((n) => n.name);
    return this.workers;
  }

  /** Every node container, control plane included (the plugin runs on all of them). */
  private async allNodes(): Promise<string[]> {
    this.nodes ??= await kindNodes(this.runner, this.name);
    return this.nodes;
  }

  nodeExec(node: string, argv: string[]): Promise<ExecResult> {
    return this.runner.run('docker', ['exec', node, ...argv], { allowFail: true });
  }

  /**
   * Runs argv in the pod's sandbox netns. The node and netns are looked up once per pod (API, then
   * crictl); when nsenter cannot enter a remembered netns (the pod was deleted and made again under the
   * same name), they are looked up afresh and the command runs once more.
   */
  async podExec(namespace: string, pod: string, argv: string[]): Promise<ExecResult> {
    const key = `${namespace}/${pod}`;
    const known = this.sandboxes.get(key);
    if (known) {
      const res = await this.nsenterExec(known, argv);
      if (!/^nsenter: /m.test(res.stderr)) return res;
      this.sandboxes.delete(key);
    }
    const sandbox = await this.podSandbox(namespace, pod);
    this.sandboxes.set(key, sandbox);
    return this.nsenterExec(sandbox, argv);
  }

  private nsenterExec(sandbox: { node: string; netns: string }, argv: string[]): Promise<ExecResult> {
    return this.nodeExec(sandbox.node, ['nsenter', `--net=${sandbox.netns}`, '--', ...argv]);
  }

  private async podSandbox(namespace: string, pod: string): Promise<{ node: string; netns: string }> {
    const { node, uid } = await this.kubectl.podPlacement(namespace, pod);
    const ids = await this.runner.run('docker', [
      'exec', node, 'crictl', 'pods', '--label', `io.kubernetes.pod.uid=${uid}`, '--state', 'ready', '-q',
    ]);
    const sandbox = ids.stdout.split('\n').map((s) => s.trim()).find(Boolean);
    if (!sandbox) throw new Error(`pod ${namespace}/${pod} (uid ${uid}) has no ready sandbox on node ${node}`);
    const inspect = await this.runner.run('docker', ['exec', node, 'crictl', 'inspectp', sandbox]);
    return { node, netns: netnsFromInspectP(inspect.stdout, sandbox) };
  }

  /**
   * Kubelet v1.20 removes a deleted pod's API object only once its sandbox is gone, and removes stopped
   * sandboxes in its once-a-minute garbage collection: pods stayed Terminating up to 60 s after their
   * network was torn down (containerd's log of one: StopPodSandbox with "TearDown network … successfully"
   * at 07:20:02, RemovePodSandbox at 07:20:52, the pod gone right after; 2026-12-01). `crictl rmp` does
   * that removal now, with the same final CNI DEL. A sandbox whose DEL failed is still ready (containerd
   * stops it only after tearing its network down), so it is left to the runtime's retries.
   */
  async removeStoppedSandboxes(namespace: string, pods: string[]): Promise<void> {
    if (pods.length === 0) return;
    const script = 'ns=$1; shift; for p; do crictl pods --label "io.kubernetes.pod.namespace=$ns" --label "io.kubernetes.pod.name=$p" --state notready -q; done | xargs -r crictl rmp';
    await Promise.all((await this.allNodes()).map((node) => this.nodeExec(node, ['sh', '-c', script, 'sh', namespace, ...pods])));
  }

  /** A node file's text; one the plugin (or recorder) has not written yet is empty, not an error. */
  private async readNodeFile(node: string, file: string): Promise<string> {
    const out = await this.nodeExec(node, ['cat', file]);
    return out.code === 0 ? out.stdout : '';
  }

  private readPluginLog(node: string): Promise<string> {
    return this.readNodeFile(node, PLUGIN_LOG_FILE);
  }

  /**
   * Several node files' texts in one `docker exec` (a file not written yet is empty, not an error): the
   * steps poll CNI calls while waiting for pods to go, and each exec costs about a second under load.
   */
  private async readNodeFiles(node: string, files: string[]): Promise<string[]> {
    const out = await this.nodeExec(node, ['sh', '-c', `for f in "$@"; do cat "$f" 2>/dev/null; printf '\\000'; done`, 'sh', ...files]);
    const texts = out.stdout.split('\0');
    if (out.code !== 0 || texts.length !== files.length + 1) {
      throw new Error(`could not read ${files.join(', ')} on ${node}: exit ${out.code}: ${out.stderr.trim().slice(0, 300)}`);
    }
    return texts.slice(0, files.length);
  }

  async cniCalls(since?: string): Promise<CniCallRecord[]> {
    const perNode = await Promise.all((await this.allNodes()).map(async (node) => {
      const [recorded = '', log = ''] = await this.readNodeFiles(node, [CNI_CALLS_FILE, PLUGIN_LOG_FILE]);
      return callsFromRecorder(node, recorded, log);
    }));
    const calls = perNode.flat();
    const from = since ? Date.parse(since) : Number.NEGATIVE_INFINITY;
    return calls.filter((c) => Date.parse(c.startedAt) >= from).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async pluginLog(node: string, containerId?: string): Promise<string[]> {
    return pluginLogLines(await this.readPluginLog(node), containerId);
  }

  async exportLogs(dir: string): Promise<void> {
    mkdirSync(join(dir, 'multus'), { recursive: true });
    await this.runner.run('kind', ['export', 'logs', dir, '--name', this.name], { allowFail: true });
    for (const node of await this.allNodes()) {
      writeFileSync(join(dir, 'multus', `${node}.log`), await this.readPluginLog(node));
    }
    const objects = await this.kubectl.run(['get', 'pods,events,network-attachment-definitions', '-A', '-o', 'yaml'], { allowFail: true });
    writeFileSync(join(dir, 'objects.yaml'), objects.stdout);
  }

  /** Creates a netdevsim device on the host and moves its ports into node; removed on destroy(). */
  async addNetdevsim(node: string, opts: { ports: number; numvfs: number }): Promise<string[]> {
    const id = freeNetdevsimId(this.sysfs);
    this.state.netdevsimIds.push(id);
    writeState(this.workDir, this.state);
    return netdevsimIntoNode(this.runner, node, { id, ...opts }, this.sysfs);
  }

  async destroy(): Promise<void> {
    for (const id of this.state.netdevsimIds) removeNetdevsim(id, this.sysfs);
    const exists = await kindClusterExists(this.runner, this.name);
    let workers: string[] = [];
    if (exists && this.state.createdCluster) {
      await this.runner.run('kind', ['delete', 'cluster', '--name', this.name, '--kubeconfig', this.kubeconfigPath]);
    } else if (exists) {
      // Not ours to delete: take back only what we installed.
      await this.kubectl.run(['delete', '-f', this.state.installManifest, '--ignore-not-found'], { allowFail: true });
      workers = await this.nodeNames();
    }
    if (this.state.createdEth1Network) await removeEth1Network(this.runner, this.state.eth1Network, workers);
    // `kind delete cluster` leaves kind's network; when it came with this cluster and no kind cluster is left, it goes too.
    if (this.state.createdKindNetwork && (await kindClusterNames(this.runner)).length === 0) {
      await this.runner.run('docker', ['network', 'rm', KIND_NETWORK], { allowFail: true });
      this.state.createdKindNetwork = false;
    }
    for (const file of [this.kubeconfigPath, join(this.workDir, KIND_CONFIG_FILE), this.state.installManifest, join(this.workDir, STATE_FILE)]) {
      rmSync(file, { force: true });
    }
    try {
      rmdirSync(this.workDir);
    } catch {
      // Not empty (a directory the user named, with their files) or already gone: it stays as it is.
    }
  }
}
