// The Multus config the daemon writes for the runtime, as upstream's daemon does (pkg/server/config
// at v4.2.2): with `multusConfigFile: "auto"`, cniConfigDir/00-multus.conf — the daemon config's
// Multus keys, type "multus-shim", name "multus-cni-network", "clusterNetwork" naming the first CNI
// config of multusAutoconfigDir and its capabilities; with a path, that file copied into cniConfigDir.
import { copyFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findMasterConfig, hostPath, MULTUS_NETWORK_NAME } from '../install/install.ts';
import { DaemonConfigError, type DaemonConfig } from './config.ts';

/** The keys of upstream's generated config (MultusConf) that come from the daemon config as they are. */
const COPIED_KEYS = ['cniVersion', 'type', 'binDir', 'cniDir', 'logFile', 'logLevel', 'logToStderr', 'logOptions', 'namespaceIsolation', 'globalNamespaces', 'auxiliaryCNIChainName', 'daemonSocketDir', 'overrideNetworkName'];

export const GENERATED_FILE = '00-multus.conf';

/** Writes the config; returns its path, or undefined when multusAutoconfigDir has no primary network yet. */
export function writeMultusConfig(dc: DaemonConfig): string | undefined {
  if (!dc.multusConfigFile) return undefined;
  if (dc.multusConfigFile !== 'auto') {
    const dest = join(dc.cniConfigDir, basename(dc.multusConfigFile));
    try {
      copyFileSync(dc.multusConfigFile, `${dest}.tmp`);
    } catch (e) {
      throw new DaemonConfigError(`multusConfigFile ${dc.multusConfigFile} cannot be copied to ${dc.cniConfigDir}: ${(e as Error).message}`);
    }
    renameSync(`${dest}.tmp`, dest);
    return dest;
  }
  const master = findMasterConfig(dc.multusAutoconfigDir, readdirSync);
  if (!master) return undefined;
  const copied = Object.fromEntries(COPIED_KEYS.filter((k) => dc.overrides[k] !== undefined).map((k) => [k, dc.overrides[k]]));
  const own = dc.overrides['capabilities'];
  const capabilities = { ...(own && typeof own === 'object' && !Array.isArray(own) ? own : {}), ...master.capabilities };
  const content = {
    cniVersion: master.cniVersion,
    type: 'multus-shim',
    ...copied,
    name: MULTUS_NETWORK_NAME,
    ...(Object.keys(capabilities).length ? { capabilities } : {}),
    clusterNetwork: join(hostPath(dc.multusAutoconfigDir), basename(master.file)),
    // The shim must find the socket even when the daemon config does not spell it for the shim.
    daemonSocketDir: copied['daemonSocketDir'] ?? dc.socketDir,
  };
  const dest = join(dc.cniConfigDir, GENERATED_FILE);
  writeFileSync(`${dest}.tmp`, JSON.stringify(content) + '\n', { mode: 0o644 });
  renameSync(`${dest}.tmp`, dest);
  return dest;
}
