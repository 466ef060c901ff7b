// What a cluster's nodes get beyond the plugin under test, shared by `cluster up` and `repro` so both
// build the same clusters: emulated SR-IOV VFs (netdevsim), Multus settings the user ran, keys of a
// thick plugin's daemon-config.json, and node-local CNI configs in the Multus confDir.
import type { Cluster, ClusterOptions, ClusterProvider } from './provider.ts';
import { multusConfigWith, multusSettings, type CniConfig } from '../fixtures/templates.ts';

export interface NodeSetup {
  /** Emulated SR-IOV VFs per node (netdevsim), offered as netdevsim.io/vf. */
  netdevsimVfs?: number;
  /** Keys set in every node's Multus config (the first file in /etc/cni/net.d); see KEPT_MULTUS_KEYS. */
  multusSettings?: Record<string, unknown>;
  /** Keys set in a thick plugin's daemon-config.json on every node; the daemon is restarted to read them. */
  daemonConfig?: Record<string, unknown>;
  /** File name → content, written to every node's Multus confDir. */
  nodeCniConfigs?: Record<string, string>;
}

export const NODE_CNI_CONF_DIR = '/etc/cni/net.d';
/** Upstream Multus's default confDir, where NADs without a config are resolved by name. */
export const NODE_MULTUS_CONF_DIR = '/etc/cni/multus/net.d';
export const DAEMON_CONFIG_PATH = '/etc/cni/net.d/multus.d/daemon-config.json';

/**
 * Keys of a user's Multus settings that name things of the user's own cluster (its primary network, its
 * kubeconfig, host paths): the generated values stay, or pods could not start for reasons unrelated to the report.
 */
export const KEPT_MULTUS_KEYS = ['delegates', 'clusterNetwork', 'kubeconfig', 'binDir', 'cniDir', 'confDir', 'logFile', 'readinessindicatorfile', 'socketDir', 'daemonSocketDir'] as const;
/** The same for daemon-config.json: the node's paths and the socket the shim is built to find. */
export const KEPT_DAEMON_KEYS = ['cniConfigDir', 'multusAutoconfigDir', 'socketDir', 'daemonSocketDir', 'binDir', 'cniDir', 'confDir', 'logFile', 'chrootDir', 'multusConfigFile'] as const;

/** Splits a user's keys into those applied and those kept at the generated value. */
export function overridableKeys(keys: Record<string, unknown>, kept: readonly string[]): { applied: Record<string, unknown>; ignored: string[] } {
  const applied: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(keys)) {
    if (kept.includes(k) || k === 'type' || k === 'name' || k === 'cniVersion') ignored.push(k);
    else applied[k] = v;
  }
  return { applied, ignored };
}

/** Writes content to a path on a node without relying on stdin (base64 through argv). */
export async function writeNodeFile(cluster: Cluster, node: string, file: string, content: string): Promise<void> {
  const b64 = Buffer.from(content).toString('base64');
  const r = await cluster.nodeExec(node, ['sh', '-ec', 'mkdir -p "$(dirname "$2")" && printf %s "$1" | base64 -d > "$2.tmp" && mv "$2.tmp" "$2"', 'sh', b64, file]);
  if (r.code !== 0) throw new Error(`writing ${file} on ${node} failed: ${(r.stderr || r.stdout).trim()}`);
}

async function readNodeFile(cluster: Cluster, node: string, file: string): Promise<string> {
  const r = await cluster.nodeExec(node, ['cat', file]);
  if (r.code !== 0) throw new Error(`reading ${file} on ${node} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The Multus config file the node's runtime uses: the first config in /etc/cni/net.d, as libcni picks it. */
export async function multusConfigFile(cluster: Cluster, node: string): Promise<string> {
  const r = await cluster.nodeExec(node, ['ls', '-1', NODE_CNI_CONF_DIR]);
  const first = r.stdout.split('\n').map((l) => l.trim()).filter((l) => /\.(conf|conflist|json)$/.test(l)).sort()[0];
  if (r.code !== 0 || !first) throw new Error(`${node} has no CNI configuration in ${NODE_CNI_CONF_DIR}`);
  return `${NODE_CNI_CONF_DIR}/${first}`;
}

/** Lines for a person: what was changed on the nodes, and which of the user's keys were not applied. */
async function applyNodeFiles(cluster: Cluster, plugin: ClusterOptions['plugin'], setup: NodeSetup): Promise<string[]> {
  const notes: string[] = [];
  const nodes = await cluster.nodeNames();
  if (setup.multusSettings) {
    if (plugin.kind === 'thick') throw new Error('a thick plugin\'s daemon writes the Multus config itself: give its keys as the daemon config (daemon-config.json) instead');
    const { applied, ignored } = overridableKeys(setup.multusSettings, KEPT_MULTUS_KEYS);
    for (const node of nodes) {
      const file = await multusConfigFile(cluster, node);
      const config = JSON.parse(await readNodeFile(cluster, node, file)) as CniConfig;
      await writeNodeFile(cluster, node, file, `${JSON.stringify(multusConfigWith(config, () => applied), null, 2)}\n`);
    }
    notes.push(`Multus settings on every node: ${Object.keys(applied).join(', ') || '(none)'}${ignored.length ? `; kept as generated (they name the reporter's own cluster): ${ignored.join(', ')}` : ''}`);
  }
  if (setup.daemonConfig) {
    if (plugin.kind !== 'thick' || !cluster.stopPluginDaemon || !cluster.startPluginDaemon) {
      throw new Error('a daemon config needs a thick plugin (--plugin bundled-thick or thick:SHIM,DAEMON) on a provider that can restart its daemon');
    }
    const { applied, ignored } = overridableKeys(setup.daemonConfig, KEPT_DAEMON_KEYS);
    for (const node of nodes) {
      const current = JSON.parse(await readNodeFile(cluster, node, DAEMON_CONFIG_PATH)) as Record<string, unknown>;
      await writeNodeFile(cluster, node, DAEMON_CONFIG_PATH, `${JSON.stringify({ ...current, ...applied }, null, 2)}\n`);
      await cluster.stopPluginDaemon(node);
      await cluster.startPluginDaemon(node);
    }
    notes.push(`daemon config on every node: ${Object.keys(applied).join(', ') || '(none)'} (daemons restarted)${ignored.length ? `; kept as generated: ${ignored.join(', ')}` : ''}`);
  }
  for (const [name, content] of Object.entries(setup.nodeCniConfigs ?? {})) {
    for (const node of nodes) await writeNodeFile(cluster, node, `${NODE_MULTUS_CONF_DIR}/${name}`, content);
    notes.push(`${NODE_MULTUS_CONF_DIR}/${name} on every node`);
  }
  return notes;
}

/** The Multus settings of a node's config, for reports. */
export async function nodeMultusSettings(cluster: Cluster, node: string): Promise<CniConfig> {
  return multusSettings(JSON.parse(await readNodeFile(cluster, node, await multusConfigFile(cluster, node))) as CniConfig);
}

export interface SetUpCluster {
  cluster: Cluster;
  notes: string[];
  /** Removes what outlives the cluster (netdevsim NICs); call after destroy(), or never for a kept cluster. */
  release(): Promise<void>;
  /** The NICs made for it, for a person told what stays with a kept cluster. */
  extras: string[];
}

/**
 * Creates a cluster and gives its nodes `setup`. netdevsim needs a kernel that has it; on one that does
 * not, the error says so (`multus-e2e run` moves @netdevsim scenarios into the vm provider's guest).
 */
export async function createClusterWithSetup(provider: ClusterProvider, options: ClusterOptions & Record<string, unknown>, setup: NodeSetup): Promise<SetUpCluster> {
  const progress = options.progress ?? (() => undefined);
  let sriov: import('./vm/sriov-cluster.ts').NetdevsimSetup | undefined;
  const vm = setup.netdevsimVfs !== undefined ? await import('./vm/index.ts') : undefined;
  if (vm && setup.netdevsimVfs !== undefined) {
    if (provider.name !== 'local') throw new Error(`emulated SR-IOV VFs (netdevsim) are made by the local provider only, not ${provider.name}`);
    if (!(await vm.netdevsimAvailable())) {
      throw new Error(`${setup.netdevsimVfs} netdevsim VFs per node were asked for, but this kernel has no netdevsim (/sys/bus/netdevsim is missing and modprobe netdevsim failed). ` +
        'netdevsim exists here only inside the vm provider\'s guest: generate the scenario (repro DIR --to-feature --expect …) and `multus-e2e run` runs it there, since it is tagged @netdevsim');
    }
    progress(`creating ${options.nodes} netdevsim NICs with ${setup.netdevsimVfs} VFs each (emulated SR-IOV) …`);
    sriov = await vm.prepareNetdevsim(options.nodes, setup.netdevsimVfs);
  }
  const release = async () => { if (vm && sriov) await vm.releaseNetdevsim(sriov); };
  let cluster: Cluster | undefined;
  try {
    cluster = await provider.create({ ...options, ...(sriov ? { extendedResources: sriov.extendedResources } : {}) });
    if (vm && sriov) await vm.attachNetdevsim(cluster, sriov);
    const notes = await applyNodeFiles(cluster, options.plugin, setup);
    if (sriov) notes.unshift(`netdevsim: ${sriov.nics.length} NICs, ${setup.netdevsimVfs} VFs each, offered as netdevsim.io/vf`);
    return { cluster, notes, release, extras: sriov ? sriov.nics.map((n) => `netdevsim NIC ${n.pf}`) : [] };
  } catch (err) {
    await cluster?.destroy().catch(() => undefined);
    await release();
    throw err;
  }
}
