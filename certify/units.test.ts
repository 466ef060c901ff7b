import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCertificate, renderCertificateHtml, renderCertificateJunit } from './certificate.ts';
import { loadCertifyConfig, renderConfig, subnetValues } from './config.ts';
import { judged } from './results.ts';
import { addResultProblems, errorObjectProblems, normalizeResult, versionResultProblems } from './schema.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'certify-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, body: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
};
const values = { name: 'n1', master: 'm0', dataDir: '/d', device: 'dev7', ...subnetValues(200) };

describe('certification config', () => {
  it('fills placeholders inside strings, sets the version under test and drops capabilities', () => {
    const cfg = loadCertifyConfig(write('a.json', { cniVersion: '1.0.0', name: '{{name}}', type: 'macvlan', master: '{{ master }}', capabilities: { ips: true, mac: false },
      ipam: { ranges: [[{ subnet: '{{subnet}}', gateway: '{{gateway}}' }]] } }), '/usr/lib/cni/macvlan');
    expect(cfg.capabilities).toEqual(['ips']);
    expect([...cfg.uses].sort()).toEqual(['gateway', 'master', 'name', 'subnet']);
    expect(renderConfig(cfg, values, '0.4.0')).toEqual({ cniVersion: '0.4.0', name: 'n1', type: 'macvlan', master: 'm0',
      ipam: { ranges: [[{ subnet: '198.18.200.0/24', gateway: '198.18.200.1' }]] } });
  });
  it('names an unknown placeholder and where it is', () => {
    expect(() => loadCertifyConfig(write('b.json', { cniVersion: '1.0.0', name: 'x', type: 't', ipam: { subnet: '{{cidr}}' } }), '/x/t'))
      .toThrow(/b\.json\.ipam\.subnet: unknown placeholder \{\{cidr\}\}/);
  });
  it('takes the delegate\'s entry out of a conflist with the list\'s name and version', () => {
    const cfg = loadCertifyConfig(write('c.conflist', { cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'bridge' }, { type: 'tuning' }] }), '/opt/cni/bin/tuning');
    expect(cfg.template).toEqual({ type: 'tuning', cniVersion: '1.0.0', name: 'net' });
    expect(() => loadCertifyConfig(write('d.conflist', { cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'bridge' }] }), '/x/ptp'))
      .toThrow(/plugins has no entry with "type": "ptp"/);
  });
  it('refuses a config without name, type or cniVersion, naming the key', () => {
    expect(() => loadCertifyConfig(write('e.json', { cniVersion: '1.0.0', type: 't' }), '/x/t')).toThrow(/"name" must be a non-empty string/);
    expect(() => loadCertifyConfig(write('f.json', '{"cniVersion": '), '/x/t')).toThrow(/--config .*f\.json/);
  });
});

describe('result shapes', () => {
  const macvlan10 = { cniVersion: '1.0.0', interfaces: [{ name: 'net1', mac: '0a:58:c6:12:00:02', sandbox: '/run/netns/x' }],
    ips: [{ address: '198.18.200.10/24', gateway: '198.18.200.1', interface: 0 }], routes: [{ dst: '198.19.250.0/24' }], dns: {} };
  it('accepts a CNI 1.0.0 interface result and reads it', () => {
    expect(addResultProblems(macvlan10, '1.0.0', false)).toEqual([]);
    expect(normalizeResult(macvlan10).ips).toEqual([{ address: '198.18.200.10/24', gateway: '198.18.200.1', interface: 0 }]);
  });
  it('names the field that is wrong', () => {
    expect(addResultProblems(macvlan10, '1.1.0', false)).toEqual(['cniVersion: "cniVersion" must be the version requested, "1.1.0"']);
    expect(addResultProblems({ ...macvlan10, ips: [{ address: '198.18.200.10' }] }, '1.0.0', false)).toEqual(['ips.0.address: an IP address in CIDR notation']);
    expect(addResultProblems({ ...macvlan10, cniVersion: '0.3.1' }, '0.3.1', false)[0]).toMatch(/^ips\.0\.version/);
  });
  it('holds an IPAM result to the abbreviated shape', () => {
    expect(addResultProblems({ cniVersion: '1.0.0', ips: [{ address: '198.18.200.10/24' }] }, '1.0.0', true)).toEqual([]);
    expect(addResultProblems(macvlan10, '1.0.0', true).join(' ')).toMatch(/interfaces: an IPAM result has no "interfaces"/);
  });
  it('reads 0.2.0 results (ip4) for the kernel comparison', () => {
    const r = { cniVersion: '0.2.0', ip4: { ip: '198.18.200.11/24', routes: [{ dst: '0.0.0.0/0', gw: '198.18.200.1' }] } };
    expect(addResultProblems(r, '0.2.0', false)).toEqual([]);
    expect(normalizeResult(r)).toEqual({ interfaces: [], ips: [{ address: '198.18.200.11/24' }], routes: [{ dst: '0.0.0.0/0', gw: '198.18.200.1' }] });
  });
  it('judges VERSION results and error objects', () => {
    expect(versionResultProblems({ cniVersion: '1.0.0', supportedVersions: ['0.4.0', '1.0.0'] }, '1.0.0')).toEqual([]);
    expect(versionResultProblems({ cniVersion: '1.0.0', supportedVersions: ['0.4.0'] }, '0.4.0')).toEqual(['cniVersion: "1.0.0", not the version asked, "0.4.0"']);
    expect(errorObjectProblems('{"code": 4, "msg": "required env variables [CNI_NETNS] missing"}')).toEqual([]);
    expect(errorObjectProblems('error: boom')).toEqual(['stdout is not JSON: error: boom']);
    expect(errorObjectProblems('{"code": "4"}').join(' ')).toMatch(/code: .*msg: /);
  });
});

describe('the certificate', () => {
  const base = {
    profile: 'spec', date: '2026-12-01T00:00:00Z', residue: {},
    delegate: { name: 'macvlan', path: '/usr/lib/cni/macvlan', sha256: 'ab', type: 'macvlan', ipamOnly: false, versionClaims: ['1.0.0'], config: 'c.json', configSha256: 'cd' },
    harness: { name: 'multus-e2e', version: '0.1.0' }, environment: { kernel: '6.1', node: 'v20', arch: 'x64' },
  };
  it('is granted only when everything applicable passed', () => {
    const c = buildCertificate({ ...base, requirements: [judged('env.missing', undefined, 'passed', 'x', 'y'), judged('status.ready', '1.0.0', 'not-applicable', 'n/a', '—')] });
    expect(c.verdict).toBe('CERTIFIED');
    expect(renderCertificateJunit(c)).toContain('failures="0" skipped="1"');
  });
  it('is not granted when a requirement could not run, and says why first', () => {
    const c = buildCertificate({ ...base, requirements: [judged('env.missing', undefined, 'passed', 'x', 'y'),
      judged('add.result-true', '1.0.0', 'skipped', 'kernel truth', 'could not run: this kernel cannot create ipvlan links')] });
    expect(c.verdict).toBe('NOT CERTIFIED');
    expect(c.verdictLine).toMatch(/1 could not run here, and a requirement that did not run is not met/);
    const html = renderCertificateHtml(c);
    expect(html.indexOf('NOT CERTIFIED')).toBeLessThan(html.indexOf('add.result-true@1.0.0'));
    expect(html).toContain('could not run: this kernel cannot create ipvlan links');
    expect(renderCertificateJunit(c)).toContain('<failure type="could-not-run"');
  });
});
