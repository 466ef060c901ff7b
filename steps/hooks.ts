// Lifecycle of a run and of each scenario: attach to (or create) the cluster once, give every scenario
// its own namespace, skip capability-tagged scenarios with the reason printed, attach diagnostics when a
// scenario fails, clean up everything even on failure, and collect CNI latency.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AfterAll, After, BeforeAll, Before, Status, setDefaultTimeout, type ITestCaseHookParameter } from '@cucumber/cucumber';
import { stringify as toYaml } from 'yaml';
import type { Cluster } from '../clusters/provider.ts';
import { SKIP_LOG_PREFIX } from '../reports/summary.ts';
import { latencyRunsFrom, pluginLabel, writeLatencyReport, type LatencyRun } from '../reports/latency.ts';
import { planRun, probeCapabilities, requirementSkipReason, skipReasonFor } from './capabilities.ts';
import { loadProvider } from './providers.ts';
import { RUN_STATE_ENV, readRunState, type RunState } from './run-state.ts';
import { E2EWorld, NAD_GROUP, NAD_PLURAL, NAD_VERSION, isNotFound, kubeClients, setSuiteContext, suiteContext } from './world.ts';

setDefaultTimeout(180_000);
const API_REACHABLE_TIMEOUT_MS = 60_000;

const latencyRuns: LatencyRun[] = [];
/** Set when this process created the cluster itself (cucumber-js run directly, not through the CLI). */
let ownCluster: Cluster | undefined;

const progress = (line: string) => process.stderr.write(`${line}\n`);

async function standaloneState(): Promise<RunState> {
  // Run directly with cucumber-js: no vm routing, so scenarios the kernel cannot run are skipped.
  const plan = planRun({
    provider: 'local',
    capabilities: await probeCapabilities(),
    vm: { ok: false, reason: 'cucumber-js was run directly; use "multus-e2e run" to route them to the vm' },
  });
  const name = 'me2e-cuke';
  return {
    provider: 'local', name, workDir: path.join('/var/tmp/multus-e2e', name), plugin: { kind: 'bundled' },
    reportsDir: path.resolve(process.env.MULTUS_E2E_REPORTS_DIR ?? 'reports'), skipReasons: plan.skipReasons, where: 'host',
  };
}

BeforeAll({ timeout: 600_000 }, async function () {
  const stateFile = process.env[RUN_STATE_ENV];
  const state = stateFile ? readRunState(stateFile) : await standaloneState();
  const provider = await loadProvider(state.provider);
  let cluster: Cluster;
  if (stateFile) {
    cluster = await provider.attach(state.name, state.workDir);
  } else {
    progress(`bringing up ${state.provider} cluster ${state.name} …`);
    cluster = await provider.create({ name: state.name, nodes: 2, plugin: state.plugin, workDir: state.workDir, progress });
    ownCluster = cluster;
  }
  const { core, custom } = kubeClients(cluster.kubeconfigPath);
  // An API server on a busy machine may drop a connection now and then: only an answer counts as "not served".
  const deadline = Date.now() + API_REACHABLE_TIMEOUT_MS;
  for (;;) {
    try {
      await custom.listNamespacedCustomObject({ group: NAD_GROUP, version: NAD_VERSION, namespace: 'default', plural: NAD_PLURAL });
      break;
    } catch (err) {
      const answered = typeof (err as { code?: unknown }).code === 'number';
      if (answered || Date.now() > deadline) {
        throw new Error(`the cluster does not serve ${NAD_PLURAL}.${NAD_GROUP}/${NAD_VERSION} (is the NAD CRD installed?): ${(err as Error).message}`);
      }
      await sleep(1000);
    }
  }
  setSuiteContext({ state, cluster, core, custom });
});

AfterAll({ timeout: 600_000 }, async function () {
  const { state } = suiteContext();
  const { json } = await writeLatencyReport(state.reportsDir, latencyRuns);
  progress(`latency of ${latencyRuns.length} CNI calls: ${json}`);
  if (ownCluster) {
    progress(`tearing down cluster ${state.name} …`);
    await ownCluster.destroy();
  }
  setSuiteContext(undefined);
});

interface ScenarioFlags {
  skipped: boolean;
  t0: number;
}
const flags = new WeakMap<E2EWorld, ScenarioFlags>();

Before({ timeout: 60_000 }, async function (this: E2EWorld, { pickle }: ITestCaseHookParameter) {
  const { state, cluster } = suiteContext();
  const tags = pickle.tags.map((t) => t.name);
  const reason = skipReasonFor(tags, state.skipReasons, state.provider)
    ?? requirementSkipReason(tags, { plugin: state.plugin, provider: state.provider, canControlPluginDaemon: cluster.stopPluginDaemon !== undefined && cluster.startPluginDaemon !== undefined, canInjectFaults: cluster.faults !== undefined, recordsCallsWithoutPlugin: state.provider !== 'kind' });
  flags.set(this, { skipped: reason !== undefined, t0: Date.now() });
  if (reason !== undefined) {
    progress(`↷ skipped: ${pickle.name} — ${reason}`);
    this.log(`${SKIP_LOG_PREFIX}${reason}`);
    return 'skipped';
  }
  progress(`▶ ${pickle.name}`);
  this.startedAt = new Date().toISOString();
  await this.createNamespace();
  return undefined;
});

/** Everything a person needs to debug a failed scenario, attached to Cucumber and Allure results. */
async function attachDiagnostics(world: E2EWorld): Promise<void> {
  const { cluster } = world;
  const attachText = (fileName: string, text: string, mediaType = 'text/plain') => world.attach(text, { mediaType, fileName });
  const tryAttach = async (fileName: string, produce: () => Promise<string>, mediaType?: string) => {
    try {
      await attachText(fileName, await produce(), mediaType);
    } catch (err) {
      await attachText(fileName, `could not collect: ${(err as Error).message}`);
    }
  };
  for (const [name, record] of world.pods) {
    await tryAttach(`pod-${name}.yaml`, async () => toYaml(JSON.parse(JSON.stringify(await world.readPod(name)))), 'text/yaml');
    await tryAttach(`pod-${name}-events.txt`, async () => (await world.podEvents(name))
      .map((e) => `${e.lastTimestamp ?? e.eventTime ?? ''} ${e.type} ${e.reason}: ${e.message}`).join('\n') || '(no events)');
    await tryAttach(`pod-${name}-ip-addr.json`, () => world.podExecOk(name, ['ip', '-j', 'addr']), 'application/json');
    await tryAttach(`pod-${name}-ip-route.json`, () => world.podExecOk(name, ['ip', '-j', 'route']), 'application/json');
    if (record.node) {
      const node = record.node;
      const ids = await world.containerIdsOf(name).catch(() => []);
      await tryAttach(`pod-${name}-plugin-log.jsonl`, async () => {
        const lines = (await Promise.all(ids.map((id) => cluster.pluginLog(node, id)))).flat();
        return lines.join('\n') || `(no plugin log lines for containers ${ids.join(', ') || '(none recorded)'})`;
      });
    }
  }
  for (const node of new Set([...world.pods.values()].map((p) => p.node).filter((n): n is string => n !== undefined))) {
    await tryAttach(`${node}-ip-addr.json`, () => world.nodeExecOk(node, ['ip', '-j', 'addr']), 'application/json');
    await tryAttach(`${node}-ip-route.json`, () => world.nodeExecOk(node, ['ip', '-j', 'route']), 'application/json');
  }
  await tryAttach('network-attachment-definitions.yaml', async () => {
    const docs: string[] = [];
    for (const { namespace, name } of world.nads.values()) {
      const obj = await world.custom.getNamespacedCustomObject({ group: NAD_GROUP, version: NAD_VERSION, namespace, plural: NAD_PLURAL, name })
        .catch((err: Error) => ({ namespace, name, error: err.message }));
      docs.push(toYaml(obj));
    }
    return docs.join('---\n') || '(the scenario created no NetworkAttachmentDefinitions)';
  }, 'text/yaml');
}

async function deleteNamespaceContents(world: E2EWorld, namespace: string): Promise<void> {
  const since = new Date().toISOString();
  const pods = await world.core.listNamespacedPod({ namespace });
  await Promise.all(pods.items.map(async (p) => {
    try {
      await world.core.deleteNamespacedPod({ name: p.metadata?.name ?? '', namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }));
  // The node agent runs CNI DEL before the pod disappears, so waiting here means the node is clean.
  await world.waitForPodsGone(namespace, undefined, since);
}

After({ timeout: 300_000 }, async function (this: E2EWorld, { pickle, result }: ITestCaseHookParameter) {
  const flag = flags.get(this);
  if (!flag || flag.skipped) return;
  const { state, cluster } = suiteContext();
  const failed = result?.status === Status.FAILED;
  if (failed) await attachDiagnostics(this);

  const problems: string[] = [];
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  for (const cleanup of [...this.cleanups].reverse()) await attempt(cleanup.what, cleanup.run);
  const namespaces = [this.namespace, ...this.extraNamespaces.values()];
  for (const namespace of namespaces) await attempt(`deleting the pods of ${namespace}`, () => deleteNamespaceContents(this, namespace));
  for (const { namespace, name } of this.nads.values()) {
    await attempt(`deleting NAD ${namespace}/${name}`, async () => {
      try {
        await this.custom.deleteNamespacedCustomObject({ group: NAD_GROUP, version: NAD_VERSION, namespace, plural: NAD_PLURAL, name });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
  }
  for (const namespace of namespaces) {
    await attempt(`deleting namespace ${namespace}`, async () => {
      try {
        await this.core.deleteNamespace({ name: namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
  }

  await attempt('collecting CNI latency', async () => {
    const calls = (await cluster.cniCalls(this.startedAt)).filter((c) => namespaces.includes(c.namespace));
    const provider = state.where === 'vm' ? 'vm' : state.provider;
    const runs = latencyRunsFrom(calls, pickle.name, provider, pluginLabel(state.plugin));
    latencyRuns.push(...runs);
    if (runs.length > 0) this.attach(JSON.stringify(runs, null, 2), { mediaType: 'application/json', fileName: 'cni-latency.json' });
  });

  const secs = ((Date.now() - flag.t0) / 1000).toFixed(1);
  const status = problems.length > 0 ? 'FAILED' : result?.status ?? 'UNKNOWN';
  progress(`${status === Status.PASSED ? '✔' : '✘'} ${pickle.name} — ${status.toLowerCase()} in ${secs} s`);
  if (problems.length > 0) throw new Error(`clean-up after the scenario failed:\n${problems.join('\n')}`);
});
