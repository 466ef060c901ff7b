import { describe, expect, it } from 'vitest';
import { convertResult, toCurrent } from './result.ts';
import { SUPPORTED_VERSIONS } from './version.ts';

const modern = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'cni0', mac: '0a:00:00:00:00:01' },
    { name: 'eth0', mac: '0a:00:00:00:00:02', mtu: 1400, sandbox: '/run/netns/x', pciID: '0000:01:00.0' },
  ],
  ips: [
    { address: '198.18.5.10/24', gateway: '198.18.5.1', interface: 1 },
    { address: '2001:db8::10/64', interface: 1 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '198.18.5.1', mtu: 1300 }, { dst: '2001:db8:1::/48' }],
  dns: { nameservers: ['198.18.5.53'] },
};

describe('result conversion', () => {
  it('renders 0.1.0 and 0.2.0 in ip4/ip6 form with per-family routes', () => {
    for (const v of ['0.1.0', '0.2.0']) {
      expect(convertResult(modern, '1.1.0', v)).toEqual({
        cniVersion: v,
        ip4: { ip: '198.18.5.10/24', gateway: '198.18.5.1', routes: [{ dst: '0.0.0.0/0', gw: '198.18.5.1' }] },
        ip6: { ip: '2001:db8::10/64', routes: [{ dst: '2001:db8:1::/48' }] },
        dns: { nameservers: ['198.18.5.53'] },
      });
    }
  });

  it('adds the ips "version" field for 0.3.0, 0.3.1 and 0.4.0 and drops 1.1-only fields', () => {
    for (const v of ['0.3.0', '0.3.1', '0.4.0']) {
      const out = convertResult(modern, '1.1.0', v) as { ips: { version: string }[]; interfaces: object[]; routes: object[] };
      expect(out).toMatchObject({ cniVersion: v });
      expect(out.ips.map((i) => i.version)).toEqual(['4', '6']);
      expect(out.interfaces[1]).toEqual({ name: 'eth0', mac: '0a:00:00:00:00:02', mtu: 1400, sandbox: '/run/netns/x' });
      expect(out.routes[0]).toEqual({ dst: '0.0.0.0/0', gw: '198.18.5.1' });
    }
  });

  it('keeps 1.1.0 fields only for 1.1.0 and has no version field from 1.0.0', () => {
    const v100 = convertResult(modern, '1.1.0', '1.0.0') as { ips: object[]; routes: object[] };
    expect(v100.ips[0]).toEqual({ address: '198.18.5.10/24', gateway: '198.18.5.1', interface: 1 });
    expect(v100.routes[0]).toEqual({ dst: '0.0.0.0/0', gw: '198.18.5.1' });
    const v110 = convertResult(modern, '1.1.0', '1.1.0') as { routes: object[]; interfaces: object[] };
    expect(v110.routes[0]).toEqual({ dst: '0.0.0.0/0', gw: '198.18.5.1', mtu: 1300 });
    expect(v110.interfaces[1]).toMatchObject({ pciID: '0000:01:00.0' });
  });

  it('converts legacy results up to every modern version', () => {
    const legacy = { cniVersion: '0.2.0', ip4: { ip: '198.18.6.2/24', gateway: '198.18.6.1', routes: [{ dst: '0.0.0.0/0' }] }, dns: {} };
    for (const v of SUPPORTED_VERSIONS.filter((x) => !x.startsWith('0.1') && !x.startsWith('0.2'))) {
      const out = convertResult(legacy, '0.2.0', v) as { ips: { address: string; gateway: string }[]; routes: object[] };
      expect(out.ips[0]).toMatchObject({ address: '198.18.6.2/24', gateway: '198.18.6.1' });
      expect(out.routes).toEqual([{ dst: '0.0.0.0/0' }]);
    }
  });

  it('round-trips 0.3.x results through the internal form', () => {
    const v031 = convertResult(modern, '1.1.0', '0.3.1');
    expect(convertResult(v031, '0.3.1', '0.3.1')).toEqual(v031);
  });

  it('uses the result\'s own cniVersion before the fallback', () => {
    expect(toCurrent({ cniVersion: '0.2.0', ip4: { ip: '198.18.0.9/24' } }, '1.0.0').ips).toEqual([{ address: '198.18.0.9/24' }]);
  });

  it('rejects malformed results with a decode error naming the field', () => {
    expect(() => toCurrent({ cniVersion: '1.0.0', ips: [{ address: '198.18.0.300/24' }] }, '1.0.0')).toThrow(/ips\[0\]\.address/);
    expect(() => toCurrent({ cniVersion: '1.0.0', ips: [{ address: '198.18.0.3/24', interface: 2 }] }, '1.0.0')).toThrow(/does not index interfaces/);
    try {
      toCurrent('nope', '1.0.0');
    } catch (e) {
      expect((e as { code: number }).code).toBe(6);
    }
  });
});
