// multus-daemon (bundled, thick mode): serves CNI calls from the shim over a unix socket with the same
// Multus logic as the thin plugin (call.ts → multus/run.ts), plus what a long-lived process allows:
// one warm API connection, watch-fed caches of this node's pods and of NADs, a health endpoint.
// State lives on disk (the per-container cache in cniDir), so a restarted daemon DELs what an earlier
// one attached, and DEL works from that cache while the API is down.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CniError } from '../cni/errors.ts';
import { DEFAULT_TIMING, KubeClient } from '../k8s/client.ts';
import { inClusterAccess, loadKubeconfig, type KubeAccess } from '../k8s/kubeconfig.ts';
import { Logger } from '../multus/log.ts';
import { writeMultusConfig } from './autoconfig.ts';
import { DaemonConfigError, DEFAULT_CONFIG_FILE, loadDaemonConfig, SOCKET_NAME, type DaemonConfig } from './config.ts';
import { createDaemonServer } from './server.ts';
import { CachingApi, WatchedCollection } from './watch-cache.ts';

const USAGE = `usage: multus-daemon [--config FILE]

Serves the bundled Multus plugin's CNI calls on <socketDir>/multus.sock for the shim (multus-shim).
  --config FILE   daemon config, upstream's daemon-config.json keys (default ${DEFAULT_CONFIG_FILE})
Environment: MULTUS_NODE_NAME (cache this node's pods from a watch), KUBERNETES_SERVICE_HOST/PORT
(in-cluster API access with the token and ca.crt of "serviceAccountDir").`;

const nodeName = process.env['MULTUS_NODE_NAME'] || undefined;

function apiAccess(dc: DaemonConfig): KubeAccess | undefined {
  return dc.kubeconfig ? loadKubeconfig(dc.kubeconfig) : inClusterAccess(process.env, dc.serviceAccountDir);
}

/** Write the Multus config for the runtime; with "auto", retried until the primary network's config appears. */
function startConfigWriter(dc: DaemonConfig, log: Logger): NodeJS.Timeout | undefined {
  const attempt = (): boolean => {
    const written = writeMultusConfig(dc);
    if (written) log.verbose('wrote multus config', { path: written });
    return written !== undefined;
  };
  if (attempt()) return undefined;
  log.error('multusConfigFile "auto": no primary network config yet; waiting for one', { dir: dc.multusAutoconfigDir });
  const timer = setInterval(() => {
    if (attempt()) clearInterval(timer);
  }, 1000);
  return timer;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const configFile = values.config ?? DEFAULT_CONFIG_FILE;
  const dc = loadDaemonConfig(configFile);
  const log = new Logger(dc, { component: 'multus-daemon' });
  if (dc.chrootDir) log.error('chrootDir is not supported: delegates run in the daemon\'s own mount namespace (run the daemon in the node\'s)', { chrootDir: dc.chrootDir });

  const access = apiAccess(dc);
  let api: CachingApi | undefined;
  const collections: WatchedCollection[] = [];
  let client: KubeClient | undefined;
  if (access) {
    // A few sockets: calls for different pods run in parallel.
    client = new KubeClient(access, { ...DEFAULT_TIMING, requestTimeoutMs: dc.apiTimeoutSeconds * 1000 }, 4);
    const nads = new WatchedCollection('network-attachment-definitions', '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions', access, client, log);
    const pods = nodeName ? new WatchedCollection(`pods on ${nodeName}`, `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`, access, client, log) : undefined;
    collections.push(nads, ...(pods ? [pods] : []));
    for (const c of collections) c.start();
    api = new CachingApi(client, pods, nads);
  } else {
    log.error('no API access (neither "kubeconfig" in the daemon config nor KUBERNETES_SERVICE_HOST/PORT): only networks from config files can be attached');
  }
  const startedAt = Date.now();

  const server = createDaemonServer({
    services: { overrides: dc.overrides, connectKube: () => Promise.resolve(api), log },
    log,
    health: () => ({
      ok: true,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      node: nodeName ?? null,
      apiServer: access?.server ?? null,
      watches: Object.fromEntries(collections.map((c) => [c.label, { synced: c.synced, objects: c.size, ...(c.lastError ? { lastError: c.lastError } : {}) }])),
      cacheReads: api ? { hits: api.hits, misses: api.misses } : null,
      // Connections the calls' client opened: more than a handful means keep-alive is not holding.
      apiConnections: client ? { opened: client.connections, ms: Math.round(client.connectMs) } : null,
      rssBytes: process.memoryUsage.rss(),
    }),
  });

  mkdirSync(dc.socketDir, { recursive: true, mode: 0o700 });
  const socket = join(dc.socketDir, SOCKET_NAME);
  // A socket file left by a daemon that was killed would make listen fail with EADDRINUSE.
  rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  chmodSync(socket, 0o600);
  log.verbose('listening', { socket, config: configFile, node: nodeName ?? null, apiServer: access?.server ?? null });
  // The verbs' code is loaded now rather than by the first call.
  await Promise.all([import('../multus/add.ts'), import('../multus/del.ts'), import('../multus/check.ts'), import('../multus/status.ts'), import('../multus/gc.ts')]);
  const configWriter = dc.multusConfigFile ? startConfigWriter(dc, log) : undefined;

  const stop = (signal: string) => {
    log.verbose('stopping', { signal, callsInFlight: server.inFlight() });
    for (const c of collections) c.stop();
    if (configWriter) clearInterval(configWriter);
    // Calls in flight finish (their answers are written) before the process ends; idle keep-alive
    // connections (upstream's shim may hold one) must not keep it waiting.
    server.closeIdleConnections();
    server.close(() => {
      client?.close();
      rmSync(socket, { force: true });
      log.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  const msg = e instanceof DaemonConfigError || e instanceof CniError ? e.message : (e as Error).stack ?? String(e);
  process.stderr.write(`multus-daemon: ${msg}\n`);
  process.exit(1);
});
