// workDir/state.json: everything destroy() needs to clean up a cluster, written as it is created so
// that a crash part-way still leaves a complete inventory.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PluginUnderTest } from '../provider.ts';
import type { ProcessRef } from './process-identity.ts';

export interface NodeState {
  name: string;
  index: number;
  netns: string;
  /** Host path of the node's root of bind-mount sources (workDir/nodes/<node>). */
  dir: string;
  fabricIp: string;
  podCidr: string;
  /** Long-lived process holding the node's private mount namespace. */
  holder?: ProcessRef;
  /** Upstream multus-daemon of a thick plugin under test, running on the node. */
  multusDaemon?: ProcessRef;
  /** Fabric-side veth ends in the fabric netns. */
  links: string[];
  mounts: { source: string; target: string }[];
}

export interface ApiState {
  url: string;
  port: number;
  caFile: string;
  token: string;
  /** Address and port the nodes use over the fabric. */
  fabricHost: string;
}

export interface LocalClusterState {
  name: string;
  prefix: string;
  workDir: string;
  phase: 'starting' | 'ready' | 'failed';
  error?: string;
  createdAt: string;
  plugin: PluginUnderTest | null;
  daemon?: ProcessRef;
  /** etcd and kube-apiserver when a real control plane runs instead of the embedded API server. */
  controlPlane?: ProcessRef[];
  /**
   * Container ids of etcd and kube-apiserver when the control plane runs from images; set (empty)
   * before the first is created, so destroy() also looks for containers carrying the cluster's label.
   */
  containers?: string[];
  fabricNetns: string;
  nodes: NodeState[];
  api?: ApiState;
  kubeconfigPath: string;
  cniCallsPath: string;
  daemonLog: string;
}

export function statePath(workDir: string): string {
  return join(workDir, 'state.json');
}

export function readState(workDir: string): LocalClusterState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(workDir), 'utf8')) as LocalClusterState;
  } catch {
    return undefined;
  }
}

export function writeState(state: LocalClusterState): void {
  const file = statePath(state.workDir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.tmp`, file);
}
