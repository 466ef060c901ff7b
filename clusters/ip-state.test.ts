import { describe, expect, it } from 'vitest';
import { parseIpJson, type IpRoute } from './ip-state.ts';

describe('parseIpJson', () => {
  it('returns the array ip -j printed, an empty one included', () => {
    expect(parseIpJson<IpRoute>('[{"dst":"default","gateway":"198.18.0.1","dev":"eth0"}]\n', 'ip route')).toEqual([{ dst: 'default', gateway: '198.18.0.1', dev: 'eth0' }]);
    expect(parseIpJson<IpRoute>('[]\n', 'ip route')).toEqual([]);
  });

  it('fails on empty output, which iproute2 never prints for an empty listing', () => {
    expect(() => parseIpJson('  \n', 'ip link of node-1')).toThrow('could not read ip link of node-1: the command printed nothing, not a JSON array');
  });

  it('fails on output that is not JSON', () => {
    expect(() => parseIpJson('Object "addr" is unknown, try "ip help".', 'ip addr of pod a')).toThrow(
      'could not read ip addr of pod a: its output is not JSON: Object "addr" is unknown, try "ip help".');
  });

  it('fails on JSON that is not an array', () => {
    expect(() => parseIpJson('{"ifname":"lo"}', 'ip link of node-1')).toThrow('could not read ip link of node-1: its output is JSON but not an array: {"ifname":"lo"}');
  });
});
