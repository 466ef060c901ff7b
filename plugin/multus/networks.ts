// Resolving a network reference to a CNI config: NetworkAttachmentDefinitions (spec.config, or by
// name from confDir when empty), and the cluster/default networks' NAD → confDir name → dir → file order.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, ErrorCode } from '../cni/errors.ts';
import { parseNetworkConfig, type NetworkConfig } from '../cni/netconf.ts';
import type { ApiCaller } from '../k8s/client.ts';
import { RESOURCE_NAME_ANNOTATION } from './annotations.ts';
import { getNad, type NadObject } from './kube.ts';

export interface ResolvedNetwork {
  /** "namespace/name" for NADs, the network name for file configs. */
  id: string;
  net: NetworkConfig;
  /** Device-plugin resource of the NAD (k8s.v1.cni.cncf.io/resourceName). */
  resourceName?: string;
}

const CONF_EXT = /\.(conf|conflist|json)$/;

export function loadConfFile(path: string, fallbackName?: string): NetworkConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CniError(ErrorCode.InvalidConfig, `cannot load CNI config ${path}: ${(e as Error).message}`);
  }
  return parseNetworkConfig(raw, path, fallbackName);
}

/** CNI config files of a directory in lexical order (libcni's order). */
export function confFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => CONF_EXT.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** The config in `dir` whose "name" is `name`; unparsable files are skipped (they may belong to others). */
export function findConfByName(dir: string, name: string): NetworkConfig | undefined {
  for (const file of confFiles(dir)) {
    try {
      const raw = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown };
      if (raw.name === name) return parseNetworkConfig(raw, file);
    } catch {
      continue;
    }
  }
  return undefined;
}

function nadToNetwork(nad: NadObject, confDir: string): ResolvedNetwork {
  const { name, namespace } = nad.metadata;
  const id = `${namespace}/${name}`;
  const text = nad.spec?.config?.trim();
  let net: NetworkConfig | undefined;
  if (!text || text === '{}') {
    net = findConfByName(confDir, name);
    if (!net) throw new CniError(ErrorCode.InvalidConfig, `NetworkAttachmentDefinition ${id} has no spec.config and no CNI config named "${name}" exists in ${confDir}`);
  } else {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new CniError(ErrorCode.InvalidConfig, `NetworkAttachmentDefinition ${id}: spec.config is not valid JSON: ${(e as Error).message}`);
    }
    net = parseNetworkConfig(raw, `NetworkAttachmentDefinition ${id}`, name);
  }
  const resourceName = nad.metadata.annotations?.[RESOURCE_NAME_ANNOTATION];
  return { id, net, ...(resourceName ? { resourceName } : {}) };
}

/** A NAD requested by a pod; missing is an error naming it. */
export async function resolveNad(client: ApiCaller | undefined, confDir: string, ns: string, name: string): Promise<ResolvedNetwork> {
  if (!client) throw new CniError(ErrorCode.InvalidConfig, `network ${ns}/${name} requested but no Kubernetes API access is configured (kubeconfig)`);
  const nad = await getNad(client, ns, name);
  if (!nad) throw new CniError(ErrorCode.InvalidConfig, `NetworkAttachmentDefinition ${ns}/${name} not found`);
  return nadToNetwork(nad, confDir);
}

/**
 * clusterNetwork / defaultNetworks entries: a NAD in multusNamespace, else a config in confDir with that
 * name, else a directory (its first config file), else a file path.
 */
export async function resolveNetworkRef(ref: string, client: ApiCaller | undefined, multusNamespace: string, confDir: string): Promise<ResolvedNetwork> {
  const looksLikeName = !ref.includes('/') || /^[a-z0-9-]+\/[a-z0-9.-]+$/.test(ref);
  if (client && looksLikeName && !ref.startsWith('/')) {
    const [ns, name] = ref.includes('/') ? (ref.split('/') as [string, string]) : [multusNamespace, ref];
    const nad = await getNad(client, ns, name);
    if (nad) return nadToNetwork(nad, confDir);
  }
  const byName = findConfByName(confDir, ref);
  if (byName) return { id: byName.name, net: byName };
  let st;
  try {
    st = statSync(ref);
  } catch {
    throw new CniError(ErrorCode.InvalidConfig, `network "${ref}" not found: no NetworkAttachmentDefinition in ${multusNamespace}, no config named "${ref}" in ${confDir}, and no such file or directory`);
  }
  if (st.isDirectory()) {
    const first = confFiles(ref)[0];
    if (!first) throw new CniError(ErrorCode.InvalidConfig, `network "${ref}": directory contains no CNI config file`);
    const net = loadConfFile(first);
    return { id: net.name, net };
  }
  const net = loadConfFile(ref);
  return { id: net.name, net };
}
