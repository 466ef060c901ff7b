// The Multus config the daemon writes for the runtime (upstream's daemon does the same): with
// `multusConfigFile: "auto"`, 00-multus.conf(list) of type "multus-shim" around the first CNI config of
// multusAutoconfigDir; with a path, that file copied into cniConfigDir.
import { copyFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findMasterConfig, hostPath, MULTUS_NETWORK_NAME } from '../install/install.ts';
import { DaemonConfigError, type DaemonConfig } from './config.ts';

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
  const cniVersion = dc.cniVersion ?? master.cniVersion;
  const plugin = {
    type: 'multus-shim',
    ...(Object.keys(master.capabilities).length ? { capabilities: master.capabilities } : {}),
    clusterNetwork: join(hostPath(dc.multusAutoconfigDir), basename(master.file)),
    daemonSocketDir: dc.socketDir,
    ...(dc.logLevel ? { logLevel: dc.logLevel } : {}),
  };
  const list = Number(cniVersion.split('.')[0]) >= 1;
  const fileName = list ? '00-multus.conflist' : '00-multus.conf';
  const content = list ? { cniVersion, name: MULTUS_NETWORK_NAME, plugins: [plugin] } : { cniVersion, name: MULTUS_NETWORK_NAME, ...plugin };
  const dest = join(dc.cniConfigDir, fileName);
  // The other extension may be left from a config of another cniVersion; it would shadow this one.
  rmSync(join(dc.cniConfigDir, list ? '00-multus.conf' : '00-multus.conflist'), { force: true });
  writeFileSync(`${dest}.tmp`, JSON.stringify(content, null, 2) + '\n', { mode: 0o644 });
  renameSync(`${dest}.tmp`, dest);
  return dest;
}
