// Units of the daemon: its config file (upstream keys), the shim's request framing, and the cached
// API's rules (hits from the watch cache, misses read at once, our own writes make the copy stale).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiResponse } from '../k8s/client.ts';
import { Logger } from '../multus/log.ts';
import { writeMultusConfig } from './autoconfig.ts';
import { parseDaemonConfig } from './config.ts';
import { parseShimRequest, parseUpstreamBody } from './server.ts';
import { CachingApi, WatchedCollection } from './watch-cache.ts';

describe('daemon config', () => {
  it('reads upstream daemon-config.json keys with upstream defaults and keeps every key as an override', () => {
    const dc = parseDaemonConfig(
      JSON.stringify({ chrootDir: '/hostroot', cniVersion: '0.3.1', logLevel: 'Verbose', logToStderr: true, cniConfigDir: '/host/etc/cni/net.d', multusConfigFile: 'auto', socketDir: '/host/run/multus/', confDir: '/x' }),
      'daemon-config.json',
    );
    expect(dc).toMatchObject({ socketDir: '/host/run/multus', cniConfigDir: '/host/etc/cni/net.d', multusAutoconfigDir: '/host/etc/cni/net.d', multusConfigFile: 'auto', cniVersion: '0.3.1', logLevel: 'verbose', logToStderr: true, chrootDir: '/hostroot' });
    expect(dc.overrides['confDir']).toBe('/x');
    expect(parseDaemonConfig('{}', 'f')).toMatchObject({ socketDir: '/run/multus', apiTimeoutSeconds: 30 });
    expect(parseDaemonConfig('{"apiTimeoutSeconds":5}', 'f').apiTimeoutSeconds).toBe(5);
  });

  it('names the file and the key of a bad value', () => {
    expect(() => parseDaemonConfig('{"logLevel":"loud"}', '/etc/d.json')).toThrow('/etc/d.json: "logLevel" must be one of panic, error, verbose, debug');
    expect(() => parseDaemonConfig('{"socketDir":5}', '/etc/d.json')).toThrow('/etc/d.json: "socketDir" must be a string');
    expect(() => parseDaemonConfig('[', '/etc/d.json')).toThrow('/etc/d.json is not valid JSON');
    expect(() => parseDaemonConfig('{"apiTimeoutSeconds":-1}', '/etc/d.json')).toThrow('/etc/d.json: "apiTimeoutSeconds" must be a number of seconds above 0 and at most 600');
  });
});

describe('multusConfigFile "auto"', () => {
  it("writes upstream's 00-multus.conf: daemon-config Multus keys, the shim type, the primary network by path", () => {
    const dir = mkdtempSync(join(tmpdir(), 'me2ep-auto-'));
    try {
      writeFileSync(join(dir, '10-net.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'bridge', capabilities: { ips: true } }] }));
      const daemonConfig = { cniVersion: '1.0.0', logLevel: 'verbose', cniConfigDir: dir, multusConfigFile: 'auto', socketDir: '/run/multus/socket/', daemonSocketDir: '/run/multus/socket/', cniDir: '/var/lib/cni/multus' };
      const dc = parseDaemonConfig(JSON.stringify(daemonConfig), 'd.json');
      expect(writeMultusConfig(dc)).toBe(join(dir, '00-multus.conf'));
      expect(JSON.parse(readFileSync(join(dir, '00-multus.conf'), 'utf8'))).toEqual({
        cniVersion: '1.0.0',
        type: 'multus-shim',
        name: 'multus-cni-network',
        logLevel: 'verbose',
        cniDir: '/var/lib/cni/multus',
        capabilities: { ips: true },
        clusterNetwork: join(dir, '10-net.conflist'),
        daemonSocketDir: '/run/multus/socket/',
      });
      // Written again (e.g. by a restarted daemon), our own file is never taken for the primary network.
      expect(writeMultusConfig(dc)).toBe(join(dir, '00-multus.conf'));
      expect(JSON.parse(readFileSync(join(dir, '00-multus.conf'), 'utf8'))['clusterNetwork']).toBe(join(dir, '10-net.conflist'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('requests', () => {
  it('takes the CNI variables of a shim request from its headers (UTF-8 bytes kept) and the config from its body', () => {
    const netns = Buffer.from('/run/netns/pöd', 'utf8').toString('latin1');
    const parsed = parseShimRequest({ 'cni-command': 'ADD', 'cni-args': 'K8S_POD_NAME=a;X=b=c', 'cni-netns': netns, 'x-other': 'ignored' }, Buffer.from('{"cniVersion":"1.0.0"}'));
    expect(parsed).toEqual({ env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'K8S_POD_NAME=a;X=b=c', CNI_NETNS: '/run/netns/pöd' }, stdin: '{"cniVersion":"1.0.0"}' });
    expect(() => parseShimRequest({ 'cni-command': ['ADD', 'DEL'] as unknown as string }, Buffer.alloc(0))).toThrow('header cni-command given 2 times');
  });

  it("reads upstream multus-shim's JSON request (config in base64)", () => {
    const body = Buffer.from(JSON.stringify({ env: { CNI_COMMAND: 'DEL', HOME: '/root' }, config: Buffer.from('{"a":1}').toString('base64') }));
    expect(parseUpstreamBody(body)).toEqual({ env: { CNI_COMMAND: 'DEL' }, stdin: '{"a":1}' });
  });
});

describe('cached API', () => {
  const pod = (rv: string, ann = 'x') => ({ metadata: { namespace: 'ns', name: 'p', resourceVersion: rv, annotations: { a: ann } } });
  const quiet = new Logger({ logLevel: 'panic', logToStderr: false });

  function fixture(answers: Record<string, ApiResponse>) {
    const calls: string[] = [];
    const client = {
      call: (method: string, path: string): Promise<ApiResponse> => {
        calls.push(`${method} ${path}`);
        return Promise.resolve(answers[`${method} ${path}`] ?? { status: 404, body: {} });
      },
    };
    const access = { server: 'https://127.0.0.1:1', insecure: true };
    const pods = new WatchedCollection('pods', '/api/v1/pods', access, client, quiet);
    const api = new CachingApi(client, pods, undefined);
    return { calls, pods, api };
  }

  it('serves a watched pod from the cache and reads an unseen one from the API at once', async () => {
    const { calls, pods, api } = fixture({ 'GET /api/v1/namespaces/ns/pods/q': { status: 200, body: { metadata: { name: 'q', namespace: 'ns' } } } });
    pods.offer(pod('5'));
    expect((await api.call('GET', '/api/v1/namespaces/ns/pods/p')).body).toEqual(pod('5'));
    expect((await api.call('GET', '/api/v1/namespaces/ns/pods/q')).status).toBe(200);
    expect(calls).toEqual(['GET /api/v1/namespaces/ns/pods/q']);
    expect([api.hits, api.misses]).toEqual([1, 1]);
    // A read with a query (getPod(…, fresh)) always reaches the API server.
    await api.call('GET', '/api/v1/namespaces/ns/pods/p?resourceVersion=');
    expect(calls.at(-1)).toBe('GET /api/v1/namespaces/ns/pods/p?resourceVersion=');
  });

  it('keeps the answer to its own status write, and forgets the pod after a failed write', async () => {
    const { calls, pods, api } = fixture({
      'PUT /api/v1/namespaces/ns/pods/p/status': { status: 200, body: pod('9', 'written') },
      'GET /api/v1/namespaces/ns/pods/p': { status: 200, body: pod('12', 'fresh') },
    });
    pods.offer(pod('5'));
    await api.call('PUT', '/api/v1/namespaces/ns/pods/p/status', pod('5'));
    pods.offer(pod('7', 'older event arriving late'));
    expect((await api.call('GET', '/api/v1/namespaces/ns/pods/p')).body).toEqual(pod('9', 'written'));
    await api.call('PUT', '/api/v1/namespaces/ns/pods/p', pod('9'));
    expect(pods.get('ns', 'p')).toBeUndefined();
    expect((await api.call('GET', '/api/v1/namespaces/ns/pods/p')).body).toEqual(pod('12', 'fresh'));
    expect(calls.filter((c) => c.startsWith('GET'))).toEqual(['GET /api/v1/namespaces/ns/pods/p']);
  });
});
