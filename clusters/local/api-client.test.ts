import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.ts';
import { ensureServingCerts } from './apiserver/certs.ts';

describe('ApiClient and kept-alive connections the server dropped', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let ca: string;
  /** Requests served per socket; the server drops a socket on its `resetOnRequest`-th request instead of answering. */
  const served = new WeakMap<Socket, number>();
  let resetOnRequest = 0;
  let resets = 0;
  let answered = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'me2e-api-client-'));
    const certs = await ensureServingCerts(dir, ['127.0.0.1']);
    ca = certs.caPem;
    server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n === resetOnRequest) {
        // What a server closing an idle keep-alive connection looks like to a request already on its way.
        resets++;
        req.socket.destroy();
        return;
      }
      answered++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, path: req.url }));
    });
    await once(server.listen(0, '127.0.0.1'), 'listening');
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a request again on a new connection when a reused one is reset before the answer', async () => {
    const api = new ApiClient(url, 'tok', ca);
    resetOnRequest = 2;
    resets = 0;
    answered = 0;
    expect(await api.get('/api/v1/pods')).toEqual({ method: 'GET', path: '/api/v1/pods' });
    // The second request goes out on the kept-alive socket, which the server drops.
    expect(await api.delete('/api/v1/namespaces/a/pods/b', { gracePeriodSeconds: 0 })).toEqual({ method: 'DELETE', path: '/api/v1/namespaces/a/pods/b' });
    expect({ resets, answered }).toEqual({ resets: 1, answered: 2 });
    api.close();
  });

  it('does not repeat a request whose new connection was reset: that is no idle-socket race', async () => {
    const api = new ApiClient(url, 'tok', ca);
    resetOnRequest = 1;
    resets = 0;
    answered = 0;
    await expect(api.get('/api/v1/pods')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect({ resets, answered }).toEqual({ resets: 1, answered: 0 });
    api.close();
  });
});
