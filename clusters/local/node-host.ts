// A node as a separate host: its own netns (fabric.ts) plus a private mount namespace, held by a
// long-lived process, with bind mounts that give it its own CNI dirs. The holder is started with
// `ip netns exec`, which makes every mount a slave of the host's (new /run/netns entries propagate
// in, the node's bind mounts never propagate out) and mounts a /sys of the node's netns.
import { spawn } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult } from '../provider.ts';
import { recordMissingDirs } from './host-mountpoints.ts';
import { nodePodCidr } from './names.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRef, type ProcessRef } from './process-identity.ts';
import { mustRun, runCommand, type RunOptions } from './run-command.ts';

export const DEFAULT_NETWORK_FILE = '10-local-default.conflist';
export const DEFAULT_NETWORK_NAME = 'local-default';
const HOST_CNI_PLUGINS = '/usr/lib/cni';

/** Node paths (as the node sees them) and the host dirs bind-mounted there, relative to the node dir. */
export const NODE_MOUNTS: readonly { target: string; source: string }[] = [
  { target: '/etc/cni/net.d', source: 'etc-cni-net.d' },
  { target: '/opt/cni/bin', source: 'opt-cni-bin' },
  { target: '/var/lib/cni', source: 'var-lib-cni' },
  { target: '/etc/cni/multus/net.d', source: 'etc-cni-multus-net.d' },
  { target: '/var/lib/kubelet', source: 'var-lib-kubelet' },
  { target: '/var/log/multus', source: 'var-log-multus' },
];

/** Host path of a node path that lies under one of NODE_MOUNTS. */
export function hostPathOf(nodeDir: string, nodePath: string): string {
  for (const m of NODE_MOUNTS) {
    if (nodePath === m.target || nodePath.startsWith(`${m.target}/`)) {
      return join(nodeDir, m.source, nodePath.slice(m.target.length));
    }
  }
  throw new Error(`${nodePath} is not under a node-private directory`);
}

export function serviceAccountDir(nodeDir: string): string {
  return join(nodeDir, 'serviceaccount');
}

/** Starts the mount-namespace holder; returns once its namespace exists. */
export async function startHolder(netns: string, marker: string): Promise<ProcessRef> {
  const child = spawn('ip', ['netns', 'exec', netns, 'bash', '-c', `exec -a ${marker} sleep infinity`], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the mount-namespace holder for ${netns}`);
  // ip execs bash which execs sleep: the pid stays; wait until the argv marker shows it is ready.
  for (let i = 0; i < 100; i++) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(marker)) return processRef(pid);
    } catch {
      throw new Error(`mount-namespace holder for ${netns} exited at start`);
    }
    await sleep(20);
  }
  throw new Error(`mount-namespace holder for ${netns} did not start`);
}

export function nodeExecArgv(holderPid: number, argv: string[]): string[] {
  return ['nsenter', '-t', String(holderPid), '--mount', '--net', '--', ...argv];
}

export function execOnNode(holderPid: number, argv: string[], opts?: RunOptions): Promise<ExecResult> {
  return runCommand(nodeExecArgv(holderPid, argv), opts);
}

/** Creates the node's dirs, binds them inside its mount namespace, fills /opt/cni/bin and the default network. */
export async function prepareNodeFilesystem(opts: {
  holderPid: number;
  nodeDir: string;
  index: number;
  onMount: (m: { source: string; target: string }) => void;
}): Promise<void> {
  const { holderPid, nodeDir, index } = opts;
  for (const m of NODE_MOUNTS) {
    const source = join(nodeDir, m.source);
    mkdirSync(source, { recursive: true });
    await bindIntoNode(holderPid, source, m.target, opts.onMount);
  }
  const bin = join(nodeDir, 'opt-cni-bin');
  for (const f of readdirSync(HOST_CNI_PLUGINS)) linkOrCopy(join(HOST_CNI_PLUGINS, f), join(bin, f));
  writeFileSync(join(nodeDir, 'etc-cni-net.d', DEFAULT_NETWORK_FILE), `${JSON.stringify(defaultNetworkConfig(index), null, 2)}\n`);
  mkdirSync(join(nodeDir, 'var-lib-kubelet', 'device-plugins'), { recursive: true });
  mkdirSync(serviceAccountDir(nodeDir), { recursive: true });
}

/** Bind-mounts host dir `source` at `target` inside the node's mount namespace only. */
export async function bindIntoNode(holderPid: number, source: string, target: string, onMount: (m: { source: string; target: string }) => void): Promise<void> {
  // mkdir -p of the target may create dirs on the shared root filesystem: recorded so the last
  // cluster's teardown removes them. The bind mount itself stays inside the node.
  recordMissingDirs(target);
  await mustRun(nodeExecArgv(holderPid, ['sh', '-c', `mkdir -p "$1" && mount --bind "$2" "$1"`, 'sh', target, source]));
  onMount({ source, target });
}

export function defaultNetworkConfig(index: number): object {
  return {
    cniVersion: '1.0.0',
    name: DEFAULT_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: nodePodCidr(index) }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
    ],
  };
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    copyFileSync(from, to);
  }
}
