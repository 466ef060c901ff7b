// Real etcd + kube-apiserver binaries in place of the embedded API server (`--kube-apiserver PATH
// --etcd PATH`, or a KUBEBUILDER_ASSETS directory holding both). Same result shape as
// startApiServer, so the rest of the cluster does not care which one runs. Both processes carry the
// cluster prefix in their argv (their data dir), so destroy() finds them even after a daemon crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { accessSync, constants, createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ensureServingCerts } from './apiserver/certs.ts';
import type { RunningApiServer } from './apiserver/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, processRef, stopProcess, type ProcessRef } from './process-identity.ts';

export interface ControlPlaneBinaries {
  kubeApiserver: string;
  etcd: string;
}

/** Binaries from explicit paths or KUBEBUILDER_ASSETS; undefined means the embedded server. */
export function resolveControlPlane(opts: { kubeApiserver?: string; etcd?: string }, env: NodeJS.ProcessEnv): ControlPlaneBinaries | undefined {
  const assets = env.KUBEBUILDER_ASSETS;
  const kubeApiserver = opts.kubeApiserver ?? (assets ? join(assets, 'kube-apiserver') : undefined);
  const etcd = opts.etcd ?? (assets ? join(assets, 'etcd') : undefined);
  if (!kubeApiserver && !etcd) return undefined;
  if (!kubeApiserver || !etcd) throw new Error('a real control plane needs both kube-apiserver and etcd (give --kube-apiserver and --etcd, or KUBEBUILDER_ASSETS)');
  for (const [what, file] of [['kube-apiserver', kubeApiserver], ['etcd', etcd]] as const) {
    try {
      accessSync(file, constants.X_OK);
    } catch {
      throw new Error(`${what} binary ${file} does not exist or is not executable`);
    }
  }
  return { kubeApiserver, etcd };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startRealControlPlane(opts: {
  binaries: ControlPlaneBinaries;
  /** Holds certs, keys and etcd data; its name must contain the cluster prefix. */
  dir: string;
  /** Where etcd.log and kube-apiserver.log go (removed by destroy like the other logs; exportLogs copies them). */
  logDir: string;
  sans: string[];
  onProcess: (ref: ProcessRef) => void;
}): Promise<RunningApiServer> {
  const { dir } = opts;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certs = await ensureServingCerts(join(dir, 'pki'), opts.sans);
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const token = randomBytes(24).toString('hex');
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const [etcdClient, etcdPeer, port] = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const refs: ProcessRef[] = [];
  const start = (bin: string, args: string[], log: string) => {
    // Appending: a restarted kube-apiserver (an injected outage) keeps the log of the one before.
    const out = createWriteStream(join(opts.logDir, log), { flags: 'a' });
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    if (child.pid === undefined) throw new Error(`cannot start ${bin}`);
    const ref = processRef(child.pid);
    opts.onProcess(ref);
    refs.push(ref);
    children.push(child);
    return child;
  };
  const close = async () => {
    // kube-apiserver first, then etcd.
    for (const ref of [...refs].reverse()) await stopProcess(ref);
  };
  let apiserver: { ref: ProcessRef; args: string[] } | undefined;
  const startApiserver = async (args: string[]) => {
    const child = start(opts.binaries.kubeApiserver, args, 'kube-apiserver.log');
    apiserver = { ref: refs.at(-1)!, args };
    // etcd (the first child) and this kube-apiserver must stay up; one stopped earlier is no reason to fail.
    await waitReady(`https://127.0.0.1:${port}/readyz`, token, certs.caPem, [children[0]!, child]);
  };
  try {
    start(opts.binaries.etcd, [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
    ], 'etcd.log');
    await startApiserver([
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${file('apiserver.crt', certs.certPem)}`,
      `--tls-private-key-file=${file('apiserver.key', certs.keyPem)}`,
      `--token-auth-file=${file('tokens.csv', `${token},multus-e2e-admin,multus-e2e-admin,"system:masters"\n`)}`,
      '--authorization-mode=AlwaysAllow',
      `--service-account-key-file=${file('sa.pub', sa.publicKey.export({ type: 'spki', format: 'pem' }).toString())}`,
      `--service-account-signing-key-file=${file('sa.key', sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      // No controller-manager creates default service accounts, so pods must not need one.
      '--disable-admission-plugins=ServiceAccount',
      '--service-cluster-ip-range=198.18.128.0/24',
      '--allow-privileged=true',
    ]);
  } catch (err) {
    await close();
    const logs = ['etcd.log', 'kube-apiserver.log'].map((l) => `--- ${join(opts.logDir, l)} (last lines) ---\n${tail(join(opts.logDir, l))}`);
    throw new Error(`real control plane did not start: ${(err as Error).message}\n${logs.join('\n')}`);
  }
  // An outage of the API server alone: etcd keeps the objects, and a new kube-apiserver serves them.
  const stop = async () => {
    if (apiserver) await stopProcess(apiserver.ref);
  };
  const restart = async () => {
    if (apiserver && !isAlive(apiserver.ref)) await startApiserver(apiserver.args);
  };
  return { url: `https://127.0.0.1:${port}`, port, caFile: certs.caFile, caPem: certs.caPem, token, close, stop, start: restart };
}

async function waitReady(url: string, token: string, ca: string, children: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`${dead.spawnfile} exited with ${dead.exitCode}`);
    const status = await new Promise<number>((resolve) => {
      const req = request(url, { headers: { authorization: `Bearer ${token}` }, ca, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (status === 200) return;
    await sleep(500);
  }
  throw new Error(`${url} not ready after 90 s`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
