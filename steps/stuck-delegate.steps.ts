// Steps of the fault scenarios where an ADD never finishes: a delegate that hangs (fixtures/delegates/hang),
// the runtime's timeout for a CNI call, the plugin process killed with SIGKILL mid-ADD, and the check that
// no process of the pod's CNI calls outlives them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Given, Then, When } from '@cucumber/cucumber';
import type { KilledPlugin } from '../clusters/provider.ts';
import { CNI_VERSION, hostLocalIpam } from '../fixtures/templates.ts';
import { faultsOf } from './faults.steps.ts';
import type { E2EWorld } from './world.ts';

const HANG_FIXTURE = fileURLToPath(new URL('../fixtures/delegates/hang', import.meta.url));
/** The fixture's name in every node's CNI bin dir, the type its networks name. */
const HANG_TYPE = 'multus-e2e-hang';
/** A hang's upper bound, so a process nobody killed still ends (and never outlives a run by much). */
const HANG_SECONDS = 600;
/** How long the delegate may take to start hanging once the pod exists. */
const HANG_START_TIMEOUT_MS = 60_000;
/** How long killed processes may take to be gone. */
const PROCESS_GONE_TIMEOUT_MS = 10_000;
const POLL_MS = 250;

/** Per scenario: where each hanging network records its hangs, and the plugin process a step killed. */
interface StuckNotes {
  recordDir?: string;
  records: Map<string, string>;
  killed?: { pod: string; containerId: string; plugin: KilledPlugin };
}
const notes = new WeakMap<E2EWorld, StuckNotes>();
function notesOf(world: E2EWorld): StuckNotes {
  let n = notes.get(world);
  if (!n) {
    n = { records: new Map() };
    notes.set(world, n);
  }
  return n;
}

/** One hang the fixture recorded: "VERB IFNAME CONTAINERID PID". */
interface Hang { verb: string; ifname: string; containerId: string; pid: number }

async function hangsOf(world: E2EWorld, node: string, network: string): Promise<Hang[]> {
  const file = notesOf(world).records.get(network);
  if (!file) throw new Error(`no hanging network "${network}" was made in this scenario`);
  const r = await world.cluster.nodeExec(node, ['sh', '-c', 'test ! -e "$1" || cat "$1"', 'sh', file]);
  if (r.code !== 0) throw new Error(`could not read ${file} on ${node}: ${r.stderr.trim()}`);
  return r.stdout.split('\n').map((l) => l.trim().split(' ')).filter((f) => f.length === 4)
    .map(([verb, ifname, containerId, pid]) => ({ verb: verb!, ifname: ifname!, containerId: containerId!, pid: Number(pid) }));
}

// Lists the processes whose environment names one of the containers (CNI_CONTAINERID, which the runtime
// gives the plugin and every plugin gives its delegates), as "PID COMMAND LINE". The scan must find the
// script itself by the probe variable it was started with, or it read nothing and says so.
const PROCESS_SCAN_SCRIPT = `probe=$MULTUS_E2E_PROBE
set -- -e "MULTUS_E2E_PROBE=$probe" $(for id in "$@"; do printf -- '-e CNI_CONTAINERID=%s ' "$id"; done)
found=$(grep -lzxF "$@" /proc/[0-9]*/environ 2>/dev/null)
case "$found" in *"/proc/$$/environ"*) ;; *) echo "the scan of /proc/*/environ did not even find itself" >&2; exit 3 ;; esac
for f in $found; do
  pid=\${f#/proc/}; pid=\${pid%/environ}
  grep -qzxF "MULTUS_E2E_PROBE=$probe" "$f" 2>/dev/null && continue
  cmd=$(tr '\\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || continue
  printf '%s %s\\n' "$pid" "$cmd"
done`;

/** The processes on the node whose environment names one of the containers, as "PID COMMAND LINE". */
async function processesOfContainers(world: E2EWorld, node: string, containerIds: string[]): Promise<string[]> {
  const r = await world.cluster.nodeExec(node, ['env', `MULTUS_E2E_PROBE=${randomBytes(8).toString('hex')}`, 'sh', '-c', PROCESS_SCAN_SCRIPT, 'sh', ...containerIds]);
  if (r.code !== 0) throw new Error(`could not list the processes of containers ${containerIds.map((id) => id.slice(0, 12)).join(', ')} on ${node}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** The pod's container ids: from the runtime's CNI calls, and from the hangs recorded for it. */
async function containerIdsOfPod(world: E2EWorld, pod: string, node: string): Promise<string[]> {
  const ids = new Set(await world.containerIdsOf(pod));
  const n = notesOf(world);
  if (n.killed?.pod === pod) ids.add(n.killed.containerId);
  for (const network of n.records.keys()) for (const h of await hangsOf(world, node, network)) ids.add(h.containerId);
  return [...ids];
}

/** Installs the hanging delegate on every node; it stays (the pods' DELs, after the scenario's cleanups, need it) and goes with the cluster. */
async function installHangFixture(world: E2EWorld): Promise<void> {
  for (const node of await world.cluster.nodeNames()) {
    await world.nodeExecOk(node, ['install', '-m', '0755', HANG_FIXTURE, `/opt/cni/bin/${HANG_TYPE}`]);
  }
}

Given('the runtime gives up on a CNI call after {int} seconds', async function (this: E2EWorld, seconds: number) {
  const faults = faultsOf(this);
  this.cleanups.push({ what: 'putting back the runtime\'s default CNI call timeout', run: () => faults.setCniTimeout(undefined) });
  await faults.setCniTimeout(seconds);
});

Given('a network {string} whose plugin takes an address from {cidr} and then hangs on ADD', async function (this: E2EWorld, name: string, subnet: string) {
  const n = notesOf(this);
  const nodes = await this.cluster.nodeNames();
  if (!n.recordDir) {
    await installHangFixture(this);
    const dir = `/tmp/multus-e2e-hang-${this.suffix}`;
    for (const node of nodes) await this.nodeExecOk(node, ['mkdir', '-p', dir]);
    n.recordDir = dir;
    this.cleanups.push({ what: `removing ${dir}`, run: async () => {
      for (const node of nodes) await this.nodeExecOk(node, ['rm', '-rf', dir]);
    } });
    // Whatever still hangs once the scenario is over (a plugin that left it running) is killed here, by
    // the pids the fixture recorded and only while they still run for that container.
    this.cleanups.push({ what: 'killing delegates still hanging', run: async () => {
      for (const node of nodes) {
        const ids = [...new Set((await Promise.all([...n.records.keys()].map((net) => hangsOf(this, node, net)))).flat().map((h) => h.containerId))];
        if (ids.length === 0) continue;
        const pids = (await processesOfContainers(this, node, ids)).map((l) => l.split(' ')[0]!);
        if (pids.length > 0) await this.nodeExecOk(node, ['kill', '-KILL', ...pids]);
      }
    } });
  }
  n.records.set(name, `${n.recordDir}/${name}`);
  await this.createNad(this.namespace, name, {
    cniVersion: CNI_VERSION, name, type: HANG_TYPE, hangOn: 'ADD', hangSeconds: String(HANG_SECONDS), recordFile: `${n.recordDir}/${name}`, ipam: hostLocalIpam(subnet),
  });
});

When('the plugin process of pod {string} is killed with SIGKILL while its {string} delegate hangs', async function (this: E2EWorld, pod: string, network: string) {
  const { namespace, node } = this.podRecord(pod);
  if (!node) throw new Error(`pod "${pod}" was created without a node`);
  const deadline = Date.now() + HANG_START_TIMEOUT_MS;
  let hang: Hang | undefined;
  while (!(hang = (await hangsOf(this, node, network)).find((h) => h.verb === 'ADD'))) {
    if (Date.now() > deadline) throw new Error(`the delegate of "${network}" did not start its ADD for pod "${pod}" within ${HANG_START_TIMEOUT_MS / 1000} s`);
    await sleep(POLL_MS);
  }
  // The process the runtime executed: a thin plugin, or in thick mode the shim. Upstream's thick
  // architecture runs the Multus logic for every call inside multus-daemon, so the shim is the one
  // process of the call, what a runtime's timeout or the OOM killer hits; killing the daemon itself is
  // a daemon failure (thick.feature), not a killed call.
  const plugin = await faultsOf(this).killCniPlugin(node, namespace, pod);
  notesOf(this).killed = { pod, containerId: hang.containerId, plugin };
  this.log(`killed the ${plugin.type} plugin process (pid ${plugin.pid}: ${plugin.command}) while the delegate of "${network}" hung (pid ${hang.pid})`);
});

Then('pod {string} does not start, and the reason given says the CNI call timed out', async function (this: E2EWorld, pod: string) {
  const why = await this.waitForPodFailure(pod);
  assert.notEqual((await this.readPod(pod)).status?.phase, 'Running', `pod "${pod}" must not be Running`);
  assert.match(why, /timed out|deadline exceeded/i, `the reason pod "${pod}" did not start should say that its CNI call timed out; the cluster says:\n${why}`);
});

Then('no process started for pod {string}\'s CNI calls is still running', async function (this: E2EWorld, pod: string) {
  const { node } = this.podRecord(pod);
  if (!node) throw new Error(`pod "${pod}" was never placed on a node, so there is nothing to check`);
  const ids = await containerIdsOfPod(this, pod, node);
  assert.ok(ids.length > 0, `the runtime made no CNI call for pod "${pod}", so its processes cannot be looked for`);
  const deadline = Date.now() + PROCESS_GONE_TIMEOUT_MS;
  let left: string[];
  while ((left = await processesOfContainers(this, node, ids)).length > 0 && Date.now() < deadline) await sleep(POLL_MS);
  assert.deepEqual(left, [], `processes of pod "${pod}"'s CNI calls (containers ${ids.map((id) => id.slice(0, 12)).join(', ')}) still run on ${node} ` +
    `${PROCESS_GONE_TIMEOUT_MS / 1000} s after its ADD ended, so an abandoned call can still change the node:\n${left.join('\n')}`);
});
