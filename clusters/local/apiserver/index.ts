// Embedded minimal Kubernetes API server: HTTPS with a generated CA, bearer-token
// auth, the real wire format for the resources the harness and the Multus plugin use.

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { isIPv6 } from 'node:net';
import { ensureServingCerts } from './certs.ts';
import { ApiHandler } from './http-handler.ts';

export { kubeconfigYaml } from './kubeconfig.ts';

export interface ApiServerOptions {
  hosts?: string[];        // addresses to listen on, default ['127.0.0.1']
  port?: number;           // 0 = pick a free port (same port on every host)
  certDir: string;         // CA + serving cert are generated here (openssl), reused if present
  sans?: string[];         // extra IPs/DNS names for the serving cert (127.0.0.1, localhost always in)
  token?: string;          // bearer token accepted; generated when absent
  serviceAccountToken?: string; // a second accepted token, the plugin's service account's; generated when absent
  /** One line per served request ("GET /api/v1/pods 200 3ms"), for debugging. */
  requestLog?: (line: string) => void;
}

export interface RunningApiServer {
  url: string;             // https://127.0.0.1:PORT (first host)
  port: number;
  caFile: string;
  caPem: string;
  token: string;
  /**
   * The bearer token of the service account the plugin under test runs as (what its DaemonSet's pods
   * get), apart from `token` (the harness's own) so that it alone can be revoked.
   */
  serviceAccountToken: string;
  /**
   * Makes the API server accept `token` as the service account's instead of the current one, or none
   * (null: the service account's requests get 401). Returns once the API server serves with it.
   */
  setServiceAccountToken?(token: string | null): Promise<void>;
  close(): Promise<void>;
  /** Stops serving (connections refused, watches cut) but keeps every stored object, as an API server outage does. */
  stop?(): Promise<void>;
  /** Serves again on the same port with the same objects, token and certificates. */
  start?(): Promise<void>;
}

function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const hosts = opts.hosts?.length ? opts.hosts : ['127.0.0.1'];
  const token = opts.token ?? randomBytes(24).toString('hex');
  const certs = await ensureServingCerts(opts.certDir, [...hosts.filter((h) => h !== '0.0.0.0' && h !== '::'), ...(opts.sans ?? [])]);
  let port = opts.port ?? 0;
  const handler = new ApiHandler({ token, serverAddress: () => hostPort(hosts[0]!, port), requestLog: opts.requestLog });
  const serviceAccountToken = opts.serviceAccountToken ?? randomBytes(24).toString('hex');
  handler.acceptAlso([serviceAccountToken]);
  let servers: Server[] = [];
  const closeAll = async (): Promise<void> => {
    handler.closeWatches();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    })));
    servers = [];
  };
  const listenAll = async (): Promise<void> => {
    for (const host of hosts) {
      const server = createServer({ key: certs.keyPem, cert: certs.certPem }, (req, res) => handler.handle(req, res));
      // Long-lived watches must not be cut by Node's default request timeout.
      server.requestTimeout = 0;
      server.headersTimeout = 60_000;
      servers.push(server);
      port = await listen(server, host, port);
    }
  };
  try {
    await listenAll();
  } catch (err) {
    await closeAll();
    throw new Error(`API server cannot listen on ${hosts.join(', ')} port ${opts.port ?? 0}: ${(err as Error).message}`);
  }
  return {
    url: `https://${hostPort(hosts[0]!, port)}`,
    port,
    caFile: certs.caFile,
    caPem: certs.caPem,
    token,
    serviceAccountToken,
    // Checked on every request, so a revoked token is refused from the next request on, without a restart.
    setServiceAccountToken: async (next) => handler.acceptAlso(next === null ? [] : [next]),
    close: closeAll,
    stop: closeAll,
    start: async () => {
      if (servers.length === 0) await listenAll();
    },
  };
}
