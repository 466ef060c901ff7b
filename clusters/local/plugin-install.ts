// Installs the plugin under test on a node with its own installer (contract B), run on the node as
// upstream's thin-plugin entrypoint runs in the DaemonSet: auto-generated config from the default
// network, JSON log at /var/log/multus/multus.log.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PluginUnderTest } from '../provider.ts';
import { pathWithNode } from './libcni.ts';
import { execOnNode } from './node-host.ts';

export const INSTALLER = fileURLToPath(new URL('../../plugin/dist/multus-install', import.meta.url));

export async function installPlugin(opts: {
  holderPid: number;
  plugin: PluginUnderTest;
  apiHost: string;
  apiPort: number;
  serviceAccountDir: string;
}): Promise<void> {
  if (!existsSync(INSTALLER)) throw new Error(`plugin installer ${INSTALLER} is missing: run \`npm run build\` first`);
  if (opts.plugin.kind === 'thick') throw new Error('the thick plugin is not installable on the local provider yet');
  if (opts.plugin.kind === 'thin' && !existsSync(opts.plugin.path)) throw new Error(`plugin under test ${opts.plugin.path} does not exist`);
  const argv = [
    process.execPath,
    INSTALLER,
    '--multus-conf-file=auto',
    '--multus-log-file=/var/log/multus/multus.log',
    '--multus-log-level=verbose',
    '--cni-conf-dir=/etc/cni/net.d',
    '--cni-bin-dir=/opt/cni/bin',
    `--service-account-dir=${opts.serviceAccountDir}`,
    ...(opts.plugin.kind === 'thin' ? [`--multus-binary=${opts.plugin.path}`] : []),
  ];
  const r = await execOnNode(opts.holderPid, argv, {
    env: { ...process.env, PATH: pathWithNode(), KUBERNETES_SERVICE_HOST: opts.apiHost, KUBERNETES_SERVICE_PORT: String(opts.apiPort) },
    timeoutMs: 60_000,
  });
  if (r.code !== 0) throw new Error(`plugin installer failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
}
