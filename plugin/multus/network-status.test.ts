import { describe, expect, it } from 'vitest';
import type { ApiResponse } from '../k8s/client.ts';
import type { CachedAttachment } from './cache.ts';
import { buildNetworkStatus, writeNetworkStatus } from './network-status.ts';

function attachment(over: Partial<CachedAttachment>): CachedAttachment {
  return { network: 'default/x', isDefault: false, ifname: 'net1', netConf: { cniVersion: '1.0.0', name: 'x', type: 'macvlan' }, cniArgs: '', capabilityArgs: {}, ...over };
}

describe('network-status entries', () => {
  it('takes interface, ips and mac from the first sandbox interface of each result', () => {
    const entries = buildNetworkStatus(
      [
        attachment({
          network: 'pods',
          isDefault: true,
          ifname: 'eth0',
          netConf: { cniVersion: '1.0.0', name: 'pods', type: 'bridge' },
          result: {
            cniVersion: '1.0.0',
            interfaces: [{ name: 'cni0', mac: '0a:00:00:00:00:01' }, { name: 'veth1' }, { name: 'eth0', mac: '0a:00:00:00:00:02', mtu: 1450, sandbox: '/run/netns/p' }],
            ips: [{ address: '198.18.1.2/24', interface: 2 }, { address: '198.18.9.9/24', interface: 0 }],
            dns: { nameservers: ['198.18.1.53'] },
          },
        }),
        attachment({ result: { cniVersion: '0.2.0', ip4: { ip: '198.18.2.2/24' } }, netConf: { cniVersion: '0.2.0', name: 'x', type: 'macvlan' }, defaultRoute: ['198.18.2.1'] }),
        attachment({ network: 'default/vf', ifname: 'net2', deviceId: '0000:01:00.1' }),
      ],
      '/run/netns/p',
    );
    expect(entries).toEqual([
      { name: 'pods', default: true, interface: 'eth0', ips: ['198.18.1.2'], mac: '0a:00:00:00:00:02', mtu: 1450, dns: { nameservers: ['198.18.1.53'] } },
      { name: 'default/x', default: false, interface: 'net1', ips: ['198.18.2.2'], 'default-route': ['198.18.2.1'] },
      { name: 'default/vf', default: false, interface: 'net2', 'device-info': { type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:01:00.1' } } },
    ]);
  });
});

describe('writing network-status', () => {
  it('re-reads the pod and retries the PUT on 409 conflicts', async () => {
    const calls: string[] = [];
    let rv = 1;
    const puts: unknown[] = [];
    const client = {
      async call(method: string, path: string, body?: unknown): Promise<ApiResponse> {
        calls.push(`${method} ${path}`);
        if (method === 'GET') return { status: 200, body: { metadata: { name: 'p', namespace: 'ns', resourceVersion: String(rv++), annotations: { keep: 'me' } } } };
        puts.push(body);
        return puts.length === 1 ? { status: 409, body: { kind: 'Status', message: 'conflict' } } : { status: 200, body: {} };
      },
    };
    const known = { metadata: { name: 'p', namespace: 'ns', resourceVersion: '0' } };
    await writeNetworkStatus(client, 'ns', 'p', [{ name: 'pods', default: true }], known);
    // the pod read at the start of ADD is tried first; the conflict makes it re-read
    expect(calls).toEqual(['PUT /api/v1/namespaces/ns/pods/p/status', 'GET /api/v1/namespaces/ns/pods/p', 'PUT /api/v1/namespaces/ns/pods/p/status']);
    expect(puts[0]).toMatchObject({ metadata: { resourceVersion: '0' } });
    expect(known.metadata).not.toHaveProperty('annotations');
    expect(puts[1]).toMatchObject({ metadata: { resourceVersion: '1', annotations: { keep: 'me', 'k8s.v1.cni.cncf.io/network-status': expect.stringContaining('"default": true') } } });
  });

  it('gives up with the API message after repeated conflicts', async () => {
    const client = {
      async call(method: string): Promise<ApiResponse> {
        return method === 'GET' ? { status: 200, body: { metadata: { name: 'p', namespace: 'ns' } } } : { status: 409, body: { message: 'the object has been modified' } };
      },
    };
    await expect(writeNetworkStatus(client, 'ns', 'p', [])).rejects.toThrow(/writing network-status of pod ns\/p: HTTP 409: the object has been modified/);
  });
});
