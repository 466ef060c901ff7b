// The local provider: a cluster made of network namespaces on this host. create()
// starts a detached cluster daemon (daemon.ts) and returns once every node is Ready with the plugin
// under test installed; attach() reconnects to it by workDir; destroy() removes all of it.
import { fork } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterProvider } from '../provider.ts';
import { LocalCluster } from './cluster.ts';
import { ensureImages } from './container-control-plane.ts';
import type { DaemonMessage } from './daemon.ts';
import { clusterNames, validateClusterName } from './names.ts';
import { daemonOptions, type LocalClusterOptions } from './options.ts';
import { nodeScript } from './node-script.ts';
import { isAlive } from './process-identity.ts';
import { readState, type LocalClusterState } from './state.ts';
import { destroyCluster, leftovers, runningDaemonWorkDir } from './teardown.ts';

export type { LocalClusterOptions } from './options.ts';
export { LocalCluster } from './cluster.ts';
export { leftovers };
/** Pod annotations the node agent sets: the pod's netns name under /run/netns, and its sandbox (CNI container) id. */
export { NETNS_ANNOTATION, SANDBOX_ANNOTATION } from './node-agent.ts';
/** Name of the default (cluster) network in every node's 10-local-default.conflist. */
export { DEFAULT_NETWORK_NAME } from './node-host.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAEMON = new URL('./daemon.ts', import.meta.url);
const CREATE_TIMEOUT_MS = 180_000;

async function create(opts: LocalClusterOptions): Promise<LocalCluster> {
  validateClusterName(opts.name);
  const daemonOpts = daemonOptions(opts);
  // A missing image fails here, before anything of the cluster exists.
  if (daemonOpts.containerControlPlane) await ensureImages(daemonOpts.containerControlPlane);
  const workDir = resolve(opts.workDir);
  const progress = opts.progress ?? (() => undefined);
  const previous = readState(workDir);
  if (previous?.daemon && isAlive(previous.daemon)) {
    throw new Error(`cluster ${previous.name} is already running from ${workDir}: attach to it or destroy it first`);
  }
  const running = runningDaemonWorkDir(opts.name);
  if (running) throw new Error(`a cluster named ${opts.name} is already running (work dir ${running}): destroy it first or choose another name`);
  // Whatever a crashed earlier cluster of this name left behind goes first.
  await destroyCluster(opts.name, workDir);
  if (previous && previous.name !== opts.name) await destroyCluster(previous.name, workDir);
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, 'options.json'), JSON.stringify(daemonOpts, null, 2));
  const logFile = join(workDir, 'daemon.log');
  rmSync(join(workDir, 'cni-calls.jsonl'), { force: true });
  const logFd = openSync(logFile, 'w');
  const { processMarker } = clusterNames(opts.name);
  const daemon = nodeScript(DAEMON);
  const child = fork(daemon.script, ['--work-dir', workDir, '--marker', processMarker], {
    cwd: REPO_ROOT,
    execArgv: daemon.execArgv,
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  try {
    await new Promise<void>((resolveReady, reject) => {
      child.on('message', (msg: DaemonMessage) => {
        if (msg.type === 'progress') progress(msg.line);
        else if (msg.type === 'ready') resolveReady();
        else reject(new Error(msg.message));
      });
      child.once('exit', (code, signal) => reject(new Error(`cluster daemon exited (${signal ?? code}) before the cluster was ready`)));
      setTimeout(() => reject(new Error(`the cluster was not ready after ${CREATE_TIMEOUT_MS / 1000} s`)), CREATE_TIMEOUT_MS).unref();
    });
  } catch (err) {
    child.kill('SIGKILL');
    // Read the log before destroy removes it with the rest of the cluster's files.
    const logTail = tail(logFile, 30);
    await destroyCluster(opts.name, workDir);
    throw new Error(`creating local cluster ${opts.name} failed: ${(err as Error).message}\n--- ${logFile} (last lines) ---\n${logTail}`);
  }
  child.removeAllListeners();
  child.disconnect();
  child.unref();
  return attachState(opts.name, workDir);
}

function attachState(name: string, workDir: string): LocalCluster {
  const state = readState(resolve(workDir));
  if (!state) throw new Error(`no local cluster state in ${workDir} (state.json missing)`);
  if (state.name !== name) throw new Error(`${workDir} holds cluster "${state.name}", not "${name}"`);
  if (state.phase !== 'ready' || !state.daemon || !isAlive(state.daemon)) {
    throw new Error(`local cluster ${name} in ${workDir} is not running (phase ${state.phase}${state.error ? `: ${state.error}` : ''}); destroy it and create it again`);
  }
  return new LocalCluster(state);
}

export interface LocalClusterStatus {
  name: string;
  workDir: string;
  /** 'absent' when workDir holds no cluster state; 'stopped' when the state says ready but the daemon is gone. */
  phase: LocalClusterState['phase'] | 'stopped' | 'absent';
  error?: string;
  apiUrl?: string;
  kubeconfigPath?: string;
  nodes: { name: string; fabricIp: string; podCidr: string }[];
  /** What of the cluster is on the host (netns, links, mounts, processes). */
  leftovers: string[];
}

async function status(name: string, workDir: string): Promise<LocalClusterStatus> {
  const dir = resolve(workDir);
  const state = readState(dir);
  const found = await leftovers(name);
  if (!state || state.name !== name) return { name, workDir: dir, phase: 'absent', nodes: [], leftovers: found };
  const alive = !!state.daemon && isAlive(state.daemon);
  return {
    name,
    workDir: dir,
    phase: state.phase === 'ready' && !alive ? 'stopped' : state.phase,
    ...(state.error ? { error: state.error } : {}),
    ...(state.api ? { apiUrl: state.api.url, kubeconfigPath: state.kubeconfigPath } : {}),
    nodes: state.nodes.map((n) => ({ name: n.name, fabricIp: n.fabricIp, podCidr: n.podCidr })),
    leftovers: found,
  };
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export const localProvider: ClusterProvider & {
  create(opts: LocalClusterOptions): Promise<LocalCluster>;
  attach(name: string, workDir: string): Promise<LocalCluster>;
  /** Removes a cluster from its name and workDir alone, even one that never came up or whose daemon crashed. */
  destroy(name: string, workDir: string): Promise<void>;
  /** What a person asking `cluster status` wants to know; never throws for a missing cluster. */
  status(name: string, workDir: string): Promise<LocalClusterStatus>;
} = {
  name: 'local',
  create,
  attach: async (name: string, workDir: string) => attachState(name, workDir),
  destroy: (name: string, workDir: string) => destroyCluster(name, resolve(workDir)),
  status,
};
