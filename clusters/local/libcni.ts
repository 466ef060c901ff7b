// Calls the node's CNI configuration the way libcni does for a container runtime: the first
// config file (lexical order) in the conf dir; a conflist runs plugin by plugin, each getting the
// previous result as prevResult; DEL runs in reverse with the cached ADD result; the ADD result is
// cached under /var/lib/cni/results like libcni's cache.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostPathOf, nodeExecArgv } from './node-host.ts';
import { runCommand } from './run-command.ts';

export const NODE_CNI_CONF_DIR = '/etc/cni/net.d';
export const NODE_CNI_BIN_DIR = '/opt/cni/bin';

export interface NetworkList {
  file: string;
  name: string;
  cniVersion: string;
  plugins: Record<string, unknown>[];
}

export interface CniRuntimeArgs {
  containerId: string;
  /** Node-visible path of the pod netns (/run/netns/…). */
  netns: string;
  ifname: string;
  podNamespace: string;
  podName: string;
  podUid: string;
}

export class CniError extends Error {
  constructor(
    message: string,
    /** The CNI error code from the plugin's error object, when it gave one. */
    readonly code: number | undefined,
    readonly plugin: string,
    /** The plugin's exit status; undefined when it was never run. */
    readonly exitCode?: number,
  ) {
    super(message);
  }
}

/** libcni/ocicni: first .conf/.conflist/.json in lexical order that parses as a network config. */
export function loadFirstNetwork(hostConfDir: string): NetworkList {
  const files = existsSync(hostConfDir)
    ? readdirSync(hostConfDir).filter((f) => /\.(conf|conflist|json)$/.test(f)).sort()
    : [];
  const problems: string[] = [];
  for (const file of files) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(readFileSync(join(hostConfDir, file), 'utf8')) as Record<string, unknown>;
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
      continue;
    }
    if (file.endsWith('.conflist')) {
      if (!Array.isArray(parsed.plugins) || parsed.plugins.length === 0) {
        problems.push(`${file}: no "plugins" list`);
        continue;
      }
      return {
        file,
        name: String(parsed.name ?? ''),
        cniVersion: String(parsed.cniVersion ?? '0.1.0'),
        plugins: parsed.plugins as Record<string, unknown>[],
      };
    }
    if (typeof parsed.type !== 'string') {
      problems.push(`${file}: no "type"`);
      continue;
    }
    return { file, name: String(parsed.name ?? ''), cniVersion: String(parsed.cniVersion ?? '0.1.0'), plugins: [parsed] };
  }
  throw new Error(`no valid CNI network config in ${NODE_CNI_CONF_DIR}${problems.length ? ` (${problems.join('; ')})` : ''}`);
}

/** How long a CNI call may take before the runtime kills it: kubelet's default --runtime-request-timeout (2 min). */
export const DEFAULT_CNI_TIMEOUT_MS = 120_000;

/** A plugin process the runtime is running now. */
export interface RunningPlugin {
  pid: number;
  verb: 'ADD' | 'DEL';
  /** The plugin's type: its file name in /opt/cni/bin. */
  type: string;
  containerId: string;
  podNamespace: string;
  podName: string;
}

export class NodeCni {
  /** Plugin processes running now, by pid. */
  private readonly inFlight = new Map<number, RunningPlugin>();

  constructor(
    private readonly holderPid: number,
    private readonly nodeDir: string,
    /** Per plugin run; changed at run time by setTimeout. */
    private timeoutMs = DEFAULT_CNI_TIMEOUT_MS,
  ) {}

  setTimeout(ms: number): void {
    if (!(Number.isInteger(ms) && ms > 0)) throw new Error(`a CNI call timeout must be a positive number of milliseconds, got ${ms}`);
    this.timeoutMs = ms;
  }

  /** The plugin processes running now for a pod's calls. */
  running(podNamespace: string, podName: string): RunningPlugin[] {
    return [...this.inFlight.values()].filter((p) => p.podNamespace === podNamespace && p.podName === podName);
  }

  network(): NetworkList {
    return loadFirstNetwork(hostPathOf(this.nodeDir, NODE_CNI_CONF_DIR));
  }

  async add(net: NetworkList, rt: CniRuntimeArgs): Promise<Record<string, unknown>> {
    let prevResult: Record<string, unknown> | undefined;
    for (const plugin of net.plugins) {
      prevResult = await this.exec('ADD', net, plugin, rt, prevResult);
    }
    const result = prevResult ?? {};
    this.writeCache(net, rt, result);
    return result;
  }

  async del(net: NetworkList, rt: CniRuntimeArgs): Promise<void> {
    // libcni hands DEL the cached ADD result only from 0.4.0 on (when prevResult on DEL was specified).
    const cached = versionAtLeast(net.cniVersion, [0, 4, 0]) ? this.readCache(net, rt) : undefined;
    for (const plugin of [...net.plugins].reverse()) {
      await this.exec('DEL', net, plugin, rt, cached);
    }
    rmSync(this.cacheFile(net, rt), { force: true });
  }

  private async exec(
    verb: 'ADD' | 'DEL',
    net: NetworkList,
    plugin: Record<string, unknown>,
    rt: CniRuntimeArgs,
    prevResult: Record<string, unknown> | undefined,
  ): Promise<Record<string, unknown>> {
    const type = String(plugin.type ?? '');
    if (!type || !existsSync(hostPathOf(this.nodeDir, join(NODE_CNI_BIN_DIR, type)))) {
      throw new CniError(`failed to find plugin "${type}" in path [${NODE_CNI_BIN_DIR}]`, undefined, type);
    }
    const conf: Record<string, unknown> = { ...plugin, name: net.name, cniVersion: net.cniVersion };
    if (prevResult) conf.prevResult = prevResult;
    const env: NodeJS.ProcessEnv = {
      PATH: pathWithNode(),
      CNI_COMMAND: verb,
      CNI_CONTAINERID: rt.containerId,
      CNI_NETNS: rt.netns,
      CNI_IFNAME: rt.ifname,
      CNI_PATH: NODE_CNI_BIN_DIR,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${rt.podNamespace};K8S_POD_NAME=${rt.podName};K8S_POD_INFRA_CONTAINER_ID=${rt.containerId};K8S_POD_UID=${rt.podUid}`,
    };
    // nsenter execs the plugin, so the pid is the plugin's. Its own process group: a timeout kills what
    // it started with it (a delegate it runs, a thick shim's client), and so does its exit, so nothing
    // of an abandoned call can still change the sandbox after the runtime's DEL.
    let pid: number | undefined;
    const timeoutMs = this.timeoutMs;
    const r = await runCommand(nodeExecArgv(this.holderPid, [join(NODE_CNI_BIN_DIR, type)]), {
      input: JSON.stringify(conf),
      env,
      timeoutMs,
      processGroup: true,
      onSpawn: (p) => {
        pid = p;
        this.inFlight.set(p, { pid: p, verb, type, containerId: rt.containerId, podNamespace: rt.podNamespace, podName: rt.podName });
      },
    }).finally(() => pid !== undefined && this.inFlight.delete(pid));
    if (r.timedOut) {
      // kubelet's words when its runtime request times out: "context deadline exceeded".
      throw new CniError(`${verb} timed out after ${timeoutMs / 1000} s; the runtime killed the plugin and what it started (context deadline exceeded)`, undefined, type, r.code);
    }
    if (r.code !== 0) throw pluginError(type, r.stdout, r.stderr, r.code);
    if (verb === 'DEL' || r.stdout.trim() === '') return {};
    try {
      return JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      throw new CniError(`plugin ${type} returned an unparsable result: ${r.stdout.slice(0, 500)}`, undefined, type);
    }
  }

  private cacheFile(net: NetworkList, rt: CniRuntimeArgs): string {
    return hostPathOf(this.nodeDir, `/var/lib/cni/results/${net.name}-${rt.containerId}-${rt.ifname}`);
  }

  private writeCache(net: NetworkList, rt: CniRuntimeArgs, result: Record<string, unknown>): void {
    const file = this.cacheFile(net, rt);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, JSON.stringify({ kind: 'cniCacheV1', containerId: rt.containerId, ifName: rt.ifname, networkName: net.name, result }));
  }

  private readCache(net: NetworkList, rt: CniRuntimeArgs): Record<string, unknown> | undefined {
    try {
      const cached = JSON.parse(readFileSync(this.cacheFile(net, rt), 'utf8')) as { result?: Record<string, unknown> };
      return cached.result;
    } catch {
      return undefined;
    }
  }
}

/** libcni's message for a plugin error object: msg, plus "; details" when present. */
function pluginError(type: string, stdout: string, stderr: string, exitCode: number): CniError {
  try {
    const e = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
    if (typeof e.msg === 'string') return new CniError(e.details ? `${e.msg}; ${e.details}` : e.msg, e.code, type, exitCode);
  } catch {
    // not a CNI error object: fall through to the raw output
  }
  const raw = (stdout.trim() || stderr.trim()).slice(0, 2000);
  return new CniError(`netplugin failed with no error message: exit status ${exitCode}${raw ? `: ${raw}` : ''}`, undefined, type, exitCode);
}

/** PATH with this node's directory first: the bundled plugin starts with `#!/usr/bin/env node`. */
export function pathWithNode(): string {
  return [dirname(process.execPath), process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'].join(':');
}

export function versionAtLeast(version: string, min: [number, number, number]): boolean {
  const v = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]!;
  }
  return true;
}
