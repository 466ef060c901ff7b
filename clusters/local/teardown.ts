// destroy() and leftovers(): both work from the cluster name alone (every netns and process marker
// derives from it), with state.json adding the exact pids when it survived.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clusterContainers, dockerConfigured, removeClusterContainers } from './container-control-plane.ts';
import { deleteNetns } from './fabric.ts';
import { removeCreatedDirsIfLastCluster } from './host-mountpoints.ts';
import { clusterNames } from './names.ts';
import { processRef, stopProcess, type ProcessRef } from './process-identity.ts';
import { runCommand } from './run-command.ts';
import { readState } from './state.ts';

/** Everything the cluster writes into workDir; `multus-e2e run` exports the logs before destroy. */
const CLUSTER_FILES = ['nodes', 'pki', 'state.json', 'state.json.tmp', 'options.json', 'kubeconfig', 'daemon.log', 'cni-calls.jsonl', 'etcd.log', 'kube-apiserver.log', 'control.sock'];

export async function destroyCluster(name: string, workDir: string): Promise<void> {
  const state = readState(workDir);
  const { prefix } = clusterNames(name);
  if (state?.daemon) await stopProcess(state.daemon);
  for (const node of state?.nodes ?? []) {
    if (node.multusDaemon) await stopProcess(node.multusDaemon, 2000);
    if (node.holder) await stopProcess(node.holder, 1000);
  }
  for (const ref of [...(state?.controlPlane ?? [])].reverse()) await stopProcess(ref);
  if (state?.containers) await removeClusterContainers(name, state.containers);
  // Without state.json the label still finds them; an engine that does not answer then has none of ours to show.
  else if (dockerConfigured()) await removeClusterContainers(name, []).catch(() => undefined);
  // Processes started before their pid reached state.json still carry the cluster's marker.
  for (const ref of markedProcesses(prefix)) await stopProcess(ref, 1000);
  const netns = clusterNetns(prefix);
  // Pods first, the fabric last: node netns hold the peers of fabric ports.
  const order = (n: string) => (n.includes('-pod-') ? 0 : n.endsWith('-fabric') ? 2 : 1);
  for (const n of netns.sort((a, b) => order(a) - order(b))) await deleteNetns(n);
  for (const f of CLUSTER_FILES) rmSync(join(workDir, f), { recursive: true, force: true });
  rmSync(controlPlaneDir(workDir, prefix), { recursive: true, force: true });
  try {
    rmdirSync(workDir);
  } catch {
    // holds files that are not the cluster's, or is gone already
  }
  removeCreatedDirsIfLastCluster();
}

/** Certs, keys, etcd data and logs of a real control plane; the prefix in its name marks its processes. */
export function controlPlaneDir(workDir: string, prefix: string): string {
  return join(workDir, `${prefix}-control-plane`);
}

/** Anything of the cluster still on the host: netns, host links, mounts, processes, containers. Empty after destroy(). */
export async function leftovers(name: string): Promise<string[]> {
  const { prefix } = clusterNames(name);
  const found: string[] = [];
  for (const n of clusterNetns(prefix)) found.push(`netns ${n}`);
  const links = await runCommand(['ip', '-j', 'link', 'show']);
  for (const l of JSON.parse(links.stdout || '[]') as { ifname: string }[]) {
    if (l.ifname.startsWith(prefix)) found.push(`link ${l.ifname}`);
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line.includes(prefix)) found.push(`mount ${line.split(' ')[4]}`);
  }
  for (const ref of markedProcesses(prefix)) found.push(`process ${ref.pid}: ${cmdline(ref.pid)}`);
  // Only where a Docker engine is configured: the control plane runs in containers on nothing else.
  if (dockerConfigured()) {
    const ids = await clusterContainers(name).catch(() => []);
    for (const id of ids) found.push(`container ${id.slice(0, 12)}`);
  }
  return found;
}

/** The work dir of a running daemon of this cluster name, wherever it was started from. */
export function runningDaemonWorkDir(name: string): string | undefined {
  const { prefix } = clusterNames(name);
  for (const ref of markedProcesses(prefix)) {
    const argv = cmdline(ref.pid).split(' ');
    if (!argv.some((a) => a.endsWith('daemon.ts'))) continue;
    const i = argv.indexOf('--work-dir');
    return i >= 0 ? argv[i + 1] : '(unknown)';
  }
  return undefined;
}

function clusterNetns(prefix: string): string[] {
  if (!existsSync('/run/netns')) return [];
  return readdirSync('/run/netns').filter((n) => n.startsWith(`${prefix}-`));
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

function markedProcesses(prefix: string): ProcessRef[] {
  const refs: ProcessRef[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (!cmdline(pid).includes(prefix)) continue;
    try {
      refs.push(processRef(pid));
    } catch {
      // exited meanwhile
    }
  }
  return refs;
}
