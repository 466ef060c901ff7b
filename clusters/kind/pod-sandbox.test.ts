import { describe, expect, it } from 'vitest';
import { netnsFromInspectP } from './pod-sandbox.ts';

describe('pod sandbox netns from crictl inspectp', () => {
  it('prefers the network namespace path in the sandbox runtime spec', () => {
    const json = JSON.stringify({ info: { pid: 77, runtimeSpec: { linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: '/var/run/netns/cni-ab' }] } } } });
    expect(netnsFromInspectP(json, 's1')).toBe('/var/run/netns/cni-ab');
  });

  it('falls back to the pause process netns', () => {
    expect(netnsFromInspectP(JSON.stringify({ info: { pid: 77, runtimeSpec: { linux: { namespaces: [{ type: 'network' }] } } } }), 's1')).toBe('/proc/77/ns/net');
  });

  it('says what is missing', () => {
    expect(() => netnsFromInspectP('{"info":{}}', 's1')).toThrow('crictl inspectp s1: no network namespace path and no sandbox pid in its info');
    expect(() => netnsFromInspectP('FATA[0000] not found', 's1')).toThrow('crictl inspectp s1: output is not JSON');
  });
});
