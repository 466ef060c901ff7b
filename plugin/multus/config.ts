// The Multus configuration (stdin of every call): upstream keys, defaults, hand-written validation
// (no schema library: this runs on every pod start).
import { CniError, ErrorCode } from '../cni/errors.ts';
import { isJsonObject, type JsonObject } from '../cni/netconf.ts';
import { IMPLICIT_VERSION, assertSupported } from '../cni/version.ts';

export type LogLevel = 'panic' | 'error' | 'verbose' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['panic', 'error', 'verbose', 'debug'];

export interface MultusConfig {
  cniVersion: string;
  name: string;
  clusterNetwork?: string;
  /** Inline delegate configs (upstream "delegates"); the first is the cluster network. */
  delegates?: JsonObject[];
  defaultNetworks: string[];
  kubeconfig?: string;
  confDir: string;
  cniDir: string;
  binDir: string;
  systemNamespaces: string[];
  multusNamespace: string;
  namespaceIsolation: boolean;
  globalNamespaces: string[];
  readinessIndicatorFile?: string;
  logFile?: string;
  logLevel: LogLevel;
  logToStderr: boolean;
  retryDeleteOnError: boolean;
  capabilities: Record<string, boolean>;
  runtimeConfig: JsonObject;
  kubeletCheckpointFile: string;
  /** Ours: how long one Kubernetes API request may wait for its answer, s. */
  apiTimeoutSeconds: number;
}

export const DEFAULTS = {
  confDir: '/etc/cni/multus/net.d',
  cniDir: '/var/lib/cni/multus',
  binDir: '/opt/cni/bin',
  multusNamespace: 'kube-system',
  systemNamespaces: ['kube-system'],
  kubeletCheckpointFile: '/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint',
  logLevel: 'error' as LogLevel,
  // Upstream's client allows a minute per request, but a CNI call makes several and the runtime gives the
  // whole call about two; a slow API server (a starved node) answers within seconds, not tens of them.
  apiTimeoutSeconds: 30,
};

function invalid(key: string, want: string): never {
  throw new CniError(ErrorCode.InvalidConfig, `multus config: "${key}" must be ${want}`);
}

function optString(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') invalid(key, 'a string');
  return v;
}

function optBool(o: JsonObject, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') invalid(key, 'true or false');
  return v;
}

/** A number of seconds in (0, max]; fractions allowed. */
function optSeconds(o: JsonObject, key: string, fallback: number, max: number): number {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !(v > 0 && v <= max)) invalid(key, `a number of seconds above 0 and at most ${max}`);
  return v;
}

function stringList(o: JsonObject, key: string, fallback: string[], allowCommaString = false): string[] {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  // Upstream takes globalNamespaces as "a,b" and systemNamespaces as a list; accept both forms for both.
  if (typeof v === 'string' && allowCommaString) return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)) invalid(key, allowCommaString ? 'a list of strings or a comma-separated string' : 'a list of strings');
  return v as string[];
}

export function parseConfigBytes(stdin: string): JsonObject {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, 'failed to decode network configuration from stdin', (e as Error).message);
  }
  if (!isJsonObject(raw)) throw new CniError(ErrorCode.DecodeFailure, 'network configuration on stdin must be a JSON object');
  return raw;
}

export function loadConfig(raw: JsonObject): MultusConfig {
  const cniVersion = optString(raw, 'cniVersion') ?? IMPLICIT_VERSION;
  assertSupported(cniVersion, 'multus config');
  const name = optString(raw, 'name') ?? 'multus-cni-network';
  const clusterNetwork = optString(raw, 'clusterNetwork');
  let delegates: JsonObject[] | undefined;
  if (raw['delegates'] !== undefined && raw['delegates'] !== null) {
    const d = raw['delegates'];
    if (!Array.isArray(d) || d.length === 0 || !d.every(isJsonObject)) invalid('delegates', 'a non-empty list of CNI configs');
    delegates = d as JsonObject[];
  }
  if (!clusterNetwork && !delegates) {
    throw new CniError(ErrorCode.InvalidConfig, 'multus config: one of "clusterNetwork" or "delegates" is required');
  }
  const logLevelRaw = optString(raw, 'logLevel');
  if (logLevelRaw !== undefined && !LOG_LEVELS.includes(logLevelRaw.toLowerCase() as LogLevel)) invalid('logLevel', `one of ${LOG_LEVELS.join(', ')}`);
  const caps = raw['capabilities'] ?? {};
  if (!isJsonObject(caps) || Object.values(caps).some((v) => typeof v !== 'boolean')) invalid('capabilities', 'an object of booleans');
  const runtimeConfig = raw['runtimeConfig'] ?? {};
  if (!isJsonObject(runtimeConfig)) invalid('runtimeConfig', 'an object');
  return {
    cniVersion,
    name,
    ...(clusterNetwork ? { clusterNetwork } : {}),
    ...(delegates ? { delegates } : {}),
    defaultNetworks: stringList(raw, 'defaultNetworks', []),
    ...(optString(raw, 'kubeconfig') ? { kubeconfig: optString(raw, 'kubeconfig') } : {}),
    confDir: optString(raw, 'confDir') ?? DEFAULTS.confDir,
    cniDir: optString(raw, 'cniDir') ?? DEFAULTS.cniDir,
    binDir: optString(raw, 'binDir') ?? DEFAULTS.binDir,
    systemNamespaces: stringList(raw, 'systemNamespaces', DEFAULTS.systemNamespaces, true),
    multusNamespace: optString(raw, 'multusNamespace') ?? DEFAULTS.multusNamespace,
    namespaceIsolation: optBool(raw, 'namespaceIsolation'),
    globalNamespaces: stringList(raw, 'globalNamespaces', [], true),
    ...(optString(raw, 'readinessindicatorfile') ? { readinessIndicatorFile: optString(raw, 'readinessindicatorfile') } : {}),
    ...(optString(raw, 'logFile') ? { logFile: optString(raw, 'logFile') } : {}),
    logLevel: (logLevelRaw?.toLowerCase() as LogLevel | undefined) ?? DEFAULTS.logLevel,
    logToStderr: optBool(raw, 'logToStderr'),
    retryDeleteOnError: optBool(raw, 'retryDeleteOnError'),
    capabilities: caps as Record<string, boolean>,
    runtimeConfig,
    kubeletCheckpointFile: optString(raw, 'kubeletCheckpointFile') ?? DEFAULTS.kubeletCheckpointFile,
    apiTimeoutSeconds: optSeconds(raw, 'apiTimeoutSeconds', DEFAULTS.apiTimeoutSeconds, 600),
  };
}

/** Where delegates are looked up: binDir first, then the runtime's CNI_PATH. */
export function delegatePath(conf: MultusConfig, cniPath: string[]): string[] {
  return [...new Set([conf.binDir, ...cniPath])];
}
