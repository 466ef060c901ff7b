// Every host-visible name a local cluster uses (netns, links, process markers) derives from the
// cluster name here, so destroy() and leftovers() can find them even without state.json.
import { createHash } from 'node:crypto';

const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

export function validateClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name)) {
    throw new Error(`cluster name "${name}" is invalid: use 1-40 lowercase letters, digits and '-', starting and ending with a letter or digit`);
  }
}

/** Matches the netns of any local cluster on this host (see clusterPrefix). */
export const ANY_CLUSTER_NETNS = /^me2e[0-9a-f]{6}-/;

/** `me2e` + 6 hex chars of the name's hash: the prefix of every netns/link/marker of the cluster. */
export function clusterPrefix(name: string): string {
  return `me2e${createHash('sha256').update(name).digest('hex').slice(0, 6)}`;
}

export interface ClusterNames {
  prefix: string;
  fabricNetns: string;
  /** argv[0] marker of the daemon and holder processes, so leftovers() can find them by name. */
  processMarker: string;
}

export function clusterNames(name: string): ClusterNames {
  const prefix = clusterPrefix(name);
  return { prefix, fabricNetns: `${prefix}-fabric`, processMarker: `${prefix}-proc` };
}

export function nodeName(index: number): string {
  return `node-${index}`;
}

export function nodeNetns(prefix: string, node: string): string {
  return `${prefix}-${node}`;
}

export function podNetns(prefix: string, podUid: string): string {
  return `${prefix}-pod-${podUid.replace(/-/g, '').slice(0, 16)}`;
}

/** Fabric-side veth ends (≤15 chars): `a` = eth0 fabric, `b` = eth1 fabric. */
export function fabricPort(prefix: string, fabric: 'a' | 'b', index: number): string {
  const port = `${prefix}${fabric}${index}`;
  if (port.length > 15) throw new Error(`link name ${port} exceeds 15 characters (too many nodes?)`);
  return port;
}

export const FABRIC_HOST_IP = '198.18.0.1';

export function nodeFabricIp(index: number): string {
  return `198.18.0.${10 + index}`;
}

export function nodePodCidr(index: number): string {
  return `198.19.${index}.0/24`;
}
