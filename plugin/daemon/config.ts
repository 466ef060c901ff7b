// The daemon's configuration file: upstream Multus' daemon-config.json keys (deployments/
// multus-daemonset-thick.yml, pkg/server/types.go at v4.2.2), so one file configures either daemon.
// As upstream, every key of the file is also set over the Multus config of each call (confDir,
// cniDir, binDir, logLevel, namespaceIsolation, …).
import { readFileSync } from 'node:fs';
import { isJsonObject, type JsonObject } from '../cni/netconf.ts';
import { SERVICE_ACCOUNT_DIR } from '../k8s/kubeconfig.ts';
import { DEFAULTS, LOG_LEVELS, type LogLevel } from '../multus/config.ts';

export const DEFAULT_CONFIG_FILE = '/etc/cni/net.d/multus.d/daemon-config.json';
export const DEFAULT_SOCKET_DIR = '/run/multus';
export const SOCKET_NAME = 'multus.sock';

export interface DaemonConfig {
  /** Directory of the unix socket `multus.sock` (upstream `socketDir`; the shim's `daemonSocketDir`). */
  socketDir: string;
  /** Where the generated (`multusConfigFile: "auto"`) or copied Multus config is written. */
  cniConfigDir: string;
  /** Where the primary network's config is looked for when generating (default: cniConfigDir). */
  multusAutoconfigDir: string;
  /** `auto`, a file to copy into cniConfigDir, or undefined: someone else writes the config. */
  multusConfigFile?: string;
  /** cniVersion of a generated config (default: the primary network's). */
  cniVersion?: string;
  logFile?: string;
  logLevel: LogLevel;
  logToStderr: boolean;
  /** Ours: a kubeconfig for the daemon's own API access; without it, the in-cluster service account. */
  kubeconfig?: string;
  /** Ours, as the thin plugin's key: how long one API request of the daemon may wait for its answer, s. */
  apiTimeoutSeconds: number;
  /** Ours: where the in-cluster token and ca.crt are (default upstream's fixed path). */
  serviceAccountDir: string;
  /** Upstream's `chrootDir` (exec delegates in the host root) has no meaning here; noted at start-up. */
  chrootDir?: string;
  /** Every key of the file, set over each call's Multus config. */
  overrides: JsonObject;
}

export class DaemonConfigError extends Error {}

function str(o: JsonObject, key: string, file: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new DaemonConfigError(`${file}: "${key}" must be a string`);
  return v;
}

export function parseDaemonConfig(text: string, file: string): DaemonConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DaemonConfigError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isJsonObject(raw)) throw new DaemonConfigError(`${file} must hold a JSON object`);
  const level = (str(raw, 'logLevel', file) ?? 'error').toLowerCase();
  if (!LOG_LEVELS.includes(level as LogLevel)) throw new DaemonConfigError(`${file}: "logLevel" must be one of ${LOG_LEVELS.join(', ')}`);
  if (raw['logToStderr'] !== undefined && typeof raw['logToStderr'] !== 'boolean') throw new DaemonConfigError(`${file}: "logToStderr" must be true or false`);
  const apiTimeout = raw['apiTimeoutSeconds'] ?? DEFAULTS.apiTimeoutSeconds;
  if (typeof apiTimeout !== 'number' || !(apiTimeout > 0 && apiTimeout <= 600)) throw new DaemonConfigError(`${file}: "apiTimeoutSeconds" must be a number of seconds above 0 and at most 600`);
  const cniConfigDir = str(raw, 'cniConfigDir', file) ?? '/etc/cni/net.d';
  const optional = {
    multusConfigFile: str(raw, 'multusConfigFile', file),
    cniVersion: str(raw, 'cniVersion', file),
    logFile: str(raw, 'logFile', file),
    kubeconfig: str(raw, 'kubeconfig', file),
    chrootDir: str(raw, 'chrootDir', file),
  };
  return {
    socketDir: (str(raw, 'socketDir', file) ?? DEFAULT_SOCKET_DIR).replace(/(.)\/+$/, '$1'),
    cniConfigDir,
    multusAutoconfigDir: str(raw, 'multusAutoconfigDir', file) ?? cniConfigDir,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    logLevel: level as LogLevel,
    logToStderr: raw['logToStderr'] === true,
    apiTimeoutSeconds: apiTimeout,
    serviceAccountDir: str(raw, 'serviceAccountDir', file) ?? SERVICE_ACCOUNT_DIR,
    overrides: raw,
  };
}

export function loadDaemonConfig(file: string): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DaemonConfigError(`cannot read daemon config ${file}: ${(e as Error).message}`);
  }
  return parseDaemonConfig(text, file);
}
