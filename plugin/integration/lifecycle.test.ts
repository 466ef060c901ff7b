// ADD → network-status → CHECK → DEL → DEL on real namespaces with Debian's reference plugins.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { podInterfaces, sh, skipReason, TestBed, TestNode, useTestBed } from './harness.ts';

const reason = skipReason();
if (reason) console.warn(`plugin integration tests skipped: ${reason}`);

describe.skipIf(reason !== undefined)('plugin lifecycle (built plugin, real netns, HTTPS API)', () => {
  const node = new TestNode();
  let bed: TestBed;
  useTestBed(node, (b) => { bed = b; });

  it('attaches cluster + NAD networks, writes network-status, CHECKs, and DEL (twice) leaves nothing', async () => {
    await bed.nad('default', 'mv', bed.macvlan());
    await bed.nad('default', 'fixed', {
      cniVersion: '0.4.0',
      plugins: [
        { type: 'macvlan', master: 'm0', mode: 'bridge', ipam: { type: 'static' } },
        { type: 'tuning', capabilities: { mac: true } },
      ],
    });
    // static IPAM gets its address through the "ips" capability of a second NAD
    await bed.nad('default', 'static-ips', { cniVersion: '1.0.0', type: 'macvlan', master: 'm0', ipam: { type: 'static' }, capabilities: { ips: true } });
    const o = node.octet;
    const args = await bed.createPod('default', 'web', {
      'k8s.v1.cni.cncf.io/networks': JSON.stringify([
        { name: 'mv' },
        { name: 'fixed', interface: 'fixed0', mac: '02:00:00:00:be:ef', 'cni-args': { ips: [`198.18.${o}.140/26`] } },
        { name: 'static-ips', ips: [`198.18.${o}.150/26`] },
      ]),
    });
    const conf = bed.multusConf();
    const add = await bed.call('ADD', conf, args);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    // ADD returns the cluster network's result in the plugin's own version
    expect(add.json).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: expect.stringMatching(new RegExp(`^198\\.18\\.${o}\\.\\d+/26$`)) }] });

    expect(podInterfaces(bed)).toEqual(['eth0', 'fixed0', 'net1', 'net3']);
    const addrs = bed.pod.addresses();
    expect(addrs['eth0']?.[0]).toMatch(new RegExp(`^198\\.18\\.${o}\\.(6[5-9]|[7-9]\\d|1[01]\\d|12[0-7])/26$`));
    expect(addrs['net1']?.[0]).toMatch(new RegExp(`^198\\.18\\.${o}\\.1[3-9]\\d/26$`));
    expect(addrs['fixed0']).toEqual([`198.18.${o}.140/26`]);
    expect(addrs['net3']).toEqual([`198.18.${o}.150/26`]);
    const links = Object.fromEntries(bed.pod.links().map((l) => [l.ifname, l]));
    expect(links['fixed0']?.address).toBe('02:00:00:00:be:ef');

    const status = JSON.parse((await bed.podAnnotations('default', 'web'))['k8s.v1.cni.cncf.io/network-status'] ?? '[]') as Record<string, unknown>[];
    expect(status.map((s) => [s['name'], s['interface'], s['default']])).toEqual([
      ['me2ep-default', 'eth0', true],
      ['default/mv', 'net1', false],
      ['default/fixed', 'fixed0', false],
      ['default/static-ips', 'net3', false],
    ]);
    expect(status[0]?.['ips']).toEqual([addrs['eth0']?.[0]?.split('/')[0]]);
    expect(status[0]?.['mac']).toBe(links['eth0']?.address);
    expect(status[2]).toMatchObject({ ips: [`198.18.${o}.140`], mac: '02:00:00:00:be:ef' });
    expect(status.filter((s) => s['default'] === true)).toHaveLength(1);

    expect(bed.cacheFiles()).toEqual([bed.containerId]);
    const log = bed.logLines();
    const delegates = log.filter((l) => l['msg'] === 'delegate' && l['verb'] === 'ADD');
    expect(delegates.map((l) => [l['network'], l['type'], l['ifname'], l['ok']])).toEqual([
      ['me2ep-default', 'bridge', 'eth0', true],
      ['default/mv', 'macvlan', 'net1', true],
      ['default/fixed', 'macvlan', 'fixed0', true],
      ['default/static-ips', 'macvlan', 'net3', true],
    ]);
    for (const l of delegates) expect(l).toMatchObject({ containerId: bed.containerId, pod: 'default/web', ms: expect.any(Number), time: expect.any(String), level: 'verbose' });
    expect(log.at(-1)).toMatchObject({ msg: 'call', verb: 'ADD', ok: true, pod: 'default/web', ms: expect.any(Number) });

    const check = await bed.call('CHECK', { ...conf, prevResult: add.json }, args);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.code).toBe(0);

    // CHECK must notice an interface removed behind the plugin's back
    bed.pod.removeLink('net1');
    const broken = await bed.call('CHECK', { ...conf, prevResult: add.json }, args);
    expect(broken.code).not.toBe(0);
    expect(broken.json).toMatchObject({ code: 103, msg: expect.stringContaining('interface net1 of network default/mv is missing') });

    expect(bed.ipamAllocations().length).toBe(2);
    const del = await bed.call('DEL', conf, args);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
    expect(bed.cacheFiles()).toEqual([]);
    const del2 = await bed.call('DEL', conf, args);
    expect(del2).toMatchObject({ code: 0, stdout: '' });
  });

  it('keeps a V8 code cache of its bundle in cniDir (0600), made by an ADD; a corrupt one is not used and is written anew', async () => {
    const args = await bed.createPod('default', 'cc');
    const conf = bed.multusConf();
    const file = join(bed.cniDir, '.code-cache');
    // Other verbs compile little of the ADD path: they write no cache.
    const version = await bed.call('VERSION', conf, args);
    expect(version.json).toMatchObject({ cniVersion: '1.0.0' });
    expect(existsSync(file)).toBe(false);
    const add = await bed.call('ADD', conf, args);
    expect(add.code, add.stdout).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const corrupt = readFileSync(file);
    for (let i = 40; i < corrupt.length; i += 97) corrupt[i] = (corrupt[i] ?? 0) ^ 0xff;
    writeFileSync(file, corrupt);
    const del = await bed.call('DEL', conf, args);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(podInterfaces(bed)).toEqual([]);
    expect(readFileSync(file).equals(corrupt)).toBe(true);
    const again = await bed.call('ADD', conf, args);
    expect(again.code, again.stdout).toBe(0);
    expect(podInterfaces(bed)).toEqual(['eth0']);
    expect(readFileSync(file).equals(corrupt)).toBe(false);
    expect(await bed.call('DEL', conf, args)).toMatchObject({ code: 0, stdout: '' });
  });

  it('DEL works from the cache with the API server stopped', async () => {
    await bed.nad('default', 'mv', bed.macvlan());
    const args = await bed.createPod('default', 'p1', { 'k8s.v1.cni.cncf.io/networks': 'mv,mv' });
    const conf = bed.multusConf();
    const add = await bed.call('ADD', conf, args);
    expect(add.code, add.stdout).toBe(0);
    // the same network twice gives two attachments
    expect(podInterfaces(bed)).toEqual(['eth0', 'net1', 'net2']);
    expect(bed.ipamAllocations()).toHaveLength(3);
    await bed.stopApi();
    const start = Date.now();
    const del = await bed.call('DEL', conf, args);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(Date.now() - start).toBeLessThan(2000);
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
    expect(bed.cacheFiles()).toEqual([]);
  });

  it('rolls back every earlier delegate in reverse when a later one fails', async () => {
    await bed.nad('default', 'mv', bed.macvlan());
    await bed.nad('default', 'broken', bed.recorder({ failOn: 'ADD' }));
    const args = await bed.createPod('default', 'p2', { 'k8s.v1.cni.cncf.io/networks': 'mv,broken' });
    const add = await bed.call('ADD', bed.multusConf(), args);
    expect(add.code).toBe(1);
    expect(add.json).toMatchObject({
      code: 111,
      msg: expect.stringMatching(/network default\/broken \(interface net2\): ADD of network "broken" failed in delegate "fail": injected ADD failure/),
    });
    expect(bed.recorded()).toEqual([`ADD net2 ${bed.containerId}`, `DEL net2 ${bed.containerId}`]);
    const dels = bed.logLines().filter((l) => l['msg'] === 'delegate' && l['verb'] === 'DEL').map((l) => l['ifname']);
    expect(dels).toEqual(['net2', 'net1', 'eth0']);
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
    expect(bed.cacheFiles()).toEqual([]);
    expect(bed.logLines().at(-1)).toMatchObject({ msg: 'call', ok: false, level: 'error' });
  });

  it('refuses a missing pod instead of faking success, and retries a stopped API for ~2.5 s', async () => {
    const missing = await bed.call('ADD', bed.multusConf(), `K8S_POD_NAMESPACE=default;K8S_POD_NAME=ghost;K8S_POD_UID=x`);
    expect(missing.json).toMatchObject({ code: 102, msg: 'pod default/ghost not found' });
    const args = await bed.createPod('default', 'p3');
    const stale = await bed.call('ADD', bed.multusConf(), args.replace(/K8S_POD_UID=[^;]+/, 'K8S_POD_UID=0000-old'));
    expect(stale.json).toMatchObject({ code: 102, msg: expect.stringMatching(/^pod default\/p3 has UID .+, expected 0000-old \(the pod was recreated\)$/) });
    await bed.stopApi();
    const start = Date.now();
    const down = await bed.call('ADD', bed.multusConf(), args);
    const took = Date.now() - start;
    expect(down.json).toMatchObject({ code: 11, msg: expect.stringContaining('unavailable') });
    expect(took).toBeGreaterThan(2000);
    expect(took).toBeLessThan(6000);
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.cacheFiles()).toEqual([]);
  });

  it('re-derives DEL from the pod when the cache is unreadable, and logs it', async () => {
    await bed.nad('default', 'mv', bed.macvlan());
    const args = await bed.createPod('default', 'p4', { 'k8s.v1.cni.cncf.io/networks': 'mv' });
    const conf = bed.multusConf();
    expect((await bed.call('ADD', conf, args)).code).toBe(0);
    writeFileSync(join(bed.cniDir, bed.containerId), '{ not json');
    const del = await bed.call('DEL', conf, args);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
    expect(bed.logLines().some((l) => l['msg'] === 'cache unreadable; re-deriving attachments from the pod' && String(l['reason']).includes('invalid JSON'))).toBe(true);
  });

  it('reaches the API with every kubeconfig form: CA file + token file, insecure, and fails fast on a wrong CA', async () => {
    const api = bed.api;
    if (!api) throw new Error('no API');
    writeFileSync(join(bed.dir, 'ca.pem'), api.caPem);
    writeFileSync(join(bed.dir, 'token'), `${api.token}\n`);
    const kubeconfig = (cluster: string, user: string) =>
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${api.url}\n${cluster}contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\nusers:\n- name: u\n  user:\n${user}`;
    const ghost = 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=ghost';
    const files = {
      files: kubeconfig('    certificate-authority: ca.pem\n', '    tokenFile: token\n'),
      insecure: kubeconfig('    insecure-skip-tls-verify: true\n', `    token: ${api.token}\n`),
      wrongCa: kubeconfig('    certificate-authority: other-ca.pem\n', `    token: ${api.token}\n`),
      badToken: kubeconfig('    certificate-authority: ca.pem\n', '    token: wrong\n'),
    };
    // a valid CA that did not sign the server's certificate
    sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=me2ep-other', '-days', '1', '-keyout', join(bed.dir, 'other-ca.key'), '-out', join(bed.dir, 'other-ca.pem')]);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(bed.dir, `kc-${name}`), text);
    // a 404 for the pod proves the request got through TLS and authentication
    for (const name of ['files', 'insecure']) {
      const r = await bed.call('ADD', bed.multusConf({ kubeconfig: join(bed.dir, `kc-${name}`) }), ghost);
      expect(r.json, name).toMatchObject({ code: 102, msg: 'pod default/ghost not found' });
    }
    const start = Date.now();
    const wrong = await bed.call('ADD', bed.multusConf({ kubeconfig: join(bed.dir, 'kc-wrongCa') }), ghost);
    expect(wrong.json).toMatchObject({ code: 101, msg: expect.stringMatching(/Kubernetes API GET \/api\/v1\/namespaces\/default\/pods\/ghost failed: .*certificate/i) });
    expect(Date.now() - start).toBeLessThan(2000);
    const unauthorized = await bed.call('ADD', bed.multusConf({ kubeconfig: join(bed.dir, 'kc-badToken') }), ghost);
    expect(unauthorized.json).toMatchObject({ code: 101, msg: expect.stringContaining('HTTP 401') });
  });

  it('DEL without cache and without the pod deletes the cluster network and logs what is unknown', async () => {
    await bed.nad('default', 'mv', bed.macvlan());
    const args = await bed.createPod('default', 'gone', { 'k8s.v1.cni.cncf.io/networks': 'mv' });
    const conf = bed.multusConf();
    expect((await bed.call('ADD', conf, args)).code).toBe(0);
    rmSync(join(bed.cniDir, bed.containerId));
    await bed.must('DELETE', '/api/v1/namespaces/default/pods/gone');
    const del = await bed.call('DEL', conf, args);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(podInterfaces(bed)).toEqual(['net1']);
    const line = bed.logLines().find((l) => l['msg'] === 'DEL without cache: not everything could be determined');
    expect(line).toMatchObject({ level: 'error', detail: expect.stringContaining('pod default/gone could not be read (pod default/gone not found); its secondary networks') });
  });

  it('CHECK reports a delegate\'s own CHECK failure', async () => {
    await bed.nad('default', 'rec', bed.recorder({ failOn: 'CHECK' }));
    const args = await bed.createPod('default', 'chk', { 'k8s.v1.cni.cncf.io/networks': 'rec@eth1' });
    const conf = bed.multusConf();
    expect((await bed.call('ADD', conf, args)).code).toBe(0);
    // the recorder creates no interface; give it one so only its CHECK can fail
    bed.pod.addVeth('eth1');
    const check = await bed.call('CHECK', conf, args);
    expect(check.json).toMatchObject({ code: 111, msg: expect.stringContaining('network default/rec (interface eth1): CHECK of network "rec" failed in delegate "fail": injected CHECK failure') });
    expect(bed.recordedConf('CHECK', 'eth1')['prevResult']).toEqual({ cniVersion: '1.0.0', interfaces: [{ name: 'eth1', sandbox: bed.pod.path }], dns: {} });
    expect((await bed.call('DEL', conf, args)).code).toBe(0);
  });

  it.each([false, true])('DEL continues past a failing delegate and reports it (retryDeleteOnError=%s)', async (retry) => {
    await bed.nad('default', 'mv', bed.macvlan());
    await bed.nad('default', 'stuck', bed.recorder({ failOn: 'DEL' }));
    const args = await bed.createPod('default', 'stuck', { 'k8s.v1.cni.cncf.io/networks': 'mv,stuck' });
    const conf = bed.multusConf({ retryDeleteOnError: retry });
    expect((await bed.call('ADD', conf, args)).code).toBe(0);
    const del = await bed.call('DEL', conf, args);
    expect(del.json).toMatchObject({ code: 111, msg: expect.stringContaining('DEL failed for 1 attachment(s): default/stuck (net2)') });
    // the others were still deleted
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
    if (retry) {
      const cache = JSON.parse(readFileSync(join(bed.cniDir, bed.containerId), 'utf8')) as { attachments: { network: string }[] };
      expect(cache.attachments.map((a) => a.network)).toEqual(['default/stuck']);
    } else expect(bed.cacheFiles()).toEqual([]);
  });

  it('DEL cleans up after the plugin was SIGKILLed in the middle of ADD', async () => {
    await bed.nad('default', 'mv', bed.macvlan());
    await bed.nad('default', 'hang', bed.recorder({ hangOn: 'ADD' }));
    const args = await bed.createPod('default', 'killed', { 'k8s.v1.cni.cncf.io/networks': 'mv,hang' });
    const conf = bed.multusConf();
    // killed while the third delegate hangs: eth0 and net1 exist, the cache says ADD did not finish
    await node.runAndKill('ADD', conf, { containerId: bed.containerId, netns: bed.pod.path, ifname: 'eth0', args }, () => bed.recorded().length > 0);
    expect(podInterfaces(bed)).toEqual(['eth0', 'net1']);
    const cache = JSON.parse(readFileSync(join(bed.cniDir, bed.containerId), 'utf8')) as { complete: boolean; attachments: { ifname: string; result?: unknown }[] };
    expect(cache.complete).toBe(false);
    expect(cache.attachments.map((a) => [a.ifname, a.result !== undefined])).toEqual([
      ['eth0', true],
      ['net1', true],
      ['net2', false],
    ]);
    expect((await bed.call('CHECK', conf, args)).json).toMatchObject({ code: 103, msg: expect.stringContaining('did not complete') });
    const del = await bed.call('DEL', conf, args);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
    expect(bed.cacheFiles()).toEqual([]);
    expect(bed.recorded()).toEqual([`ADD net2 ${bed.containerId}`, `DEL net2 ${bed.containerId}`]);
  });

  it('DEL after the runtime removed the netns (empty CNI_NETNS) releases every address', async () => {
    await bed.nad('default', 'mv', bed.macvlan());
    const args = await bed.createPod('default', 'nonetns', { 'k8s.v1.cni.cncf.io/networks': 'mv' });
    const conf = bed.multusConf();
    expect((await bed.call('ADD', conf, args)).code).toBe(0);
    expect(bed.ipamAllocations()).toHaveLength(2);
    bed.pod.destroy();
    const del = await bed.call('DEL', conf, args, { netns: '' });
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(bed.ipamAllocations()).toEqual([]);
    expect(bed.cacheFiles()).toEqual([]);
    expect((await bed.call('DEL', conf, args, { netns: '' })).code).toBe(0);
  });

  it('a network whose ADD and DEL both fail is rolled back, retried once by the runtime DEL, and does not block the pod', async () => {
    await bed.nad('default', 'mv', bed.macvlan());
    await bed.nad('default', 'hopeless', bed.recorder({ failOn: 'ADD,DEL' }));
    const args = await bed.createPod('default', 'hopeless', { 'k8s.v1.cni.cncf.io/networks': 'mv,hopeless' });
    const conf = bed.multusConf();
    const add = await bed.call('ADD', conf, args);
    expect(add.json).toMatchObject({ code: 111, msg: expect.stringContaining('network default/hopeless (interface net2): ADD') });
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
    // the rollback DEL of net2 failed: it stays recorded for the runtime's DEL
    const cache = JSON.parse(readFileSync(join(bed.cniDir, bed.containerId), 'utf8')) as { attachments: { network: string; addFailed?: boolean }[] };
    expect(cache.attachments).toEqual([expect.objectContaining({ network: 'default/hopeless', addFailed: true })]);
    const del = await bed.call('DEL', conf, args);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(bed.cacheFiles()).toEqual([]);
    expect(bed.recorded()).toEqual([`ADD net2 ${bed.containerId}`, `DEL net2 ${bed.containerId}`, `DEL net2 ${bed.containerId}`]);
    expect(bed.logLines().some((l) => l['msg'] === 'DEL of an attachment whose ADD had failed also failed; not retried' && l['network'] === 'default/hopeless')).toBe(true);
  });
});
