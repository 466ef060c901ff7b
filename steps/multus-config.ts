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

/** Changes the Multus settings on every node (returning the keys to set); each file is restored after the scenario. */
export async function editMultusConfigEverywhere(world: E2EWorld, what: string, changes: (settings: CniConfig) => CniConfig): Promise<void> {
  for (const node of await world.cluster.nodeNames()) {
    const { path, text, config } = await readMultusConfig(world, node);
    world.cleanups.push({ what: `restoring ${path} on ${node} (${what})`, run: () => writeNodeFile(world, node, path, text) });
    await writeNodeFile(world, node, path, `${JSON.stringify(multusConfigWith(config, changes), null, 2)}\n`);
  }
}

export async function multusNamespace(world: E2EWorld): Promise<string> {
  const [node] = await world.cluster.nodeNames();
  if (!node) throw new Error('the cluster has no nodes');
  const settings = multusSettings((await readMultusConfig(world, node)).config);
  return typeof settings.multusNamespace === 'string' ? settings.multusNamespace : 'kube-system';
}
