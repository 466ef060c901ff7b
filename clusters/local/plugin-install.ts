// Installs the plugin under test on a node as its users install it. A thin plugin (bundled or any
// Multus-compatible binary) goes in with the bundled installer, run on the node as upstream's
// thin-plugin entrypoint runs in the DaemonSet: auto-generated config from the default network in the
// chosen shape, JSON log at /var/log/multus/multus.log. A thick plugin gets upstream's thick
// DaemonSet layout instead (thick-plugin.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MultusConfigShape, PluginUnderTest } from '../provider.ts';
import { NODE_CNI_CONF_DIR, pathWithNode } from './libcni.ts';
import { DEFAULT_NETWORK_FILE, execOnNode } from './node-host.ts';
import type { ProcessRef } from './process-identity.ts';
import { daemonMarker, installThick } from './thick-plugin.ts';

export const INSTALLER = fileURLToPath(new URL('../../plugin/dist/multus-install', import.meta.url));

export interface PluginInstall {
  holderPid: number;
  nodeName: string;
  nodeDir: string;
  plugin: PluginUnderTest;
  multusConfig: MultusConfigShape;
  apiHost: string;
  apiPort: number;
  serviceAccountDir: string;
  /** argv[0] marker for processes the install leaves running on the node (the thick daemon). */
  processMarker: string;
  onMount: (m: { source: string; target: string }) => void;
  onProcess: (ref: ProcessRef) => void;
}

export async function installPlugin(opts: PluginInstall): Promise<void> {
  if (opts.plugin.kind === 'thick') {
    await installThick({
      holderPid: opts.holderPid,
      nodeName: opts.nodeName,
      nodeDir: opts.nodeDir,
      shim: opts.plugin.shim,
      daemon: opts.plugin.daemon,
      primaryConfPath: join(NODE_CNI_CONF_DIR, DEFAULT_NETWORK_FILE),
      api: { host: opts.apiHost, port: opts.apiPort },
      marker: daemonMarker(opts.processMarker, opts.nodeName),
      path: pathWithNode(),
      onMount: opts.onMount,
      onProcess: opts.onProcess,
    });
    return;
  }
  if (!existsSync(INSTALLER)) throw new Error(`plugin installer ${INSTALLER} is missing: run \`npm run build\` first`);
  if (opts.plugin.kind === 'thin' && !existsSync(opts.plugin.path)) throw new Error(`plugin under test ${opts.plugin.path} does not exist`);
  const r = await execOnNode(opts.holderPid, installerArgv(opts.plugin, opts.multusConfig, opts.serviceAccountDir), {
    env: { ...process.env, PATH: pathWithNode(), KUBERNETES_SERVICE_HOST: opts.apiHost, KUBERNETES_SERVICE_PORT: String(opts.apiPort) },
    timeoutMs: 60_000,
  });
  if (r.code !== 0) throw new Error(`plugin installer failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
}

/** The installer's command line on the node for a thin plugin (the bundled one when plugin is bundled). */
export function installerArgv(plugin: Exclude<PluginUnderTest, { kind: 'thick' }>, shape: MultusConfigShape, serviceAccountDir: string): string[] {
  return [
    process.execPath,
    INSTALLER,
    '--multus-conf-file=auto',
    `--multus-config-shape=${shape}`,
    '--multus-log-file=/var/log/multus/multus.log',
    '--multus-log-level=verbose',
    `--cni-conf-dir=${NODE_CNI_CONF_DIR}`,
    '--cni-bin-dir=/opt/cni/bin',
    `--service-account-dir=${serviceAccountDir}`,
    ...(plugin.kind === 'thin' ? [`--multus-binary=${plugin.path}`] : []),
  ];
}
