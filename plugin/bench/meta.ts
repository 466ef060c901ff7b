// npm run bench:meta — Multus-compatible meta-plugins side by side, in one run, against a real
// kube-apiserver + etcd: the same delegates (loopback as the cluster network, a macvlan/host-local NAD
// as net1), the same pods, calls interleaved plugin by plugin so machine noise hits all alike.
//
//   npm run bench:meta -- [--kube-apiserver PATH --etcd PATH] [--runs 20] [--rss-pods 100] [PLUGIN…]
//   PLUGIN: thin:PATH (or a bare PATH) | thick:SHIM,DAEMON   (e.g. upstream's multus, multus-shim + multus-daemon)
//
// Our thin (dist/multus) and our thick (dist/multus-shim + dist/multus-daemon) always run, first.
// Without --kube-apiserver/--etcd, KUBEBUILDER_ASSETS must name a directory holding both.
// Prints ADD/DEL p50/p90 per plugin with the ratio to the first, start-up alone (VERSION) next to
// `node -e 0`, each daemon's RSS after --rss-pods pods, and where our thin ADD spends its time (its
// own timing lines). Targets are reported, not asserted.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { resolveControlPlane, startRealControlPlane } from '../../clusters/local/real-control-plane.ts';
import { KubeClient } from '../k8s/client.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'plugin/dist');
const DELEGATES = '/usr/lib/cni';
const NODE_NAME = 'bench-node';
const CNI_VERSION = '1.0.0';

type PluginSpec = { label: string; kind: 'thin'; path: string } | { label: string; kind: 'thick'; shim: string; daemon: string; ours: boolean };

function usage(msg: string): never {
  console.error(`bench:meta: ${msg}\nusage: npm run bench:meta -- [--kube-apiserver PATH --etcd PATH] [--runs N] [--rss-pods N] [thin:PATH | PATH | thick:SHIM,DAEMON]…`);
  process.exit(2);
}

function parsePlugin(arg: string): PluginSpec {
  const file = (p: string) => {
    const full = resolve(p);
    if (!existsSync(full)) usage(`${full} does not exist`);
    return full;
  };
  if (arg.startsWith('thick:')) {
    const parts = arg.slice('thick:'.length).split(',');
    if (parts.length !== 2 || !parts[0] || !parts[1]) usage(`thick: needs SHIM,DAEMON, got "${arg}"`);
    return { label: `thick ${basename(parts[0])} + ${basename(parts[1])}`, kind: 'thick', shim: file(parts[0]), daemon: file(parts[1]), ours: false };
  }
  const path = file(arg.startsWith('thin:') ? arg.slice('thin:'.length) : arg);
  return { label: `thin ${basename(path)} (${dirname(path)})`, kind: 'thin', path };
}

function stats(xs: number[]): { p50: number; p90: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { p50: at(0.5), p90: at(0.9) };
}

function timed(cmd: string, input: string, env: NodeJS.ProcessEnv): { ms: number; out: string; code: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, [], { input, env, encoding: 'utf8', timeout: 60_000 });
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, out: `${r.stdout}${r.stderr}`, code: r.status ?? -1 };
}

/** A pod network namespace held by a sleeping process: /proc/PID/ns/net is its path (no /run/netns). */
async function podNetns(): Promise<{ path: string; close: () => void }> {
  const holder = spawn('unshare', ['--net', 'sleep', 'infinity'], { stdio: 'ignore' });
  const own = readlinkSync('/proc/self/ns/net');
  const path = `/proc/${holder.pid}/ns/net`;
  for (let i = 0; i < 200; i++) {
    try {
      if (readlinkSync(path) !== own) return { path, close: () => holder.kill('SIGKILL') };
    } catch {
      // not started yet
    }
    await sleep(5);
  }
  holder.kill('SIGKILL');
  throw new Error('pod netns holder did not start');
}

function health(socket: string): Promise<boolean> {
  return new Promise((res) => {
    const req = httpRequest({ socketPath: socket, path: '/healthz' }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.end();
  });
}

function healthOf(socket: string): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const req = httpRequest({ socketPath: socket, path: '/healthz' }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res(JSON.parse(body) as Record<string, unknown>));
    });
    req.on('error', rej);
    req.end();
  });
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'kube-apiserver': { type: 'string' }, etcd: { type: 'string' }, runs: { type: 'string' }, 'rss-pods': { type: 'string' } },
  });
  if (process.getuid?.() !== 0) usage('needs root (network namespaces, macvlan)');
  const runs = Number(values.runs ?? 20);
  const rssPods = Number(values['rss-pods'] ?? 100);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(rssPods) || rssPods < 0) usage('--runs and --rss-pods take whole numbers');
  const binaries = resolveControlPlane({ ...(values['kube-apiserver'] ? { kubeApiserver: values['kube-apiserver'] } : {}), ...(values.etcd ? { etcd: values.etcd } : {}) }, process.env);
  if (!binaries) usage('needs a real control plane: --kube-apiserver PATH --etcd PATH, or KUBEBUILDER_ASSETS');
  for (const f of ['multus', 'multus-shim', 'multus-daemon']) if (!existsSync(join(DIST, f))) usage(`${join(DIST, f)} missing: run npm run build`);
  const plugins: PluginSpec[] = [
    { label: 'ours thin', kind: 'thin', path: join(DIST, 'multus') },
    { label: 'ours thick', kind: 'thick', shim: join(DIST, 'multus-shim'), daemon: join(DIST, 'multus-daemon'), ours: true },
    ...positionals.map(parsePlugin),
  ];

  const dir = mkdtempSync(join(tmpdir(), 'me2ep-meta-'));
  const master = `me2eb${randomBytes(3).toString('hex')}`;
  const daemons: ChildProcess[] = [];
  let api: Awaited<ReturnType<typeof startRealControlPlane>> | undefined;
  let client: KubeClient | undefined;
  try {
    console.log('starting etcd + kube-apiserver …');
    api = await startRealControlPlane({ binaries, dir: join(dir, 'control-plane'), logDir: dir, sans: ['127.0.0.1'], onProcess: () => undefined });
    client = new KubeClient({ server: api.url, ca: Buffer.from(api.caPem), token: api.token, insecure: false });
    const must = async (method: string, path: string, body?: unknown) => {
      const r = await client!.call(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as { metadata: { uid: string } };
    };
    await must('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', parseYaml(readFileSync(join(ROOT, 'fixtures/crds/network-attachment-definition.yaml'), 'utf8')));
    for (let i = 0; (await client.call('GET', '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions')).status !== 200; i++) {
      if (i > 100) throw new Error('NAD CRD never served');
      await sleep(100);
    }
    // The macvlan master: one end of a veth pair (no dummy module needed); removing it removes both.
    execFileSync('ip', ['link', 'add', master, 'type', 'veth', 'peer', 'name', `${master}p`]);
    execFileSync('ip', ['link', 'set', master, 'up']);
    const ipamDir = join(dir, 'ipam');
    await must('POST', '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions', {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: 'mv', namespace: 'default' },
      spec: { config: JSON.stringify({ cniVersion: CNI_VERSION, type: 'macvlan', master, mode: 'bridge', ipam: { type: 'host-local', ranges: [[{ subnet: '198.18.96.0/20' }]], dataDir: ipamDir } }) },
    });

    // Credentials: a kubeconfig for thin plugins and our daemon, a service-account dir for in-cluster daemons.
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${api.url}\n    certificate-authority-data: ${Buffer.from(api.caPem).toString('base64')}\nusers:\n- name: u\n  user:\n    token: ${api.token}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`);
    const saDir = join(dir, 'serviceaccount');
    mkdirSync(saDir);
    writeFileSync(join(saDir, 'token'), api.token);
    writeFileSync(join(saDir, 'ca.crt'), api.caPem);
    const apiPort = String(new URL(api.url).port);
    const clusterNetwork = { cniVersion: CNI_VERSION, name: 'lo-net', plugins: [{ type: 'loopback' }] };

    // Per plugin: its dirs, its config on stdin, its daemon (thick).
    const setups = await Promise.all(
      plugins.map(async (p, i) => {
        const pdir = join(dir, `p${i}`);
        const common = { cniDir: join(pdir, 'cache'), confDir: join(pdir, 'net.d'), binDir: DELEGATES, logFile: join(pdir, 'multus.log'), logLevel: 'error' };
        mkdirSync(join(pdir, 'net.d'), { recursive: true });
        if (p.kind === 'thin') {
          return { p, binary: p.path, logFile: common.logFile, daemonPid: undefined as number | undefined, socket: undefined as string | undefined, conf: JSON.stringify({ cniVersion: CNI_VERSION, name: 'multus-cni-network', type: 'multus', kubeconfig, delegates: [clusterNetwork], ...common }) };
        }
        const socketDir = join(pdir, 'run');
        const autoDir = join(pdir, 'autoconf');
        mkdirSync(autoDir);
        writeFileSync(join(autoDir, '10-lo.conflist'), JSON.stringify(clusterNetwork));
        const daemonConfig = join(pdir, 'daemon-config.json');
        writeFileSync(
          daemonConfig,
          JSON.stringify({ cniVersion: CNI_VERSION, socketDir, cniConfigDir: join(pdir, 'generated'), multusAutoconfigDir: autoDir, multusConfigFile: 'auto', serviceAccountDir: saDir, ...common }),
        );
        mkdirSync(join(pdir, 'generated'));
        const output = openSync(join(pdir, 'daemon.out'), 'a');
        const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: apiPort, MULTUS_NODE_NAME: NODE_NAME };
        // Ours reads "serviceAccountDir"; upstream's reads only the fixed in-cluster path, so it gets a
        // private mount namespace whose /run is empty but for that path (never the host's own secrets).
        const child = p.ours
          ? spawn(process.execPath, [p.daemon, `--config=${daemonConfig}`], { env, stdio: ['ignore', output, output] })
          : spawn(
              'unshare',
              [
                '--mount',
                '--propagation',
                'private',
                'sh',
                '-c',
                'mount -t tmpfs bench-run /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && mount --bind "$1" /run/secrets/kubernetes.io/serviceaccount && exec "$2" --config="$3"',
                'sh',
                saDir,
                p.daemon,
                daemonConfig,
              ],
              { env, stdio: ['ignore', output, output] },
            );
        daemons.push(child);
        const socket = join(socketDir, 'multus.sock');
        for (let t = 0; !(await health(socket)); t++) {
          if (child.exitCode !== null) throw new Error(`${p.label}: daemon exited with status ${child.exitCode}: ${readFileSync(join(pdir, 'daemon.out'), 'utf8').slice(-2000)}`);
          if (t > 600) throw new Error(`${p.label}: daemon not healthy on ${socket} after 60 s`);
          await sleep(100);
        }
        const conf = JSON.stringify({ cniVersion: CNI_VERSION, name: 'multus-cni-network', type: 'multus-shim', daemonSocketDir: socketDir, delegates: [clusterNetwork], ...common });
        return { p, binary: p.shim, logFile: common.logFile, daemonPid: child.pid, socket, conf };
      }),
    );

    const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
    let podSeq = 0;
    /** One pod through one plugin: create it, ADD, DEL; returns the two timings. */
    const onePod = async (s: (typeof setups)[number]): Promise<{ add: number; del: number }> => {
      const name = `bench-${podSeq++}`;
      const pod = await must('POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/networks': 'mv' } },
        spec: { nodeName: NODE_NAME, containers: [{ name: 'c', image: 'registry.invalid/pause' }] },
      });
      const netns = await podNetns();
      const containerId = `bench${randomBytes(6).toString('hex')}`;
      const env = {
        ...base,
        CNI_CONTAINERID: containerId,
        CNI_NETNS: netns.path,
        CNI_IFNAME: 'eth0',
        CNI_PATH: DELEGATES,
        CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=${containerId};K8S_POD_UID=${pod.metadata.uid}`,
      };
      try {
        // The daemons' watches see the pod within milliseconds; give them that, as a kubelet would.
        await sleep(20);
        const add = timed(s.binary, s.conf, { ...env, CNI_COMMAND: 'ADD' });
        if (add.code !== 0) throw new Error(`${s.p.label}: ADD failed: ${add.out}`);
        const del = timed(s.binary, s.conf, { ...env, CNI_COMMAND: 'DEL' });
        if (del.code !== 0) throw new Error(`${s.p.label}: DEL failed: ${del.out}`);
        return { add: add.ms, del: del.ms };
      } finally {
        netns.close();
        await client!.call('DELETE', `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`);
      }
    };

    console.log(`warm-up, then ${runs} pods per plugin, interleaved …`);
    for (const s of setups) await onePod(s);
    for (const s of setups) if (s.p.kind === 'thin' || s.p.ours) writeFileSync(s.logFile, '');
    const samples = setups.map(() => ({ add: [] as number[], del: [] as number[] }));
    for (let r = 0; r < runs; r++) {
      for (const [i, s] of setups.entries()) {
        const t = await onePod(s);
        samples[i]!.add.push(t.add);
        samples[i]!.del.push(t.del);
      }
      process.stdout.write(`\r  ${r + 1}/${runs}`);
    }
    process.stdout.write('\n');

    const startup = (cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv) => {
      const xs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = process.hrtime.bigint();
        spawnSync(cmd, args, { input, env, stdio: ['pipe', 'ignore', 'ignore'] });
        xs.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      return stats(xs).p50;
    };
    const versionEnv = { ...base, CNI_COMMAND: 'VERSION' };
    const nodeStart = startup(process.execPath, ['-e', '0'], '', base);

    const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown CPU';
    const cores = (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm) ?? []).length;
    console.log(`\n${new Date().toISOString()} · ${cpu} × ${cores} · node ${process.version} · kube-apiserver ${binaries.kubeApiserver}`);
    console.log(`delegates: loopback (cluster network) + macvlan/host-local NAD (net1), cniVersion ${CNI_VERSION}; ${runs} pods per plugin`);
    const first = stats(samples[0]!.add);
    const firstDel = stats(samples[0]!.del);
    console.log(`${'plugin'.padEnd(58)} ${'ADD p50'.padStart(8)} ${'p90'.padStart(7)} ${'DEL p50'.padStart(8)} ${'p90'.padStart(7)} ${'ADD ×'.padStart(6)} ${'DEL ×'.padStart(6)} ${'start-up'.padStart(9)}`);
    for (const [i, s] of setups.entries()) {
      const a = stats(samples[i]!.add);
      const d = stats(samples[i]!.del);
      const up = startup(s.binary, [], s.conf, versionEnv);
      console.log(
        `${s.p.label.slice(0, 58).padEnd(58)} ${a.p50.toFixed(1).padStart(8)} ${a.p90.toFixed(1).padStart(7)} ${d.p50.toFixed(1).padStart(8)} ${d.p90.toFixed(1).padStart(7)} ${(a.p50 / first.p50).toFixed(2).padStart(6)} ${(d.p50 / firstDel.p50).toFixed(2).padStart(6)} ${up.toFixed(1).padStart(9)}`,
      );
    }
    console.log(`${'node -e 0'.padEnd(58)} ${''.padStart(8)} ${''.padStart(7)} ${''.padStart(8)} ${''.padStart(7)} ${''.padStart(6)} ${''.padStart(6)} ${nodeStart.toFixed(1).padStart(9)}`);
    console.log('(start-up: CNI_COMMAND=VERSION p50, ms; our shim and upstream multus-shim answer VERSION without their daemon)');

    // Targets (reported, not asserted).
    const ours = { thin: stats(samples[0]!.add), thick: stats(samples[1]!.add), thickDel: stats(samples[1]!.del) };
    const upThick = setups.findIndex((s) => s.p.kind === 'thick' && !s.p.ours);
    if (upThick >= 0) {
      const ua = stats(samples[upThick]!.add);
      const ud = stats(samples[upThick]!.del);
      console.log(`target: ours thick ADD p50 ${ours.thick.p50.toFixed(1)} ≤ upstream thick ${ua.p50.toFixed(1)}: ${ours.thick.p50 <= ua.p50 ? 'met' : 'MISSED'}`);
      console.log(`target: ours thick DEL p50 ${ours.thickDel.p50.toFixed(1)} ≤ upstream thick ${ud.p50.toFixed(1)}: ${ours.thickDel.p50 <= ud.p50 ? 'met' : 'MISSED'}`);
    }
    console.log(`target: ours thin ADD p50 ${ours.thin.p50.toFixed(1)} ≤ node -e 0 + 35 = ${(nodeStart + 35).toFixed(1)}: ${ours.thin.p50 <= nodeStart + 35 ? 'met' : 'MISSED'}`);

    // Where our ADD spends its time, from its own "call" and "delegate" lines.
    for (const s of setups.slice(0, 2)) {
      const log = readFileSync(s.logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const adds = log.filter((l) => l['msg'] === 'call' && l['verb'] === 'ADD');
      const phases = new Map<string, number[]>();
      for (const l of adds) for (const [k, v] of Object.entries((l['phases'] as Record<string, number> | undefined) ?? {})) phases.set(k, [...(phases.get(k) ?? []), v]);
      for (const l of log.filter((x) => x['msg'] === 'delegate' && x['verb'] === 'ADD')) {
        const k = `delegate ${String(l['type'])}`;
        phases.set(k, [...(phases.get(k) ?? []), l['ms'] as number]);
      }
      const from = s.p.kind === 'thin' ? 'process start' : "the request's arrival in the daemon";
      console.log(`\n${s.p.label} ADD, p50 per phase (ms, its own timing lines; "call" counts from ${from}):`);
      console.log(`  call ${stats(adds.map((l) => l['ms'] as number)).p50.toFixed(1)}  ·  ${[...phases].map(([k, v]) => `${k} ${stats(v).p50.toFixed(1)}`).join('  ·  ')}`);
      if (s.socket) console.log(`  daemon /healthz: ${JSON.stringify(await healthOf(s.socket))}`);
    }

    // Daemon memory after rssPods pods through it.
    for (const s of setups.filter((x) => x.daemonPid !== undefined)) {
      const done = runs + 1;
      for (let i = done; i < rssPods; i++) await onePod(s);
      console.log(`${s.p.label}: daemon RSS after ${Math.max(rssPods, done)} pods: ${(rssKb(s.daemonPid!) / 1024).toFixed(1)} MiB`);
    }
  } finally {
    for (const d of daemons) if (d.exitCode === null) d.kill('SIGTERM');
    await Promise.all(daemons.map((d) => (d.exitCode === null ? new Promise((r) => d.once('exit', r)) : undefined)));
    client?.close();
    await api?.close();
    spawnSync('ip', ['link', 'del', master], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:meta failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
