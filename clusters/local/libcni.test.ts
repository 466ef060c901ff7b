import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { delegateTimes } from './cni-call-log.ts';
import { loadFirstNetwork, versionAtLeast } from './libcni.ts';
import { podIps } from './node-agent.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadFirstNetwork (libcni file selection)', () => {
  it('takes the lexically first valid file, conflist or conf', () => {
    dir = mkdtempSync(join(tmpdir(), 'me2e-libcni-'));
    writeFileSync(join(dir, '10-b.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'b', plugins: [{ type: 'bridge' }, { type: 'tuning' }] }));
    writeFileSync(join(dir, '00-a.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'a', type: 'macvlan' }));
    writeFileSync(join(dir, '01-notes.txt'), 'ignored');
    expect(loadFirstNetwork(dir)).toEqual({ file: '00-a.conf', name: 'a', cniVersion: '0.4.0', plugins: [{ cniVersion: '0.4.0', name: 'a', type: 'macvlan' }] });
    rmSync(join(dir, '00-a.conf'));
    const list = loadFirstNetwork(dir);
    expect(list.file).toBe('10-b.conflist');
    expect(list.plugins.map((p) => p.type)).toEqual(['bridge', 'tuning']);
  });

  it('skips unparsable files and says why when nothing is left', () => {
    dir = mkdtempSync(join(tmpdir(), 'me2e-libcni-'));
    writeFileSync(join(dir, '00-broken.conf'), '{');
    expect(() => loadFirstNetwork(dir)).toThrow(/no valid CNI network config in \/etc\/cni\/net.d \(00-broken.conf: /);
  });
});

describe('podIps', () => {
  it('takes the addresses of the pod-side interface only', () => {
    const result = {
      interfaces: [{ name: 'cni0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/x' }],
      ips: [{ interface: 2, address: '198.19.1.5/24' }, { interface: 0, address: '198.19.1.1/24' }],
    };
    expect(podIps(result, 'eth0')).toEqual(['198.19.1.5']);
  });
});

describe('delegateTimes', () => {
  it('keeps delegate lines of that container and verb', () => {
    const log = [
      { time: 't', level: 'info', msg: 'delegate', verb: 'ADD', containerId: 'c1', network: 'default/m', type: 'macvlan', ms: 12.5, ok: true },
      { time: 't', level: 'info', msg: 'delegate', verb: 'DEL', containerId: 'c1', network: 'default/m', type: 'macvlan', ms: 3, ok: true },
      { time: 't', level: 'info', msg: 'delegate', verb: 'ADD', containerId: 'c2', network: 'default/m', type: 'macvlan', ms: 9, ok: true },
      { time: 't', level: 'info', msg: 'call', verb: 'ADD', containerId: 'c1', ms: 40, ok: true },
    ].map((l) => JSON.stringify(l)).join('\n');
    expect(delegateTimes(`${log}\nnot json c1`, 'c1', 'ADD')).toEqual([{ network: 'default/m', type: 'macvlan', ms: 12.5 }]);
  });
});

describe('versionAtLeast', () => {
  it('compares CNI versions numerically', () => {
    expect(versionAtLeast('0.4.0', [0, 4, 0])).toBe(true);
    expect(versionAtLeast('1.0.0', [0, 4, 0])).toBe(true);
    expect(versionAtLeast('0.3.1', [0, 4, 0])).toBe(false);
    expect(versionAtLeast('0.10.0', [0, 4, 0])).toBe(true);
  });
});
