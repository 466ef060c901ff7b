// Thick mode: the built shim (dist/multus-shim, sh + curl) and daemon (dist/multus-daemon) in the
// node namespace, with the real Debian delegates and the embedded API server: every verb through the
// socket, the daemon's caches and health, and the failure modes — daemon down (code 11 at once),
// daemon restarted (the pending DEL cleans up), API down (DEL from the on-disk cache).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { podInterfaces, REFERENCE_PLUGINS, skipReason, TestBed, TestNode, useTestBed, type RunResult } from './harness.ts';

const DIST = resolve(import.meta.dirname, '../dist');
const SHIM = join(DIST, 'multus-shim');
const DAEMON = join(DIST, 'multus-daemon');
const NODE_NAME = 'node-thick';

const reason = skipReason();

/** GET /healthz over the daemon's socket. */
function health(socket: string): Promise<Record<string, unknown> | undefined> {
  return new Promise((res) => {
    const req = request({ socketPath: socket, path: '/healthz' }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res(r.statusCode === 200 ? (JSON.parse(body) as Record<string, unknown>) : undefined));
    });
    req.on('error', () => res(undefined));
    req.end();
  });
}

class Daemon {
  private child: ChildProcess | undefined;
  readonly socketDir: string;
  readonly configFile: string;
  constructor(
    private readonly bed: TestBed,
    private readonly node: TestNode,
  ) {
    this.socketDir = join(bed.dir, 'run');
    this.configFile = join(bed.dir, 'daemon-config.json');
    writeFileSync(
      this.configFile,
      JSON.stringify({ socketDir: this.socketDir, kubeconfig: bed.kubeconfig, cniDir: bed.cniDir, confDir: bed.confDir, binDir: REFERENCE_PLUGINS, logFile: bed.logFile, logLevel: 'debug' }),
    );
  }
  get socket(): string {
    return join(this.socketDir, 'multus.sock');
  }
  async start(): Promise<void> {
    // `ip netns exec` execs the daemon itself, so the child's pid is the daemon's.
    this.child = spawn('ip', ['netns', 'exec', this.node.ns, process.execPath, DAEMON, '--config', this.configFile], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', MULTUS_NODE_NAME: NODE_NAME },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; i < 200; i++) {
      if (await health(this.socket)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('multus-daemon did not answer /healthz within 10 s');
  }
  /** SIGKILL: no clean shutdown, the socket file stays behind. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }
}

describe.skipIf(reason !== undefined)('thick mode (built shim + daemon, real netns, HTTPS API)', () => {
  const node = new TestNode();
  let bed: TestBed;
  let daemon: Daemon | undefined;
  useTestBed(node, (b) => {
    bed = b;
  });
  const startDaemon = async (): Promise<Daemon> => {
    daemon = new Daemon(bed, node);
    await daemon.start();
    return daemon;
  };
  // Registered after useTestBed's hooks, so (after-hooks run last-registered first) the daemon is
  // stopped before its bed and dirs go away.
  afterEach(async () => daemon?.kill());

  /** Debian's reference plugins speak up to 1.0.0; a 1.1.0 Multus config delegates to them at 1.0.0. */
  const delegateVersion = (v: string) => (v === '1.1.0' ? '1.0.0' : v);
  const shimConf = (cniVersion: string, d: Daemon) =>
    bed.multusConf({ cniVersion, type: 'multus-shim', daemonSocketDir: d.socketDir, clusterNetwork: undefined, delegates: [bed.clusterNetwork(delegateVersion(cniVersion))] });
  const call = (verb: string, conf: unknown, args: string, extra: Record<string, string> = {}): Promise<RunResult> =>
    node.run(verb, conf, { containerId: bed.containerId, netns: bed.pod.path, ifname: 'eth0', args, ...extra }, SHIM);
  /** A DEL that succeeded silently and left no interface, IPAM allocation or cache file of the pod. */
  const expectCleanDel = (del: RunResult): void => {
    expect(del.stdout + del.stderr).toBe('');
    expect(del.code).toBe(0);
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
    expect(bed.cacheFiles()).toEqual([]);
  };

  async function podOnNode(annotations: Record<string, string>): Promise<string> {
    const pod = await bed.must('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default', annotations },
      spec: { nodeName: NODE_NAME, containers: [{ name: 'c', image: 'registry.invalid/pause' }] },
    });
    const uid = (pod['metadata'] as { uid: string }).uid;
    return `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=${bed.containerId};K8S_POD_UID=${uid}`;
  }

  for (const cniVersion of ['0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
    it(`ADD → network-status → (CHECK) → DEL → DEL at cniVersion ${cniVersion}`, async () => {
      const d = await startDaemon();
      await bed.nad('default', 'mv', bed.macvlan({}, delegateVersion(cniVersion)));
      const args = await podOnNode({ 'k8s.v1.cni.cncf.io/networks': 'mv' });
      const conf = shimConf(cniVersion, d);
      const add = await call('ADD', conf, args);
      expect(add.stderr).toBe('');
      expect(add.code).toBe(0);
      expect(add.json?.['cniVersion']).toBe(cniVersion);
      expect(JSON.stringify(add.json)).toContain(`198.18.${node.octet}.`);
      expect(podInterfaces(bed)).toEqual(['eth0', 'net1']);
      const status = JSON.parse((await bed.podAnnotations('default', 'web'))['k8s.v1.cni.cncf.io/network-status'] ?? '[]') as Record<string, unknown>[];
      expect(status.map((s) => [s['name'], s['interface']])).toEqual([
        ['me2ep-default', 'eth0'],
        ['default/mv', 'net1'],
      ]);
      expect(bed.cacheFiles()).toEqual([bed.containerId]);
      if (cniVersion !== '0.3.1') {
        const check = await call('CHECK', { ...conf, prevResult: add.json }, args);
        expect(check.stdout + check.stderr).toBe('');
        expect(check.code).toBe(0);
        bed.pod.removeLink('net1');
        const broken = await call('CHECK', { ...conf, prevResult: add.json }, args);
        expect(broken.code).toBe(1);
        expect(broken.json).toMatchObject({ cniVersion, code: 103, msg: expect.stringContaining('interface net1 of network default/mv is missing') });
      }
      const del = await call('DEL', conf, args);
      expectCleanDel(del);
      expect((await call('DEL', conf, args)).code).toBe(0);
      // Per-call and per-delegate timing lines from the daemon, with the call's fields.
      const lines = bed.logLines().filter((l) => l['containerId'] === bed.containerId);
      expect(lines.filter((l) => l['msg'] === 'delegate' && l['verb'] === 'ADD').map((l) => [l['network'], l['ok']])).toEqual([
        ['me2ep-default', true],
        ['default/mv', true],
      ]);
      expect(lines.filter((l) => l['msg'] === 'call').map((l) => l['verb'])).toEqual(cniVersion === '0.3.1' ? ['ADD', 'DEL', 'DEL'] : ['ADD', 'CHECK', 'CHECK', 'DEL', 'DEL']);
      for (const l of lines.filter((x) => x['msg'] === 'call')) expect(l['ms']).toBeLessThan(10_000);
    });
  }

  it('STATUS and GC (1.1.0) through the daemon; /healthz reports the watch caches and their hits', async () => {
    const d = await startDaemon();
    await bed.nad('default', 'mv', bed.macvlan());
    const args = await podOnNode({ 'k8s.v1.cni.cncf.io/networks': 'mv' });
    // Both objects reach the watch caches before the ADD asks for them.
    for (let i = 0; i < 100; i++) {
      const h = await health(d.socket);
      const w = h?.['watches'] as Record<string, { objects: number; synced: boolean }> | undefined;
      if (w?.[`pods on ${NODE_NAME}`]?.objects === 1 && w['network-attachment-definitions']?.objects === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const conf = shimConf('1.1.0', d);
    // A 1.0.0 cluster network gets no STATUS forwarded: ready means the daemon answered.
    const status = await call('STATUS', conf, '');
    expect(status.stdout + status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect((await call('ADD', conf, args)).code).toBe(0);
    const h = await health(d.socket);
    expect(h).toMatchObject({ ok: true, node: NODE_NAME, cacheReads: { hits: 2, misses: 0 } });
    // GC with an empty valid list: the attachment is stale and everything is released.
    const gc = await node.run('GC', { ...conf, 'cni.dev/valid-attachments': [] }, { containerId: '', ifname: '' }, SHIM);
    expect(gc.stdout + gc.stderr).toBe('');
    expect(gc.code).toBe(0);
    expect(bed.ipamAllocations()).toEqual([]);
    expect(bed.cacheFiles()).toEqual([]);
  });

  it('daemon stopped: every verb fails at once with code 11, stale socket file or none', async () => {
    const d = await startDaemon();
    const conf = shimConf('1.0.0', d);
    await d.kill('SIGKILL');
    for (const verb of ['ADD', 'DEL', 'CHECK']) {
      const started = performance.now();
      const r = await call(verb, conf, '');
      expect(performance.now() - started).toBeLessThan(2000);
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({ cniVersion: '1.0.0', code: 11, msg: expect.stringContaining(d.socket) });
    }
    // A clean stop removes the socket: the shim says so without trying to connect.
    await startDaemon();
    await daemon?.kill('SIGTERM');
    const r = await call('ADD', conf, '');
    expect(r.json).toMatchObject({ code: 11, msg: `multus daemon is not running: no socket ${d.socket}` });
    expect(podInterfaces(bed)).toEqual([]);
  });

  it('daemon restarted: the DEL that failed while it was down succeeds after and cleans up everything', async () => {
    const d = await startDaemon();
    await bed.nad('default', 'mv', bed.macvlan());
    const args = await podOnNode({ 'k8s.v1.cni.cncf.io/networks': 'mv' });
    const conf = shimConf('1.0.0', d);
    expect((await call('ADD', conf, args)).code).toBe(0);
    expect(bed.ipamAllocations()).toHaveLength(2);
    await d.kill('SIGKILL');
    const pending = await call('DEL', conf, args);
    expect(pending.json).toMatchObject({ code: 11 });
    expect(podInterfaces(bed)).toEqual(['eth0', 'net1']);
    await d.start();
    const del = await call('DEL', conf, args);
    expectCleanDel(del);
  });

  it('API server down during DEL: the daemon deletes from its on-disk cache', async () => {
    const d = await startDaemon();
    await bed.nad('default', 'mv', bed.macvlan());
    const args = await podOnNode({ 'k8s.v1.cni.cncf.io/networks': 'mv' });
    const conf = shimConf('1.0.0', d);
    expect((await call('ADD', conf, args)).code).toBe(0);
    await bed.stopApi();
    const started = performance.now();
    const del = await call('DEL', conf, args);
    expect(performance.now() - started).toBeLessThan(2000);
    expectCleanDel(del);
    expect(await health(d.socket)).toMatchObject({ ok: true });
  });
});
