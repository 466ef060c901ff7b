// What create() hands the cluster daemon (workDir/options.json), and the ClusterOptions extension
// the local provider accepts.
import type { ClusterOptions, MultusConfigShape, PluginUnderTest } from '../provider.ts';
import { resolveContainerControlPlane, type ContainerControlPlane } from './container-control-plane.ts';
import { resolveControlPlane, type ControlPlaneBinaries } from './real-control-plane.ts';

export interface LocalClusterOptions extends ClusterOptions {
  /**
   * Extended resources each node offers, as device IDs: `{ "node-1": { "netdevsim.io/vf": ["0000:00:01.1"] } }`.
   * They become Node capacity, drive scheduling, and are allocated to pods in kubelet's checkpoint file.
   */
  extendedResources?: Record<string, Record<string, string[]>>;
  /**
   * Bring the cluster up with only the default network (no plugin installer run). For testing the
   * provider itself while no plugin build is at hand.
   */
  withoutPlugin?: boolean;
  /**
   * Real control plane instead of the embedded API server: both paths, or neither and a
   * KUBEBUILDER_ASSETS directory (in the environment) holding `kube-apiserver` and `etcd`.
   */
  kubeApiserver?: string;
  etcd?: string;
  /**
   * etcd and kube-apiserver of this Kubernetes version from container images (official ones unless
   * named), on the Docker engine DOCKER_HOST names. Excludes kubeApiserver/etcd.
   */
  controlPlaneImages?: { version: string; apiserverImage?: string; etcdImage?: string };
}

export interface DaemonOptions {
  name: string;
  nodes: number;
  plugin: PluginUnderTest | null;
  multusConfig: MultusConfigShape;
  extendedResources: Record<string, Record<string, string[]>>;
  controlPlane?: ControlPlaneBinaries;
  containerControlPlane?: ContainerControlPlane;
}

export function daemonOptions(o: LocalClusterOptions): DaemonOptions {
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 20) throw new Error(`nodes must be a whole number from 1 to 20, got ${o.nodes}`);
  const extendedResources = o.extendedResources ?? {};
  for (const node of Object.keys(extendedResources)) {
    const m = /^node-(\d+)$/.exec(node);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > o.nodes) throw new Error(`extendedResources names node "${node}", which the cluster does not have (node-1 … node-${o.nodes})`);
  }
  if (o.controlPlaneImages && (o.kubeApiserver || o.etcd)) throw new Error('controlPlaneImages and kubeApiserver/etcd exclude each other: give one control plane');
  const containerControlPlane = o.controlPlaneImages ? resolveContainerControlPlane(o.controlPlaneImages) : undefined;
  // KUBEBUILDER_ASSETS does not apply when the images are asked for.
  const controlPlane = containerControlPlane ? undefined : resolveControlPlane(o, process.env);
  return {
    name: o.name, nodes: o.nodes, plugin: o.withoutPlugin ? null : o.plugin, multusConfig: o.multusConfig ?? 'delegates', extendedResources,
    ...(controlPlane ? { controlPlane } : {}),
    ...(containerControlPlane ? { containerControlPlane } : {}),
  };
}
