// CNI protocol conformance of the built plugin: VERSION, error objects, result conversion for every
// spec version, STATUS, GC, and the installer's output driving a real ADD.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INSTALLER, PLUGIN, PodNetns, podInterfaces, skipReason, TestBed, TestNode, useTestBed } from './harness.ts';

const reason = skipReason();
const VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

describe.skipIf(reason !== undefined)('CNI protocol of the built plugin', () => {
  const node = new TestNode();
  let bed: TestBed;
  useTestBed(node, (b) => { bed = b; });

  it('answers VERSION for every version and reports errors as CNI error objects', async () => {
    for (const v of VERSIONS) {
      const r = await node.run('VERSION', { cniVersion: v }, { containerId: '' });
      expect(r).toMatchObject({ code: 0, json: { cniVersion: v, supportedVersions: VERSIONS } });
    }
    const env = await node.run('ADD', bed.multusConf(), { containerId: 'x', netns: '' });
    expect(env).toMatchObject({ code: 1, json: { code: 4, msg: 'required env variables [CNI_NETNS] missing' } });
    const decode = await node.run('ADD', '{nope', { containerId: 'x', netns: bed.pod.path });
    expect(decode.json).toMatchObject({ code: 6, msg: 'failed to decode network configuration from stdin' });
    const incompatible = await node.run('ADD', bed.multusConf({ cniVersion: '2.0.0' }), { containerId: 'x', netns: bed.pod.path });
    expect(incompatible.json).toMatchObject({ code: 1, msg: expect.stringContaining('incompatible CNI version "2.0.0"') });
    const invalid = await node.run('ADD', { cniVersion: '0.4.0', type: 'multus' }, { containerId: 'x', netns: bed.pod.path });
    expect(invalid.json).toMatchObject({ cniVersion: '0.4.0', code: 7, msg: 'multus config: one of "clusterNetwork" or "delegates" is required' });
  });

  it.each(VERSIONS)('returns the ADD result as cniVersion %s', async (v) => {
    const args = await bed.createPod('default', `v${v.replace(/\./g, '')}`);
    const conf = bed.multusConf({ cniVersion: v });
    const r = await bed.call('ADD', conf, args);
    expect(r.code, r.stdout).toBe(0);
    const eth0 = bed.pod.addresses()['eth0']?.[0];
    expect(r.json?.['cniVersion']).toBe(v);
    if (v === '0.1.0' || v === '0.2.0') {
      expect(r.json).toEqual({ cniVersion: v, ip4: { ip: eth0, gateway: `198.18.${node.octet}.65`, routes: [{ dst: '0.0.0.0/0' }] }, dns: {} });
    } else {
      const ips = r.json?.['ips'] as Record<string, unknown>[];
      expect(ips).toHaveLength(1);
      expect(ips[0]).toMatchObject({ address: eth0, gateway: `198.18.${node.octet}.65` });
      expect(ips[0]?.['version']).toBe(v.startsWith('0.') ? '4' : undefined);
      const ifs = r.json?.['interfaces'] as Record<string, unknown>[];
      expect(ifs[ips[0]?.['interface'] as number]).toMatchObject({ name: 'eth0', sandbox: bed.pod.path });
    }
    if (v === '0.4.0' || v.startsWith('1.')) expect((await bed.call('CHECK', { ...conf, prevResult: r.json }, args)).code).toBe(0);
    else expect((await bed.call('CHECK', conf, args)).json).toMatchObject({ code: 1, msg: expect.stringContaining('CHECK is not defined') });
    expect((await bed.call('DEL', conf, args)).code).toBe(0);
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
  });

  it('converts a 0.2.0 delegate result up to 1.1.0 and still CHECKs its interface', async () => {
    writeFileSync(bed.clusterConf, JSON.stringify(bed.clusterNetwork('0.2.0')));
    const args = await bed.createPod('default', 'legacy');
    const conf = bed.multusConf({ cniVersion: '1.1.0' });
    const r = await bed.call('ADD', conf, args);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toEqual({
      cniVersion: '1.1.0',
      ips: [{ address: bed.pod.addresses()['eth0']?.[0], gateway: `198.18.${node.octet}.65` }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    });
    expect((await bed.call('CHECK', { ...conf, prevResult: r.json }, args)).code).toBe(0);
    bed.pod.removeLink('eth0');
    expect((await bed.call('CHECK', { ...conf, prevResult: r.json }, args)).json).toMatchObject({ code: 103 });
    expect((await bed.call('DEL', conf, args)).code).toBe(0);
    expect(bed.ipamAllocations()).toEqual([]);
  });

  it('STATUS waits for the readiness indicator and forwards to a 1.1.0 cluster network', async () => {
    const ready = join(bed.dir, 'ready');
    writeFileSync(bed.clusterConf, JSON.stringify({ ...bed.recorder({ cniVersion: '1.1.0' }), name: 'rec-default' }));
    const conf = bed.multusConf({ cniVersion: '1.1.0', readinessindicatorfile: ready });
    const notReady = await node.run('STATUS', conf, { containerId: '' });
    expect(notReady.json).toMatchObject({ code: 50, msg: expect.stringContaining(`readiness indicator file ${ready} does not exist`) });
    writeFileSync(ready, '');
    expect(await node.run('STATUS', conf, { containerId: '' })).toMatchObject({ code: 0, stdout: '' });
    expect(bed.recorded()).toEqual(['STATUS  ']);
    writeFileSync(bed.clusterConf, JSON.stringify({ ...bed.recorder({ cniVersion: '1.1.0', failOn: 'STATUS' }), name: 'rec-default' }));
    expect((await node.run('STATUS', conf, { containerId: '' })).json).toMatchObject({ code: 50, msg: expect.stringContaining('cluster network rec-default is not ready') });
  });

  it('GC removes stale attachments and forwards the valid ones to 1.1.0 delegates', async () => {
    await bed.nad('default', 'rec', bed.recorder({ cniVersion: '1.1.0' }));
    await bed.nad('default', 'mv', bed.macvlan());
    const conf = bed.multusConf({ cniVersion: '1.1.0' });
    const keepArgs = await bed.createPod('default', 'keep', { 'k8s.v1.cni.cncf.io/networks': 'rec' });
    expect((await bed.call('ADD', conf, keepArgs)).code).toBe(0);
    const stale = new PodNetns();
    try {
      const staleId = `${bed.containerId}-stale`;
      const staleArgs = (await bed.createPod('default', 'stale', { 'k8s.v1.cni.cncf.io/networks': 'mv' })).replace(bed.containerId, staleId);
      expect((await bed.call('ADD', conf, staleArgs, { containerId: staleId, netns: stale.path })).code).toBe(0);
      expect(bed.ipamAllocations()).toHaveLength(3);
      const gc = await node.run('GC', { ...conf, 'cni.dev/valid-attachments': [{ containerID: bed.containerId, ifname: 'eth0' }] }, { containerId: '' });
      expect(gc).toMatchObject({ code: 0, stdout: '' });
      expect(bed.cacheFiles()).toEqual([bed.containerId]);
      expect(bed.ipamAllocations()).toHaveLength(1);
      expect(bed.recordedConf('GC', '')['cni.dev/valid-attachments']).toEqual([{ containerID: bed.containerId, ifname: 'net1' }]);
    } finally {
      stale.destroy();
    }
    expect((await bed.call('DEL', conf, keepArgs)).code).toBe(0);
  });

  it('installer output drives a real ADD; --cleanup-config-on-exit removes it on SIGTERM', async () => {
    const api = bed.api;
    if (!api) throw new Error('no API');
    const netd = join(bed.dir, 'net.d');
    const bin = join(bed.dir, 'bin');
    const sa = join(bed.dir, 'sa');
    mkdirSync(netd);
    mkdirSync(sa);
    writeFileSync(join(netd, '10-default.conflist'), JSON.stringify(bed.clusterNetwork()));
    writeFileSync(join(sa, 'token'), api.token);
    writeFileSync(join(sa, 'ca.crt'), api.caPem);
    const argv = [
      `--cni-conf-dir=${netd}`,
      `--cni-bin-dir=${bin}`,
      '--multus-conf-file=auto',
      `--multus-kubeconfig-file-host=${join(netd, 'multus.d', 'multus.kubeconfig')}`,
      `--multus-log-file=${bed.logFile}`,
      '--multus-log-level=verbose',
      `--service-account-dir=${sa}`,
      '--cni-version=1.0.0',
      '--cleanup-config-on-exit',
    ];
    const child = spawn(INSTALLER, argv, { env: { PATH: process.env['PATH'], KUBERNETES_SERVICE_HOST: node.hostAddr, KUBERNETES_SERVICE_PORT: String(api.port) } });
    let out = '';
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('waiting for SIGTERM')) res();
      });
      child.on('exit', (code) => rej(new Error(`installer exited ${code}: ${out}`)));
    });
    expect(readFileSync(join(bin, 'multus'))).toEqual(readFileSync(PLUGIN));
    const list = JSON.parse(readFileSync(join(netd, '00-multus.conflist'), 'utf8')) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    // what libcni would send: the plugin config with the list's name and cniVersion; state dirs moved
    // to the test's temp dir so the host's /var/lib/cni is never touched
    const conf = { ...list.plugins[0], cniVersion: list.cniVersion, name: list.name, cniDir: bed.cniDir, binDir: '/usr/lib/cni' };
    await bed.nad('default', 'mv', bed.macvlan());
    const args = await bed.createPod('default', 'installed', { 'k8s.v1.cni.cncf.io/networks': 'mv' });
    // run the copy the installer put into the bin dir: a lone file, no package.json, no node_modules
    const installed = join(bin, 'multus');
    const call = { containerId: bed.containerId, netns: bed.pod.path, ifname: 'eth0', args };
    const r = await node.run('ADD', conf, call, installed);
    expect(r.code, r.stdout).toBe(0);
    expect(podInterfaces(bed)).toEqual(['eth0', 'net1']);
    expect((await node.run('DEL', conf, call, installed)).code).toBe(0);
    expect(podInterfaces(bed)).toEqual([]);
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(netd, '00-multus.conflist'))).toBe(false);
    expect(existsSync(join(netd, 'multus.d', 'multus.kubeconfig'))).toBe(false);
    expect(existsSync(join(netd, '10-default.conflist'))).toBe(true);
  });
});
