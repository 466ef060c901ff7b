// What the kind provider can be told beyond ClusterOptions: the CLI flags --kind-image and
// --plugin-image, the primary network, and host paths. The CLI passes them to createKindProvider();
// the default kindProvider reads the same settings from MULTUS_E2E_KIND_* environment variables.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The cluster's default (primary) network: kind's own kindnet, a bridge we configure, or a user manifest. */
export type PrimaryNetwork = { kind: 'kindnet' } | { kind: 'bridge' } | { kind: 'manifest'; path: string };

export interface KindSettings {
  /** kindest/node image (`kind create cluster --image`); kind's default when absent. */
  image?: string;
  primary: PrimaryNetwork;
  /** An upstream Multus (thin) image to install instead of the bundled plugin; side-loaded with `kind load`. */
  pluginImage?: string;
  /** Image of the bundled installer's DaemonSet: needs only sh, cp, mkdir, grep and chroot. */
  installerImage: string;
  /** Subnet of the docker network that gives every worker its eth1 (macvlan/ipvlan master). */
  eth1Subnet: string;
  /** Node.js executable copied into the nodes to run the bundled plugin (kindest/node has no Node.js). */
  nodeBinary: string;
  /** Static busybox copied into the nodes for pod-side tools they lack (ping); none when absent. */
  busybox?: string;
  /** Reference CNI plugins copied into the nodes where the node image lacks them. */
  referencePluginsDir: string;
  /** Repository root: plugin/dist and fixtures/crds are found under it. */
  repoRoot: string;
  /** Where `kind export logs` writes when create fails; default <workDir>/kind-logs. */
  failureLogsDir?: string;
  /** Leave a cluster that failed to come up in place for debugging instead of deleting it. */
  keepOnFailure: boolean;
  /** Environment of every kind/docker/kubectl call (PATH decides which binaries run). */
  env: NodeJS.ProcessEnv;
}

export const DEFAULT_INSTALLER_IMAGE = 'busybox:1.36';
export const DEFAULT_ETH1_SUBNET = '198.18.252.0/24';

export function defaultKindSettings(env: NodeJS.ProcessEnv = process.env): KindSettings {
  return {
    primary: { kind: 'kindnet' },
    installerImage: DEFAULT_INSTALLER_IMAGE,
    eth1Subnet: DEFAULT_ETH1_SUBNET,
    nodeBinary: process.execPath,
    referencePluginsDir: '/usr/lib/cni',
    // Debian's busybox-static; a dynamically linked busybox would not start in every node image.
    busybox: existsSync('/bin/busybox') ? '/bin/busybox' : undefined,
    repoRoot: fileURLToPath(new URL('../../', import.meta.url)),
    keepOnFailure: false,
    env,
  };
}

/** Parses `kindnet`, `bridge` or `manifest:PATH`. */
export function parsePrimaryNetwork(value: string): PrimaryNetwork {
  if (value === 'kindnet' || value === 'bridge') return { kind: value };
  if (value.startsWith('manifest:') && value.length > 'manifest:'.length) {
    return { kind: 'manifest', path: value.slice('manifest:'.length) };
  }
  throw new Error(`unknown primary network "${value}" for the kind provider: use kindnet, bridge or manifest:PATH`);
}

/** The primary network as parsePrimaryNetwork() reads it back. */
export function primaryNetworkLabel(primary: PrimaryNetwork): string {
  return primary.kind === 'manifest' ? `manifest:${primary.path}` : primary.kind;
}

/**
 * Settings from MULTUS_E2E_KIND_IMAGE, _PRIMARY, _INSTALLER_IMAGE, _ETH1_SUBNET, _NODE_BINARY,
 * _CNI_PLUGINS_DIR, _BUSYBOX, _FAILURE_LOGS_DIR, _KEEP_ON_FAILURE and MULTUS_E2E_PLUGIN_IMAGE.
 */
export function kindSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): KindSettings {
  const settings = defaultKindSettings(env);
  if (env.MULTUS_E2E_KIND_IMAGE) settings.image = env.MULTUS_E2E_KIND_IMAGE;
  if (env.MULTUS_E2E_KIND_PRIMARY) settings.primary = parsePrimaryNetwork(env.MULTUS_E2E_KIND_PRIMARY);
  if (env.MULTUS_E2E_PLUGIN_IMAGE) settings.pluginImage = env.MULTUS_E2E_PLUGIN_IMAGE;
  if (env.MULTUS_E2E_KIND_INSTALLER_IMAGE) settings.installerImage = env.MULTUS_E2E_KIND_INSTALLER_IMAGE;
  if (env.MULTUS_E2E_KIND_ETH1_SUBNET) settings.eth1Subnet = env.MULTUS_E2E_KIND_ETH1_SUBNET;
  if (env.MULTUS_E2E_KIND_NODE_BINARY) settings.nodeBinary = env.MULTUS_E2E_KIND_NODE_BINARY;
  if (env.MULTUS_E2E_KIND_FAILURE_LOGS_DIR) settings.failureLogsDir = env.MULTUS_E2E_KIND_FAILURE_LOGS_DIR;
  if (env.MULTUS_E2E_KIND_BUSYBOX) settings.busybox = env.MULTUS_E2E_KIND_BUSYBOX;
  if (env.MULTUS_E2E_KIND_CNI_PLUGINS_DIR) settings.referencePluginsDir = env.MULTUS_E2E_KIND_CNI_PLUGINS_DIR;
  settings.keepOnFailure = env.MULTUS_E2E_KIND_KEEP_ON_FAILURE === '1';
  return settings;
}

/** kind names its node containers after the cluster and Docker/DNS rules apply to them. */
export function validateClusterName(name: string): void {
  if (!/^[a-z0-9]([a-z0-9.-]{0,48}[a-z0-9])?$/.test(name)) {
    throw new Error(
      `invalid kind cluster name "${name}": use 1-50 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit`,
    );
  }
}
