// Integration fixture: runs the BUILT plugin (plugin/dist/multus) as a runtime would, inside a
// dedicated "node" network namespace (so bridges and macvlan masters never touch the host), against
// the embedded API server reached over a veth from the host. Everything is named me2ep-*.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { kubeconfigYaml, startApiServer, type RunningApiServer } from '../../clusters/local/apiserver/index.ts';
import { KubeClient } from '../k8s/client.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const PLUGIN = join(ROOT, 'plugin/dist/multus');
export const INSTALLER = join(ROOT, 'plugin/dist/multus-install');
export const TEST_DELEGATES = join(ROOT, 'fixtures/delegates');
export const REFERENCE_PLUGINS = '/usr/lib/cni';
const NAD_CRD = join(ROOT, 'fixtures/crds/network-attachment-definition.yaml');

/** Why the integration tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  if (!existsSync(join(REFERENCE_PLUGINS, 'macvlan'))) return `reference CNI plugins missing in ${REFERENCE_PLUGINS} (apt install containernetworking-plugins)`;
  if (!existsSync(PLUGIN)) return `${PLUGIN} not built (npm run build)`;
  return undefined;
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON */
  json: Record<string, unknown> | undefined;
}

export interface CallEnv {
  containerId: string;
  netns?: string;
  ifname?: string;
  args?: string;
}

/** A "node": its own netns, a veth to the host carrying the API server, a macvlan master "m0". */
export class TestNode {
  readonly tag = randomBytes(3).toString('hex');
  readonly ns = `me2ep-n${this.tag}`;
  readonly hostLink = `me2ep-h${this.tag}`;
  /** 198.18.<octet>.0/24 is this node's: .0/30 veth, .64/26 cluster bridge, .128/26 macvlan. */
  readonly octet = 200 + Math.floor(Math.random() * 50);
  readonly hostAddr = `198.18.${this.octet}.1`;

  create(): void {
    sh('ip', ['netns', 'add', this.ns]);
    sh('ip', ['link', 'add', this.hostLink, 'type', 'veth', 'peer', 'name', 'me2ep-nodeeth', 'netns', this.ns]);
    sh('ip', ['addr', 'add', `${this.hostAddr}/30`, 'dev', this.hostLink]);
    sh('ip', ['link', 'set', this.hostLink, 'up']);
    sh('ip', ['-n', this.ns, 'addr', 'add', `198.18.${this.octet}.2/30`, 'dev', 'me2ep-nodeeth']);
    sh('ip', ['-n', this.ns, 'link', 'set', 'me2ep-nodeeth', 'up']);
    sh('ip', ['-n', this.ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', this.ns, 'link', 'add', 'm0', 'type', 'veth', 'peer', 'name', 'm1']);
    sh('ip', ['-n', this.ns, 'link', 'set', 'm0', 'up']);
    sh('ip', ['-n', this.ns, 'link', 'set', 'm1', 'up']);
  }

  destroy(): void {
    try {
      sh('ip', ['link', 'del', this.hostLink]);
    } catch {
      // already gone with the namespace
    }
    try {
      sh('ip', ['netns', 'del', this.ns]);
    } catch {
      // never created
    }
  }

  /** Start the plugin in its own process group and SIGKILL the whole group once `until` holds. */
  async runAndKill(verb: string, conf: unknown, call: CallEnv, until: () => boolean): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.ns, PLUGIN], { env: this.cniEnv(verb, call, {}), stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    child.stdin.end(JSON.stringify(conf));
    const exited = new Promise((r) => child.on('exit', r));
    try {
      for (let i = 0; i < 200 && !until(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!until()) throw new Error('the plugin never reached the point to be killed at');
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      await exited;
    }
  }

  private cniEnv(verb: string, call: CallEnv, extraEnv: Record<string, string>): Record<string, string> {
    return {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: verb,
      CNI_CONTAINERID: call.containerId,
      CNI_NETNS: call.netns ?? '',
      CNI_IFNAME: call.ifname ?? 'eth0',
      CNI_ARGS: call.args ?? '',
      CNI_PATH: `${TEST_DELEGATES}:${REFERENCE_PLUGINS}`,
      ...extraEnv,
    };
  }

  /** Run the plugin (or another binary) inside the node namespace as a runtime would. */
  run(verb: string, conf: unknown, call: CallEnv, binary = PLUGIN, extraEnv: Record<string, string> = {}): Promise<RunResult> {
    const env = this.cniEnv(verb, call, extraEnv);
    return new Promise((res, rej) => {
      const child = spawn('ip', ['netns', 'exec', this.ns, binary], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', rej);
      child.on('close', (code) => {
        let json: Record<string, unknown> | undefined;
        try {
          json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
        } catch {
          json = undefined;
        }
        res({ code: code ?? -1, stdout, stderr, json });
      });
      child.stdin.end(typeof conf === 'string' ? conf : JSON.stringify(conf));
    });
  }
}

/** A pod network namespace. */
export class PodNetns {
  readonly name = `me2ep-p${randomBytes(3).toString('hex')}`;
  readonly path = `/run/netns/${this.name}`;
  constructor() {
    sh('ip', ['netns', 'add', this.name]);
  }
  links(): { ifname: string; address?: string; mtu?: number; link_type?: string }[] {
    return JSON.parse(sh('ip', ['-n', this.name, '-j', 'link', 'show'])) as { ifname: string; address?: string }[];
  }
  /** ifname → IPv4/IPv6 addresses (CIDR) */
  addresses(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const list = JSON.parse(sh('ip', ['-n', this.name, '-j', 'addr', 'show'])) as { ifname: string; addr_info: { family: string; local: string; prefixlen: number; scope: string }[] }[];
    for (const l of list) out[l.ifname] = l.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);
    return out;
  }
  defaultRoutes(): { dev: string; gateway?: string }[] {
    return JSON.parse(sh('ip', ['-n', this.name, '-4', '-j', 'route', 'show', 'default'])) as { dev: string; gateway?: string }[];
  }
  /** A veth pair with both ends inside the pod (an interface no delegate created). */
  addVeth(name: string): void {
    sh('ip', ['-n', this.name, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
  }
  removeLink(name: string): void {
    sh('ip', ['-n', this.name, 'link', 'del', name]);
  }
  destroy(): void {
    try {
      sh('ip', ['netns', 'del', this.name]);
    } catch {
      // already deleted
    }
  }
}

/** Per-test state: temp dirs, API server, the pod netns, config helpers. */
export class TestBed {
  readonly dir = mkdtempSync(join(tmpdir(), 'me2ep-'));
  readonly cniDir = join(this.dir, 'cache');
  readonly confDir = join(this.dir, 'multus.d');
  readonly dataDir = join(this.dir, 'ipam');
  readonly logFile = join(this.dir, 'multus.log');
  readonly kubeconfig = join(this.dir, 'kubeconfig');
  readonly clusterConf = join(this.dir, '10-default.conflist');
  readonly recordFile = join(this.dir, 'calls');
  readonly pod = new PodNetns();
  readonly containerId = `me2ep-${randomBytes(6).toString('hex')}`;
  api: RunningApiServer | undefined;
  client: KubeClient | undefined;

  constructor(
    readonly node: TestNode,
    readonly certDir: string,
  ) {
    mkdirSync(this.confDir);
    writeFileSync(this.clusterConf, JSON.stringify(this.clusterNetwork()));
  }

  /** The cluster network: bridge + host-local on 198.18.<octet>.64/26. */
  clusterNetwork(cniVersion = '1.0.0'): Record<string, unknown> {
    return {
      cniVersion,
      name: 'me2ep-default',
      plugins: [
        {
          type: 'bridge',
          bridge: `me2epbr${this.node.tag.slice(0, 4)}`,
          isGateway: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: `198.18.${this.node.octet}.64/26` }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: this.dataDir },
        },
      ],
    };
  }

  /** A macvlan network on the node's m0 with host-local in 198.18.<octet>.128/26. */
  macvlan(extra: Record<string, unknown> = {}, cniVersion = '1.0.0'): Record<string, unknown> {
    return {
      cniVersion,
      type: 'macvlan',
      master: 'm0',
      mode: 'bridge',
      ipam: { type: 'host-local', ranges: [[{ subnet: `198.18.${this.node.octet}.128/26`, gateway: `198.18.${this.node.octet}.129` }]], dataDir: this.dataDir },
      ...extra,
    };
  }

  recorder(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { cniVersion: '1.0.0', type: 'fail', recordFile: this.recordFile, ...extra };
  }

  async startApi(): Promise<void> {
    this.api = await startApiServer({ hosts: [this.node.hostAddr], certDir: this.certDir, port: 0 });
    writeFileSync(this.kubeconfig, kubeconfigYaml(this.api.url, this.api.caPem, this.api.token));
    this.client = new KubeClient({ server: this.api.url, ca: Buffer.from(this.api.caPem), token: this.api.token, insecure: false });
    await this.must('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', parse(readFileSync(NAD_CRD, 'utf8')));
    for (let i = 0; i < 50; i++) {
      const r = await this.client.call('GET', '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions');
      if (r.status === 200) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('NAD resource never served');
  }

  async stopApi(): Promise<void> {
    this.client?.close();
    await this.api?.close();
    this.api = undefined;
  }

  async must(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    if (!this.client) throw new Error('API not started');
    const r = await this.client.call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Record<string, unknown>;
  }

  async namespace(name: string): Promise<void> {
    await this.must('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  async nad(ns: string, name: string, config: Record<string, unknown> | string, annotations: Record<string, string> = {}): Promise<void> {
    await this.must('POST', `/apis/k8s.cni.cncf.io/v1/namespaces/${ns}/network-attachment-definitions`, {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name, namespace: ns, annotations },
      spec: { config: typeof config === 'string' ? config : JSON.stringify(config) },
    });
  }

  /** Creates the pod and returns the CNI_ARGS a kubelet would pass for it. */
  async createPod(ns: string, name: string, annotations: Record<string, string> = {}): Promise<string> {
    const pod = await this.must('POST', `/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, annotations },
      spec: { containers: [{ name: 'c', image: 'registry.invalid/pause' }] },
    });
    const uid = (pod['metadata'] as { uid: string }).uid;
    return `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=${this.containerId};K8S_POD_UID=${uid}`;
  }

  async podAnnotations(ns: string, name: string): Promise<Record<string, string>> {
    const pod = await this.must('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
    return ((pod['metadata'] as { annotations?: Record<string, string> }).annotations ?? {}) as Record<string, string>;
  }

  multusConf(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: '1.0.0',
      name: 'multus-cni-network',
      type: 'multus',
      kubeconfig: this.kubeconfig,
      clusterNetwork: this.clusterConf,
      confDir: this.confDir,
      cniDir: this.cniDir,
      binDir: REFERENCE_PLUGINS,
      logFile: this.logFile,
      logLevel: 'debug',
      ...extra,
    };
  }

  call(verb: string, conf: unknown, args: string, extra: Partial<CallEnv> = {}): Promise<RunResult> {
    return this.node.run(verb, conf, { containerId: this.containerId, netns: this.pod.path, ifname: 'eth0', args, ...extra });
  }

  /** Addresses host-local still holds (files named by IP in every network dir). */
  ipamAllocations(): string[] {
    if (!existsSync(this.dataDir)) return [];
    const out: string[] = [];
    for (const net of readdirSync(this.dataDir)) {
      for (const f of readdirSync(join(this.dataDir, net))) if (isIP(f)) out.push(`${net}/${f}`);
    }
    return out;
  }

  /** Cache entries (dot files, such as the kept TLS session, are not). */
  cacheFiles(): string[] {
    return existsSync(this.cniDir) ? readdirSync(this.cniDir).filter((f) => !f.startsWith('.')) : [];
  }

  logLines(): Record<string, unknown>[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  recorded(): string[] {
    return existsSync(this.recordFile) ? readFileSync(this.recordFile, 'utf8').split('\n').filter(Boolean) : [];
  }

  recordedConf(verb: string, ifname: string): Record<string, unknown> {
    return JSON.parse(readFileSync(`${this.recordFile}.${verb}.${ifname}.json`, 'utf8')) as Record<string, unknown>;
  }

  recordedArgs(verb: string, ifname: string): string {
    return readFileSync(`${this.recordFile}.${verb}.${ifname}.args`, 'utf8');
  }

  async destroy(): Promise<void> {
    await this.stopApi();
    this.pod.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Non-lo interfaces of the pod netns. */
export function podInterfaces(bed: TestBed): string[] {
  return bed.pod
    .links()
    .map((l) => l.ifname)
    .filter((n) => n !== 'lo')
    .sort();
}

/**
 * Registers the hooks every integration file shares: the file's node namespace and cert dir live for
 * the whole file, each test gets a fresh bed with its own API server (handed over through `use`).
 */
export function useTestBed(node: TestNode, use: (bed: TestBed) => void): void {
  let certDir = '';
  let bed: TestBed | undefined;
  beforeAll(() => {
    node.create();
    certDir = mkdtempSync(join(tmpdir(), 'me2ep-certs-'));
  });
  afterAll(() => {
    node.destroy();
    rmSync(certDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    bed = new TestBed(node, certDir);
    use(bed);
    await bed.startApi();
  });
  afterEach(async () => {
    await bed?.destroy();
  });
}
