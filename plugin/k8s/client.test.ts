import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from './client.ts';

describe('Kubernetes HTTPS client', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let cert: Buffer;
  let key: Buffer;
  /** A self-signed certificate for the same address that did not sign the server's. */
  let otherCert: Buffer;
  /** slow: answers after `slowMs`; hang-once: the first request gets no answer, later ones do. */
  const behaviour: { mode: 'flaky' | 'down' | 'hang' | 'hang-once' | 'slow' | 'ok'; hits: number; slowMs?: number } = { mode: 'ok', hits: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'me2ep-https-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'c.pem'));
    key = readFileSync(join(dir, 'k.pem'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'k2.pem'), '-out', join(dir, 'c2.pem')], { stdio: 'ignore' });
    otherCert = readFileSync(join(dir, 'c2.pem'));
    server = createServer({ cert, key }, (req, res) => {
      behaviour.hits++;
      if (req.headers['authorization'] !== 'Bearer tok') {
        res.writeHead(401).end(JSON.stringify({ kind: 'Status', message: 'Unauthorized' }));
        return;
      }
      if (behaviour.mode === 'hang' || (behaviour.mode === 'hang-once' && behaviour.hits === 1)) return;
      if (behaviour.mode === 'down' || (behaviour.mode === 'flaky' && behaviour.hits <= 2)) {
        res.writeHead(503).end(JSON.stringify({ kind: 'Status', message: 'etcd is sad' }));
        return;
      }
      const answer = () => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ path: req.url, method: req.method }));
      if (behaviour.mode === 'slow') setTimeout(answer, behaviour.slowMs);
      else answer();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  function client(timing = { requestTimeoutMs: 300, retryBudgetMs: 800 }): KubeClient {
    return new KubeClient({ server: url, ca: cert, token: 'tok', insecure: false }, timing);
  }

  it('after a 401, reads the token file again and repeats the call once with a renewed token', async () => {
    Object.assign(behaviour, { mode: 'ok', hits: 0 });
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'revoked');
    const access = { server: url, ca: cert, token: 'revoked', tokenFile, insecure: false };
    const c = new KubeClient(access, { requestTimeoutMs: 300, retryBudgetMs: 800 });
    expect((await c.call('GET', '/api/v1/pods')).status).toBe(401);
    expect(behaviour.hits).toBe(1);
    writeFileSync(tokenFile, 'tok\n');
    expect((await c.call('GET', '/api/v1/pods')).status).toBe(200);
    c.close();
    expect(behaviour.hits).toBe(3);
    expect(access.token).toBe('tok');
  });

  it('retries 5xx until an answer arrives', async () => {
    Object.assign(behaviour, { mode: 'flaky', hits: 0 });
    const c = client();
    const r = await c.call('GET', '/api/v1/namespaces/a/pods/b');
    c.close();
    expect(r).toEqual({ status: 200, body: { path: '/api/v1/namespaces/a/pods/b', method: 'GET' } });
    expect(behaviour.hits).toBe(3);
  });

  it('gives up with "try again" (11) once the retry budget is spent on 5xx or timeouts', async () => {
    for (const mode of ['down', 'hang'] as const) {
      Object.assign(behaviour, { mode, hits: 0 });
      const c = client();
      const start = Date.now();
      await expect(c.call('GET', '/x')).rejects.toMatchObject({ code: 11, message: expect.stringMatching(mode === 'down' ? /HTTP 503: etcd is sad/ : /timeout after \d+ ms/) });
      const took = Date.now() - start;
      c.close();
      // From the first failure (at once for 503, after the 300 ms timeout for a hang), retries for the 800 ms budget.
      expect(took).toBeGreaterThanOrEqual(mode === 'down' ? 800 : 1100);
      expect(took).toBeLessThan(2000);
      expect(behaviour.hits).toBeGreaterThan(1);
    }
  });

  it('waits for a slow answer up to the request timeout, in one request, whatever the retry budget', async () => {
    // A loaded API server answering in 1.2 s: the call must not give up after the (shorter) budget.
    Object.assign(behaviour, { mode: 'slow', hits: 0, slowMs: 1200 });
    const c = client({ requestTimeoutMs: 3000, retryBudgetMs: 200 });
    const start = Date.now();
    const r = await c.call('PUT', '/api/v1/namespaces/a/pods/b/status', { metadata: { name: 'b' } });
    const took = Date.now() - start;
    c.close();
    expect(r).toEqual({ status: 200, body: { path: '/api/v1/namespaces/a/pods/b/status', method: 'PUT' } });
    expect(behaviour.hits).toBe(1);
    expect(took).toBeGreaterThanOrEqual(1200);
  });

  it('retries a timed-out read within the budget counted from the timeout, on a new request', async () => {
    // The budget (900 ms) is shorter than the timeout (1 s): counted from the call's start it would allow no retry.
    Object.assign(behaviour, { mode: 'hang-once', hits: 0 });
    const c = client({ requestTimeoutMs: 1000, retryBudgetMs: 900 });
    const r = await c.call('GET', '/api/v1/namespaces/a/pods/b');
    c.close();
    expect(r.status).toBe(200);
    expect(behaviour.hits).toBe(2);
  });

  it('does not repeat a timed-out POST, which may have been applied: "try again" (11) at once', async () => {
    Object.assign(behaviour, { mode: 'hang', hits: 0 });
    const c = client();
    await expect(c.call('POST', '/api/v1/namespaces/a/events', {})).rejects.toMatchObject({ code: 11, message: expect.stringContaining('timeout after 300 ms'), details: expect.stringContaining('not retried: a POST may have been applied') });
    c.close();
    expect(behaviour.hits).toBe(1);
  });

  it('returns 4xx at once and fails fast on an untrusted certificate', async () => {
    Object.assign(behaviour, { mode: 'ok', hits: 0 });
    const bad = new KubeClient({ server: url, token: 'nope', ca: cert, insecure: false });
    expect(await bad.call('GET', '/x')).toMatchObject({ status: 401, body: { message: 'Unauthorized' } });
    bad.close();
    expect(behaviour.hits).toBe(1);
    const untrusted = new KubeClient({ server: url, token: 'tok', insecure: false });
    await expect(untrusted.call('GET', '/x')).rejects.toMatchObject({ code: 101, message: expect.stringMatching(/certificate/i) });
    untrusted.close();
  });

  it('keeps the TLS session in its session file, so the next process resumes it; a stale file only costs a full handshake', async () => {
    behaviour.mode = 'ok';
    const file = join(dir, 'tls-session');
    const access = { server: url, ca: cert, token: 'tok', insecure: false };
    const counts: [number, number][] = [];
    for (let i = 0; i < 3; i++) {
      const c = new KubeClient(access, undefined, 1, file);
      expect((await c.call('GET', '/api/v1/pods')).status).toBe(200);
      // The ticket arrives after the handshake; give it the moment it needs.
      await new Promise((r) => setTimeout(r, 50));
      counts.push([c.connections, c.resumed]);
      c.close();
    }
    expect(counts).toEqual([
      [1, 0],
      [1, 1],
      [1, 1],
    ]);
    // A session file others could have written is not trusted.
    chmodSync(file, 0o660);
    const shared = new KubeClient(access, undefined, 1, file);
    expect((await shared.call('GET', '/api/v1/pods')).status).toBe(200);
    expect([shared.connections, shared.resumed]).toEqual([1, 0]);
    await new Promise((r) => setTimeout(r, 50));
    shared.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // A session kept for another server is not offered to this one.
    writeFileSync(file, readFileSync(file, 'utf8').replace(url, 'https://198.18.0.1:6443'));
    const fresh = new KubeClient(access, undefined, 1, file);
    expect((await fresh.call('GET', '/api/v1/pods')).status).toBe(200);
    expect([fresh.connections, fresh.resumed]).toEqual([1, 0]);
    fresh.close();
  });

  it('a kept session the server no longer resumes costs a full handshake with the real CA, which still rejects a certificate it did not sign', async () => {
    behaviour.mode = 'ok';
    const file = join(dir, 'tls-session-rotated');
    const access = { server: url, ca: cert, token: 'tok', insecure: false };
    const first = new KubeClient(access, undefined, 1, file);
    expect((await first.call('GET', '/api/v1/pods')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    first.close();
    // New ticket keys: as after a restart of the API server, or another replica behind the address.
    server.setTicketKeys(randomBytes(48));
    behaviour.hits = 0;
    const notResumed = new KubeClient(access, undefined, 1, file);
    expect(await notResumed.call('GET', '/api/v1/pods')).toEqual({ status: 200, body: { path: '/api/v1/pods', method: 'GET' } });
    expect([notResumed.connections, notResumed.resumed, behaviour.hits]).toEqual([1, 0, 1]);
    await new Promise((r) => setTimeout(r, 50));
    notResumed.close();
    // The session kept just now, offered with a CA that did not sign the server's certificate, after
    // another rotation: no request reaches the server, and the error names the certificate.
    server.setTicketKeys(randomBytes(48));
    behaviour.hits = 0;
    const otherCa = new KubeClient({ ...access, ca: otherCert }, { requestTimeoutMs: 300, retryBudgetMs: 800 }, 1, file);
    await expect(otherCa.call('POST', '/api/v1/pods', { a: 1 })).rejects.toMatchObject({ code: 101, message: expect.stringMatching(/certificate/i) });
    otherCa.close();
    expect(behaviour.hits).toBe(0);
  });
});
