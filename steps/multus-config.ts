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

/**
 * The absolute path of a .conflist holding the node's cluster network, one of the forms upstream Multus
 * documents for "clusterNetwork" ("Absolute file path for CNI config file", docs/configuration.md). Settings
 * that already name one keep it; settings with the cluster network inline as the first of "delegates" get it
 * written to a file (a single-plugin config wrapped into a conflist), removed after the scenario.
 */
export async function clusterNetworkConflistFile(world: E2EWorld, node: string, settings: CniConfig): Promise<string> {
  const { clusterNetwork, delegates } = settings;
  if (typeof clusterNetwork === 'string' && clusterNetwork.startsWith('/') && clusterNetwork.endsWith('.conflist')) return clusterNetwork;
  const inline = Array.isArray(delegates) ? (delegates[0] as CniConfig | undefined) : undefined;
  if (!inline || typeof inline.name !== 'string') {
    throw new Error(
      `the Multus configuration on ${node} has neither a .conflist path in "clusterNetwork" nor a named first delegate ` +
      `(clusterNetwork: ${JSON.stringify(clusterNetwork)}, delegates: ${JSON.stringify(delegates)})`,
    );
  }
  const file = `${CLUSTER_NETWORK_FILE_DIR}/${inline.name}.conflist`;
  world.cleanups.push({ what: `removing ${file} on ${node}`, run: async () => void (await world.nodeExecOk(node, ['rm', '-f', file])) });
  await writeNodeFile(world, node, file, `${JSON.stringify(asConflist(inline), null, 2)}\n`);
  return file;
}

function asConflist(config: CniConfig): CniConfig {
  if (Array.isArray(config.plugins)) return config;
  const { cniVersion, name, ...plugin } = config;
  return { cniVersion, name, plugins: [plugin] };
}

export async function multusNamespace(world: E2EWorld): Promise<string> {
  const [node] = await world.cluster.nodeNames();
  if (!node) throw new Error('the cluster has no nodes');
  const settings = multusSettings((await readMultusConfig(world, node)).config);
  return typeof settings.multusNamespace === 'string' ? settings.multusNamespace : 'kube-system';
}
