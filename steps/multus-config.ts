// Reading and changing the Multus configuration a node's runtime uses (the first file in /etc/cni/net.d,
// as libcni picks it), and files in the node's Multus confDir. Every change registers its undo with the World.
import { multusConfigWith, multusSettings, type CniConfig } from '../fixtures/templates.ts';
import type { E2EWorld } from './world.ts';

export const NODE_CNI_CONF_DIR = '/etc/cni/net.d';
export const NODE_MULTUS_CONF_DIR = '/etc/cni/multus/net.d';

/** Writes content to a path on a node without relying on stdin (base64 through argv). */
export async function writeNodeFile(world: E2EWorld, node: string, file: string, content: string): Promise<void> {
  const b64 = Buffer.from(content).toString('base64');
  await world.nodeExecOk(node, ['sh', '-ec', 'mkdir -p "$(dirname "$2")" && printf %s "$1" | base64 -d > "$2.tmp" && mv "$2.tmp" "$2"', 'sh', b64, file]);
}

export async function multusConfigPath(world: E2EWorld, node: string): Promise<string> {
  const listing = await world.nodeExecOk(node, ['ls', '-1', NODE_CNI_CONF_DIR]);
  const first = listing.split('\n').map((l) => l.trim()).filter((l) => /\.(conf|conflist|json)$/.test(l)).sort()[0];
  if (!first) throw new Error(`${node} has no CNI configuration in ${NODE_CNI_CONF_DIR}`);
  return `${NODE_CNI_CONF_DIR}/${first}`;
}

export async function readMultusConfig(world: E2EWorld, node: string): Promise<{ path: string; text: string; config: CniConfig }> {
  const path = await multusConfigPath(world, node);
  const text = await world.nodeExecOk(node, ['cat', path]);
  try {
    return { path, text, config: JSON.parse(text) as CniConfig };
  } catch {
    throw new Error(`${path} on ${node} is not JSON: ${text.slice(0, 200)}`);
  }
}

/**
 * Changes the Multus settings on every node (`changes` returns the keys to set; a key set to undefined is
 * removed). Each file is restored after the scenario, before the cleanups `changes` registered itself.
 */
export async function editMultusConfigEverywhere(
  world: E2EWorld, what: string, changes: (settings: CniConfig, node: string) => CniConfig | Promise<CniConfig>,
): Promise<void> {
  for (const node of await world.cluster.nodeNames()) {
    const { path, text, config } = await readMultusConfig(world, node);
    const keys = await changes(multusSettings(config), node);
    world.cleanups.push({ what: `restoring ${path} on ${node} (${what})`, run: () => writeNodeFile(world, node, path, text) });
    await writeNodeFile(world, node, path, `${JSON.stringify(multusConfigWith(config, () => keys), null, 2)}\n`);
  }
}

/** Where a scenario writes a cluster network conflist of its own: a subdirectory, which runtimes do not scan. */
export const CLUSTER_NETWORK_FILE_DIR = `${NODE_CNI_CONF_DIR}/multus.d`;

// The values "clusterNetwork" may take are listed in upstream's docs/configuration.md ("Using clusterNetwork"):
// a NAD name, a config name in confDir, "A path to a directory containing CNI json configuration files",
// "Absolute file path for CNI config file". Settings keys returned below drop "delegates", which "is ignored"
// once "clusterNetwork" is set, so the file says exactly what is used.

/**
 * Settings keys that give the node's cluster network as the absolute path of its .conflist. Settings that
 * already do are kept; an inline cluster network (the first of "delegates") is written to a file of its own.
 */
export async function clusterNetworkAsConflistPath(world: E2EWorld, node: string, settings: CniConfig): Promise<CniConfig> {
  const { clusterNetwork } = settings;
  if (typeof clusterNetwork === 'string' && clusterNetwork.startsWith('/') && clusterNetwork.endsWith('.conflist')) return {};
  const conflist = inlineClusterNetwork(node, settings);
  const file = `${CLUSTER_NETWORK_FILE_DIR}/${conflist.name}.conflist`;
  await writeScenarioFile(world, node, file, conflist, file);
  return { clusterNetwork: file, delegates: undefined };
}

/**
 * Settings keys that make sure "clusterNetwork" is set, which upstream requires for "defaultNetworks" ("Set
 * clusterNetwork and if this is set, optionally set the defaultNetworks"). Settings that have it are kept; an
 * inline cluster network is written to a directory of its own, and that directory becomes "clusterNetwork".
 */
export async function clusterNetworkSet(world: E2EWorld, node: string, settings: CniConfig): Promise<CniConfig> {
  if (typeof settings.clusterNetwork === 'string' && settings.clusterNetwork !== '') return {};
  const conflist = inlineClusterNetwork(node, settings);
  const dir = `${CLUSTER_NETWORK_FILE_DIR}/cluster-network.d`;
  await writeScenarioFile(world, node, `${dir}/${conflist.name}.conflist`, conflist, dir);
  return { clusterNetwork: dir, delegates: undefined };
}

/** The first of "delegates" as a conflist (a single-plugin config wrapped into one). */
function inlineClusterNetwork(node: string, settings: CniConfig): CniConfig & { name: string } {
  const { clusterNetwork, delegates } = settings;
  const first = Array.isArray(delegates) ? (delegates[0] as CniConfig | undefined) : undefined;
  if (!first || typeof first.name !== 'string') {
    throw new Error(
      `the Multus configuration on ${node} names no cluster network this step can use ` +
      `(clusterNetwork: ${JSON.stringify(clusterNetwork)}, delegates: ${JSON.stringify(delegates)})`,
    );
  }
  if (Array.isArray(first.plugins)) return { ...first, name: first.name };
  const { cniVersion, name, ...plugin } = first;
  return { cniVersion, name, plugins: [plugin] };
}

/** Writes a JSON file on a node and registers the removal of `created` (the file, or the directory made for it). */
async function writeScenarioFile(world: E2EWorld, node: string, file: string, content: CniConfig, created: string): Promise<void> {
  world.cleanups.push({ what: `removing ${created} on ${node}`, run: async () => void (await world.nodeExecOk(node, ['rm', '-rf', created])) });
  await writeNodeFile(world, node, file, `${JSON.stringify(content, null, 2)}\n`);
}

export async function multusNamespace(world: E2EWorld): Promise<string> {
  const [node] = await world.cluster.nodeNames();
  if (!node) throw new Error('the cluster has no nodes');
  const settings = multusSettings((await readMultusConfig(world, node)).config);
  return typeof settings.multusNamespace === 'string' ? settings.multusNamespace : 'kube-system';
}
