// Rough throughput and memory of the embedded API server, for the report (no assertions):
//   node --import tsx clusters/local/apiserver/bench.ts [pods=2000] [watchers=20]
// Creates pods over one keep-alive HTTPS connection pool, patches pods/status, lists, and
// measures watch fan-out, printing ops/s and the process RSS/heap.

import { Agent, request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from './index.ts';

const pods = Number(process.argv[2] ?? 2000);
const watchers = Number(process.argv[3] ?? 20);
const CONCURRENCY = 16;

const dir = await mkdtemp(join(tmpdir(), 'me2e-apisrv-bench-'));
const server = await startApiServer({ certDir: join(dir, 'pki'), port: 0 });
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: server.caPem });

function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${server.url}${path}`, {
      method, agent,
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': contentType, ...(data ? { 'Content-Length': Buffer.byteLength(data) } : {}) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function phase(name: string, n: number, op: (i: number) => Promise<number>): Promise<void> {
  const started = performance.now();
  let next = 0;
  let failures = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) {
      const code = await op(next++);
      if (code >= 300) failures++;
    }
  }));
  const s = (performance.now() - started) / 1000;
  console.log(`${name.padEnd(28)} ${n} in ${s.toFixed(2)} s = ${(n / s).toFixed(0)}/s${failures ? ` (${failures} failed)` : ''}`);
}

function memory(label: string): void {
  const m = process.memoryUsage();
  console.log(`${label.padEnd(28)} rss ${(m.rss / 2 ** 20).toFixed(0)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MiB`);
}

try {
  memory('idle');
  let received = 0;
  const streams = await Promise.all(Array.from({ length: watchers }, () => new Promise<() => void>((resolve) => {
    const req = request(`${server.url}/api/v1/pods?watch=1&resourceVersion=1`, { agent: new Agent({ ca: server.caPem }), headers: { Authorization: `Bearer ${server.token}` } }, (res) => {
      res.on('data', (d: Buffer) => { received += d.toString().split('\n').length - 1; });
      resolve(() => req.destroy());
    });
    req.end();
  })));
  const pod = (i: number) => ({ metadata: { name: `p${i}`, labels: { i: String(i % 10) } }, spec: { nodeName: `node-${i % 2}`, containers: [{ name: 'c', image: 'pause' }] } });
  await phase(`create pods (${watchers} watchers)`, pods, (i) => call('POST', '/api/v1/namespaces/default/pods', pod(i)));
  await phase('GET pod', pods, (i) => call('GET', `/api/v1/namespaces/default/pods/p${i}`));
  await phase('merge-patch pods/status', pods, (i) => call('PATCH', `/api/v1/namespaces/default/pods/p${i}/status`,
    { metadata: { annotations: { 'k8s.v1.cni.cncf.io/network-status': '[]' } }, status: { phase: 'Running' } }, 'application/merge-patch+json'));
  await phase('LIST all pods', 20, () => call('GET', '/api/v1/pods'));
  await phase('LIST spec.nodeName=node-1', 20, () => call('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1'));
  memory(`after ${pods} pods`);
  await new Promise((r) => setTimeout(r, 500));
  console.log(`watch events delivered: ${received} (expected ${watchers * pods * 2})`);
  for (const stop of streams) stop();
  await phase('DELETE pods (grace 0)', pods, (i) => call('DELETE', `/api/v1/namespaces/default/pods/p${i}?gracePeriodSeconds=0`));
  memory('after delete');
} finally {
  agent.destroy();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
