// The API server as a process: flags, the ready line, token file, cert reuse, SIGTERM.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = new URL('./main.ts', import.meta.url).pathname;
let dir: string;
const children: ChildProcess[] = [];

interface Ready { ready: boolean; url: string; port: number; caFile: string }

function start(args: string[]): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, ready: JSON.parse(line) as Ready }));
    child.once('exit', (code) => reject(new Error(`exited ${code} before ready: ${stderr}`)));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function request(url: string, ca: string, token?: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'me2e-apisrv-main-'));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('main.ts process', () => {
  it('prints the ready line, serves with the token it wrote, exits 0 on SIGTERM, reuses the CA', async () => {
    const certDir = join(dir, 'pki');
    const tokenFile = join(dir, 'token');
    const { child, ready } = await start(['--cert-dir', certDir, '--host', '127.0.0.1', '--port', '0', '--token-file', tokenFile, '--san', '198.18.0.1']);
    expect(ready.ready).toBe(true);
    expect(ready.url).toBe(`https://127.0.0.1:${ready.port}`);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    const ca = await readFile(ready.caFile, 'utf8');
    const ns = await request(`${ready.url}/api/v1/namespaces/default`, ca, token);
    expect(ns.code).toBe(200);
    expect(JSON.parse(ns.body)).toMatchObject({ kind: 'Namespace', metadata: { name: 'default' } });
    expect((await request(`${ready.url}/api/v1/namespaces/default`, ca)).code).toBe(401);
    const exited = exitOf(child);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    expect(ready).not.toHaveProperty('token');
    const servingCert = await readFile(join(certDir, 'apiserver.crt'), 'utf8');
    const again = await start(['--cert-dir', certDir, '--port', '0', '--token-file', tokenFile]);
    const noFile = await start(['--cert-dir', certDir, '--port', '0']);
    expect((await request(`${noFile.ready.url}/api/v1/namespaces`, ca, (noFile.ready as Ready & { token: string }).token)).code).toBe(200);
    noFile.child.kill('SIGTERM');
    expect(await readFile(again.ready.caFile, 'utf8')).toBe(ca);
    expect(await readFile(join(certDir, 'apiserver.crt'), 'utf8')).toBe(servingCert);
    expect((await request(`${again.ready.url}/api/v1/namespaces`, ca, token)).code).toBe(200);
    const exited2 = exitOf(again.child);
    again.child.kill('SIGTERM');
    expect(await exited2).toBe(0);
  });

  it('puts 127.0.0.1, localhost and --san names in the serving certificate', async () => {
    const { execFileSync } = await import('node:child_process');
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'pki', 'apiserver.crt'), '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
    expect(text).toContain('IP Address:127.0.0.1');
    expect(text).toContain('DNS:localhost');
    expect(text).toContain('IP Address:198.18.0.1');
  });

  it('listens on every --host with one port', async () => {
    const { child, ready } = await start(['--cert-dir', join(dir, 'pki2'), '--host', '127.0.0.1', '--host', '127.0.0.2', '--port', '0', '--token-file', join(dir, 'token2'), '--san', '127.0.0.2']);
    const token = (await readFile(join(dir, 'token2'), 'utf8')).trim();
    const ca = await readFile(ready.caFile, 'utf8');
    for (const host of ['127.0.0.1', '127.0.0.2']) {
      expect((await request(`https://${host}:${ready.port}/api/v1/namespaces/kube-system`, ca, token)).code, host).toBe(200);
    }
    // An open watch must not keep the process from exiting on SIGTERM; the stream ends cleanly.
    const watchEnded = request(`${ready.url}/api/v1/pods?watch=1`, ca, token);
    await new Promise((r) => setTimeout(r, 200));
    const exited = exitOf(child);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect((await watchEnded).code).toBe(200);
  });

  it('exits 2 with usage on bad flags', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', 'x'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    expect(await exitOf(child)).toBe(2);
    expect(stderr).toContain('--cert-dir is required');
  });
});
