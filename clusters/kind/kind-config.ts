// The kind cluster config (kind.x-k8s.io/v1alpha4) the provider creates clusters from.
import { stringify } from 'yaml';

export interface KindConfigOptions {
  /** Worker nodes (schedulable); the control plane comes on top. */
  workers: number;
  /** true when the primary network is not kindnet. */
  disableDefaultCNI: boolean;
}

export interface KindClusterConfig {
  kind: 'Cluster';
  apiVersion: 'kind.x-k8s.io/v1alpha4';
  networking: { disableDefaultCNI?: boolean; podSubnet: string; serviceSubnet: string };
  nodes: { role: 'control-plane' | 'worker' }[];
}

// kind's own defaults, written out so the bridge primary and the routes it needs can rely on them.
export const POD_SUBNET = '10.244.0.0/16';
export const SERVICE_SUBNET = '10.96.0.0/16';

export function kindClusterConfig(opts: KindConfigOptions): KindClusterConfig {
  if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 20) {
    throw new Error(`kind provider: nodes must be an integer from 1 to 20 (worker nodes), got ${opts.workers}`);
  }
  const networking: KindClusterConfig['networking'] = { podSubnet: POD_SUBNET, serviceSubnet: SERVICE_SUBNET };
  if (opts.disableDefaultCNI) networking.disableDefaultCNI = true;
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    networking,
    nodes: [{ role: 'control-plane' }, ...Array.from({ length: opts.workers }, () => ({ role: 'worker' as const }))],
  };
}

export function kindConfigYaml(opts: KindConfigOptions): string {
  return stringify(kindClusterConfig(opts));
}

/** kind's control-plane container (= Kubernetes node) name; workers are NAME-worker, NAME-worker2, … */
export function controlPlaneNodeName(cluster: string): string {
  return `${cluster}-control-plane`;
}
