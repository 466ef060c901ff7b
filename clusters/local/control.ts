// The cluster daemon's control socket (workDir/control.sock): how a Cluster handle in another process
// injects faults into what only the daemon holds (the API server, the node agents). One JSON request per
// connection, one JSON reply: { ok: true, value } or { ok: false, error }.
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';

export type ControlRequest =
  | { op: 'stop-api-server' }
  | { op: 'start-api-server' }
  | { op: 'stop-pod-sandbox'; node: string; namespace: string; pod: string }
  | { op: 'restart-node'; node: string }
  /** ms null: the default timeout again. */
  | { op: 'set-cni-timeout'; ms: number | null }
  | { op: 'kill-cni-plugin'; node: string; namespace: string; pod: string }
  | { op: 'retry-failed-sandboxes'; seconds: number | null }
  | { op: 'hold-cni-adds'; node: string; hold: boolean }
  | { op: 'revoke-plugin-credentials' }
  | { op: 'renew-plugin-credentials' }
  | { op: 'restore-plugin-credentials' };

type Reply = { ok: true; value?: unknown } | { ok: false; error: string };

/** How long one fault may take (a node restart tears down every sandbox of the node first). */
const CONTROL_TIMEOUT_MS = 120_000;

export function controlSocketPath(workDir: string): string {
  return join(workDir, 'control.sock');
}

export function serveControl(workDir: string, handle: (req: ControlRequest) => Promise<unknown>): Promise<Server> {
  const path = controlSocketPath(workDir);
  rmSync(path, { force: true });
  const server = createServer((conn) => {
    let text = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      void (async () => {
        let reply: Reply;
        try {
          reply = { ok: true, value: await handle(JSON.parse(text) as ControlRequest) };
        } catch (err) {
          reply = { ok: false, error: (err as Error).message };
        }
        conn.end(`${JSON.stringify(reply)}\n`);
      })();
    });
    conn.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

export function callControl<T = unknown>(workDir: string, req: ControlRequest): Promise<T> {
  const path = controlSocketPath(workDir);
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let text = '';
    const timer = setTimeout(() => conn.destroy(new Error(`no answer to ${req.op} within ${CONTROL_TIMEOUT_MS / 1000} s`)), CONTROL_TIMEOUT_MS);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (chunk: string) => (text += chunk));
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`the cluster daemon's control socket ${path}: ${err.message}`));
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        const reply = JSON.parse(text) as Reply;
        if (reply.ok) resolve(reply.value as T);
        else reject(new Error(`${req.op}: ${reply.error}`));
      } catch {
        reject(new Error(`${req.op}: the cluster daemon answered ${JSON.stringify(text.slice(0, 200))}`));
      }
    });
  });
}
