import { describe, expect, it } from 'vitest';
import { diffObservations, formatDiff } from './diff.ts';
import type { PodObservation } from './observe.ts';

function pod(over: Partial<PodObservation> = {}): PodObservation {
  return {
    namespace: 'default', name: 'a', node: 'node-1', phase: 'Running', running: true,
    networkStatus: [{ name: 'local-default', interface: 'eth0', ips: ['198.19.1.2'], default: true }, { name: 'default/n', interface: 'net1', ips: ['198.18.90.2'] }],
    interfaces: [
      { ifname: 'eth0', mac: '02:00:00:00:00:01', addresses: [{ family: 'inet', local: '198.19.1.2', prefixlen: 24 }] },
      { ifname: 'net1', mac: '02:00:00:00:00:02', addresses: [{ family: 'inet', local: '198.18.90.2', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
    ],
    routes: [{ dst: 'default', gateway: '198.19.1.1', dev: 'eth0' }, { dst: '198.18.90.0/24', dev: 'net1' }],
    ip: {}, cniCalls: [{ op: 'ADD', node: 'node-1', namespace: 'default', pod: 'a', containerId: 'c', ms: 100, exitCode: 0, delegates: [], startedAt: '' }],
    ...over,
  };
}

describe('diff of two runs', () => {
  it('finds nothing between runs that differ only in MACs, link-local addresses and timings', () => {
    const b = pod({ interfaces: pod().interfaces.map((i) => ({ ...i, mac: '02:aa:aa:aa:aa:aa', addresses: i.addresses.map((a) => (a.family === 'inet6' ? { ...a, local: 'fe80::99' } : a)) })) });
    b.cniCalls = [{ ...b.cniCalls[0]!, ms: 900 }];
    expect(diffObservations([pod()], [b])).toEqual([{ pod: 'default/a', differences: [] }]);
  });

  it('names routes, addresses, network-status, status and CNI errors that differ', () => {
    const b = pod({
      routes: [{ dst: 'default', gateway: '198.18.90.1', dev: 'net1' }, { dst: '198.18.90.0/24', dev: 'net1' }],
      interfaces: [pod().interfaces[0]!, { ifname: 'net1', addresses: [{ family: 'inet', local: '198.18.90.3', prefixlen: 24 }] }],
    });
    const failed = pod({ name: 'b', running: false, phase: 'Pending', reason: 'event FailedCreatePodSandBox: no master', interfaces: [], routes: [], networkStatus: undefined,
      cniCalls: [{ op: 'ADD', node: 'node-1', namespace: 'default', pod: 'b', containerId: 'd', ms: 50, exitCode: 1, errorCode: 7, delegates: [], startedAt: '' }] });
    const diffs = diffObservations([pod(), pod({ name: 'b' })], [b, failed]);
    expect(diffs[0]!.differences).toEqual([
      'addresses of net1: A 198.18.90.2/24, B 198.18.90.3/24',
      'routes: only A: default via 198.19.1.1 dev eth0 | only B: default via 198.18.90.1 dev net1',
    ]);
    expect(diffs[1]!.differences).toEqual([
      'status: A Running, B not running (Pending)',
      'reason: A "(none)", B "event FailedCreatePodSandBox: no master"',
      'interfaces: only A: eth0; net1',
      'routes: only A: default via 198.19.1.1 dev eth0; 198.18.90.0/24 dev net1',
      'network-status: A [eth0 local-default (default) 198.19.1.2; net1 default/n 198.18.90.2], B [(not set)]',
      'CNI errors: only B: ADD exit 1 (CNI error 7)',
    ]);
    expect(formatDiff(diffs, 'thin:x', 'bundled')).toContain('pod default/b: \n    status: A Running');
  });
});
