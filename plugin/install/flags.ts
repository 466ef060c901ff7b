// Installer flags: upstream Multus thin-entrypoint names, "--flag=value" or "--flag value", plus
// --multus-config-shape (ours: which of the two upstream config shapes `auto` generates) and --thick,
// --daemon-socket-dir (ours: install the bundled plugin's thick mode).
import { dirname, join } from 'node:path';

/**
 * `delegates`: the cluster network's config inline under "delegates", as upstream's
 * --multus-conf-file=auto writes it; `cluster-network-file`: "clusterNetwork" names that config's path.
 */
export type MultusConfigShape = 'delegates' | 'cluster-network-file';
const SHAPES: readonly MultusConfigShape[] = ['delegates', 'cluster-network-file'];

export interface InstallOptions {
  cniConfDir: string;
  cniBinDir: string;
  multusConfFile: string;
  multusConfigShape: MultusConfigShape;
  multusKubeconfigFileHost: string;
  multusLogLevel?: string;
  multusLogFile?: string;
  namespaceIsolation: boolean;
  globalNamespaces?: string;
  readinessIndicatorFile?: string;
  cleanupConfigOnExit: boolean;
  skipMultusBinaryCopy: boolean;
  multusBinary: string;
  serviceAccountDir: string;
  cniVersion?: string;
  waitForDefaultNetworkSeconds: number;
  /** Ours: install the thick mode — the shim as the CNI binary and daemon-config.json for multus-daemon. */
  thick: boolean;
  /** Ours, with --thick: the daemon's socket dir (upstream's default /run/multus). */
  daemonSocketDir: string;
}

const BOOLEAN = new Set(['namespace-isolation', 'cleanup-config-on-exit', 'skip-multus-binary-copy', 'thick']);
const VALUED = new Set([
  'cni-conf-dir',
  'cni-bin-dir',
  'multus-conf-file',
  'multus-config-shape',
  'multus-kubeconfig-file-host',
  'multus-log-level',
  'multus-log-file',
  'global-namespaces',
  'readiness-indicator-file',
  'multus-binary',
  'service-account-dir',
  'cni-version',
  'wait-for-default-network',
  'daemon-socket-dir',
]);

export class UsageError extends Error {}

export function parseFlags(argv: string[], defaultBinary: string): InstallOptions {
  const v = new Map<string, string>();
  const b = new Map<string, boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (BOOLEAN.has(name)) {
      if (inline !== undefined && !['true', 'false'].includes(inline)) throw new UsageError(`--${name} takes true or false, got "${inline}"`);
      b.set(name, inline === undefined || inline === 'true');
    } else if (VALUED.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      v.set(name, value);
    } else throw new UsageError(`unknown flag --${name}`);
  }
  const wait = Number(v.get('wait-for-default-network') ?? '45');
  if (!Number.isFinite(wait) || wait < 0) throw new UsageError('--wait-for-default-network takes a number of seconds');
  const level = v.get('multus-log-level');
  if (level !== undefined && !['panic', 'error', 'verbose', 'debug'].includes(level)) throw new UsageError(`--multus-log-level must be panic, error, verbose or debug`);
  const shape = v.get('multus-config-shape') ?? 'delegates';
  if (!(SHAPES as readonly string[]).includes(shape)) throw new UsageError(`--multus-config-shape must be ${SHAPES.join(' or ')}, got "${shape}"`);
  const opt = (k: string) => v.get(k) || undefined;
  return {
    cniConfDir: v.get('cni-conf-dir') ?? '/host/etc/cni/net.d',
    cniBinDir: v.get('cni-bin-dir') ?? '/host/opt/cni/bin',
    multusConfFile: v.get('multus-conf-file') ?? 'auto',
    multusConfigShape: shape as MultusConfigShape,
    multusKubeconfigFileHost: v.get('multus-kubeconfig-file-host') ?? '/etc/cni/net.d/multus.d/multus.kubeconfig',
    ...(level ? { multusLogLevel: level } : {}),
    ...(opt('multus-log-file') ? { multusLogFile: opt('multus-log-file') } : {}),
    namespaceIsolation: b.get('namespace-isolation') ?? false,
    ...(opt('global-namespaces') ? { globalNamespaces: opt('global-namespaces') } : {}),
    ...(opt('readiness-indicator-file') ? { readinessIndicatorFile: opt('readiness-indicator-file') } : {}),
    cleanupConfigOnExit: b.get('cleanup-config-on-exit') ?? false,
    skipMultusBinaryCopy: b.get('skip-multus-binary-copy') ?? false,
    // Thick mode installs the shim that sits beside the default plugin binary.
    multusBinary: v.get('multus-binary') ?? (b.get('thick') ? join(dirname(defaultBinary), 'multus-shim') : defaultBinary),
    serviceAccountDir: v.get('service-account-dir') ?? '/var/run/secrets/kubernetes.io/serviceaccount',
    ...(opt('cni-version') ? { cniVersion: opt('cni-version') } : {}),
    waitForDefaultNetworkSeconds: wait,
    thick: b.get('thick') ?? false,
    daemonSocketDir: v.get('daemon-socket-dir') ?? '/run/multus',
  };
}
