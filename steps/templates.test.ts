import { describe, expect, it } from 'vitest';
import {
  bridgeNameFor, commaNetworks, jsonNetworks, macvlanConfig, multusConfigWith, multusSettings, nad, parseNetworkList, pod, staticMacvlanConflist,
} from '../fixtures/templates.ts';
import { ipv4InCidr, networkOf } from '../clusters/ip-state.ts';

describe('network selection annotations', () => {
  it('parses the comma form a scenario writes, with namespaces and interface names', () => {
    expect(parseNetworkList('a, other/b@eth5 ,c@net9')).toEqual([
      { name: 'a' }, { namespace: 'other', name: 'b', interface: 'eth5' }, { name: 'c', interface: 'net9' },
    ]);
  });

  it('renders the comma form back, and the JSON form with every field given', () => {
    expect(commaNetworks(parseNetworkList('a, other/b@eth5'))).toBe('a,other/b@eth5');
    expect(JSON.parse(jsonNetworks([{ name: 'fixed', ips: ['198.18.36.10/24'], mac: '02:00:c6:12:24:0a', 'default-route': ['198.18.36.1'] }])))
      .toEqual([{ name: 'fixed', ips: ['198.18.36.10/24'], mac: '02:00:c6:12:24:0a', 'default-route': ['198.18.36.1'] }]);
  });
});

describe('NAD templates', () => {
  it('puts the CNI config into spec.config as a JSON string', () => {
    const obj = nad('ns1', 'data-net', macvlanConfig('data-net', 'eth1', '198.18.10.0/24'));
    expect(obj).toMatchObject({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'data-net', namespace: 'ns1' } });
    expect(JSON.parse(obj.spec.config ?? '')).toEqual({
      cniVersion: '1.0.0', name: 'data-net', type: 'macvlan', master: 'eth1', mode: 'bridge',
      ipam: { type: 'host-local', ranges: [[{ subnet: '198.18.10.0/24' }]] },
    });
  });

  it('leaves spec.config out for a NAD resolved from the node', () => {
    expect(nad('ns', 'n', undefined).spec).toEqual({});
  });

  it('builds the static-IPAM conflist with the ips and mac capabilities', () => {
    const conf = staticMacvlanConflist('fixed', 'eth1') as { plugins: { type: string; capabilities?: object; ipam?: object }[] };
    expect(conf.plugins.map((p) => [p.type, p.capabilities])).toEqual([['macvlan', { ips: true }], ['tuning', { mac: true }]]);
    expect(conf.plugins[0]?.ipam).toEqual({ type: 'static' });
  });

  it('derives a bridge name Linux accepts', () => {
    expect(bridgeNameFor('a-very-long-network-name')).toBe('braverylongn');
    expect(bridgeNameFor('a-very-long-network-name').length).toBeLessThanOrEqual(15);
  });
});

describe('pod template', () => {
  it('pins the node, carries the annotations and the extended resources', () => {
    const p = pod({ namespace: 'ns', name: 'a', node: 'node-1', annotations: { 'k8s.v1.cni.cncf.io/networks': 'x' }, resources: { 'netdevsim.io/vf': '1' } });
    expect(p.spec.nodeName).toBe('node-1');
    expect(p.spec).toMatchObject({ automountServiceAccountToken: false, enableServiceLinks: false });
    expect(p.metadata.annotations).toEqual({ 'k8s.v1.cni.cncf.io/networks': 'x' });
    expect(p.spec.containers[0]?.resources).toEqual({ requests: { 'netdevsim.io/vf': '1' }, limits: { 'netdevsim.io/vf': '1' } });
    expect(pod({ namespace: 'ns', name: 'b' }).metadata.annotations).toBeUndefined();
  });
});

describe('IPv4 helpers', () => {
  it('tests CIDR membership and canonical network addresses', () => {
    expect(ipv4InCidr('198.18.10.7/24', '198.18.10.0/24')).toBe(true);
    expect(ipv4InCidr('198.18.11.7', '198.18.10.0/24')).toBe(false);
    expect(ipv4InCidr('198.19.255.255', '198.18.0.0/15')).toBe(true);
    expect(networkOf('198.18.10.77/24')).toBe('198.18.10.0/24');
    expect(() => ipv4InCidr('1.2.3', '1.2.3.0/24')).toThrow(/not an IPv4 address/);
  });
});

describe('Multus config edits', () => {
  it('changes the multus entry of a conflist, which is what libcni hands the plugin', () => {
    const conflist = { cniVersion: '1.0.0', name: 'multus-cni-network', plugins: [{ type: 'multus', kubeconfig: '/k' }, { type: 'other' }] };
    const edited = multusConfigWith(conflist, () => ({ namespaceIsolation: true }));
    expect(edited.plugins).toEqual([{ type: 'multus', kubeconfig: '/k', namespaceIsolation: true }, { type: 'other' }]);
    expect(edited).not.toHaveProperty('namespaceIsolation');
    expect(conflist.plugins[0]).not.toHaveProperty('namespaceIsolation');
    expect(multusSettings(edited)).toEqual({ type: 'multus', kubeconfig: '/k', namespaceIsolation: true });
  });

  it('changes a single .conf in place', () => {
    const conf = { cniVersion: '1.0.0', name: 'multus-cni-network', type: 'multus', defaultNetworks: ['a'] };
    expect(multusConfigWith(conf, (s) => ({ defaultNetworks: [...(s.defaultNetworks as string[]), 'b'] }))).toEqual({ ...conf, defaultNetworks: ['a', 'b'] });
  });
});
