import { describe, expect, it } from 'vitest';
import { interfaceNameProblem, isIpOrCidr, parseNetworkSelections } from './annotations.ts';

describe('network selection annotation', () => {
  it('parses the comma form with namespaces and interface names', () => {
    expect(parseNetworkSelections(' net-a, other/net-b@blue ,net-a', 'pods')).toEqual([
      { name: 'net-a', namespace: 'pods' },
      { name: 'net-b', namespace: 'other', interface: 'blue' },
      { name: 'net-a', namespace: 'pods' },
    ]);
  });

  it('parses every JSON selection field', () => {
    const [sel] = parseNetworkSelections(
      JSON.stringify([
        {
          name: 'net-b',
          namespace: 'other',
          interface: 'data0',
          ips: ['198.18.1.5/24', '2001:db8::5'],
          mac: '02:23:45:67:89:01',
          'default-route': ['198.18.1.1'],
          portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'TCP' }],
          bandwidth: { ingressRate: 2048, ingressBurst: 300 },
          'cni-args': { spoofchk: 'on' },
          'infiniband-guid': '24:8a:07:03:00:8d:ae:2f',
        },
      ]),
      'pods',
    );
    expect(sel).toEqual({
      name: 'net-b',
      namespace: 'other',
      interface: 'data0',
      ips: ['198.18.1.5/24', '2001:db8::5'],
      mac: '02:23:45:67:89:01',
      defaultRoute: ['198.18.1.1'],
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      bandwidth: { ingressRate: 2048, ingressBurst: 300 },
      cniArgs: { spoofchk: 'on' },
      infinibandGuid: '24:8a:07:03:00:8d:ae:2f',
    });
  });

  it.each([
    ['Net_A', /element 1 \("Net_A"\): network name "Net_A" is not a valid DNS-1123 subdomain/],
    ['Bad NS/net', /namespace "Bad NS" is not a valid DNS-1123 label/],
    ['net-a@waytoolonginterface0', /interface "waytoolonginterface0" must be 1 to 15 characters/],
    ['net-a@', /interface "" must be 1 to 15/],
    ['a,,b', /element 2: empty network reference/],
    ['a/b/c', /expected \[namespace\/\]name\[@interface\]/],
    ['[{"name":"x","ips":["198.18.0.300"]}]', /"ips"\[0\] "198.18.0.300" is not a valid IP address or CIDR/],
    ['[{"name":"x","ips":[]}]', /"ips" must be a non-empty list/],
    ['[{"name":"x","mac":"02:23:45:67:89"}]', /"mac" "02:23:45:67:89" is not a valid 6-byte MAC/],
    ['[{"name":"x","interface":"a:b"}]', /must not contain "\/", ":" or whitespace/],
    ['[{"name":"x","default-route":["g"]}]', /"default-route"\[0\] "g" is not a valid IP/],
    ['[{"name":"x","default-route":[]},{"name":"y","default-route":["198.18.0.1"]}]', /"default-route" is set on 2 elements \(x, y\)/],
    ['[{"name":"x","portMappings":[{"hostPort":0,"containerPort":80}]}]', /hostPort must be an integer 1-65535/],
    ['[{"name":"x","bandwidth":{"ingressBurst":5}}]', /ingressBurst needs ingressRate/],
    ['[{"name":"x","infiniband-guid":"zz"}]', /"infiniband-guid" "zz" is not a valid 8-byte GUID/],
    ['[{"namespace":"x"}]', /"name" is required/],
    ['[{"name":"x"', /not valid JSON/],
  ])('rejects %s with a precise error', (value, pattern) => {
    expect(() => parseNetworkSelections(value, 'pods')).toThrow(pattern);
  });

  it('reports invalid annotations with code 7 naming the annotation', () => {
    expect(() => parseNetworkSelections('BAD', 'pods')).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining('"k8s.v1.cni.cncf.io/networks"') }));
  });

  it('validates interface names and addresses', () => {
    expect(interfaceNameProblem('net1')).toBeUndefined();
    expect(interfaceNameProblem('..')).toBeDefined();
    expect(isIpOrCidr('2001:db8::1/129')).toBe(false);
    expect(isIpOrCidr('198.18.0.1/32')).toBe(true);
  });
});
