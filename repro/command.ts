// `multus-e2e repro` and `multus-e2e collect`: a bug report's files in, a fresh cluster built to match,
// what happened to each pod printed, a diagnostic bundle written; with two plugins, the differences per
// pod; with --to-feature, a regression scenario in the suite's sentences.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createClusterWithSetup, type SetUpCluster } from '../clusters/node-setup.ts';
import { pluginArgument, type Cluster, type ClusterProvider, type MultusConfigShape, type PluginUnderTest } from '../clusters/provider.ts';
import { writeBundle } from './bundle.ts';
import { diffObservations, formatDiff } from './diff.ts';
import { generateFeature, type Expectation } from './feature.ts';
import { loadRepro, manifestsOf, type ReproInput } from './manifests.ts';
import { applyRepro, formatObservation, kubeClients, observePod, waitForPod, observeRepro, type PodObservation } from './observe.ts';

type Progress = (line: string) => void;

export interface ReproRun {
  source: string;
  plugins: PluginUnderTest[];
  /** --nodes; default the repro's nodes.yaml, else 2. */
  nodes?: number;
  keep: boolean;
  name: string;
  workDirOf(name: string): string;
  reportsDir: string;
  multusConfig: MultusConfigShape;
  controlPlane: { kubeApiserver?: string; etcd?: string };
  /** --to-feature [FILE]: true for the default file under features/. */
  toFeature?: string | true;
  expect?: Expectation;
  level?: string;
  packageRoot: string;
}

export interface ReproHooks {
  progress: Progress;
  /** Runs fn while holding the cluster's work-dir lock (one command per work dir). */
  owning(workDir: string, fn: () => Promise<number>): Promise<number>;
  /** Builds the plugin when it is the bundled one and stale. */
  ensurePlugin(plugin: PluginUnderTest): Promise<void>;
}

async function localProvider(): Promise<ClusterProvider> {
  return (await import('../clusters/local/index.ts')).localProvider;
}

const namespacesOf = (input: ReproInput) => [...new Set(input.manifests.map((m) => m.object.metadata.namespace ?? (m.kind === 'Namespace' ? m.object.metadata.name : 'default')))].sort();

function keptHint(name: string): string {
  return [
    `cluster "${name}" kept (--keep). Poke at it with kubectl:`,
    `  kubectl --kubeconfig "$(node bin/multus-e2e.mjs cluster kubeconfig --name ${name})" get pods,net-attach-def -A`,
    `  make a new bundle after changing things:  node bin/multus-e2e.mjs collect --name ${name}`,
    `  remove it:                               node bin/multus-e2e.mjs cluster down --name ${name}`,
  ].join('\n');
}

/** One fresh cluster for one plugin: build, apply, observe, print, bundle, tear down unless kept. */
async function reproOnce(run: ReproRun, input: ReproInput, plugin: PluginUnderTest, name: string, hooks: ReproHooks): Promise<{ pods: PodObservation[]; bundle: string }> {
  const workDir = run.workDirOf(name);
  let result: { pods: PodObservation[]; bundle: string } | undefined;
  await hooks.owning(workDir, async () => {
    await hooks.ensurePlugin(plugin);
    const nodes = run.nodes ?? input.nodeNeeds.nodes ?? 2;
    hooks.progress(`bringing up local cluster "${name}" with ${nodes} nodes (plugin: ${pluginArgument(plugin)}) …`);
    const t0 = Date.now();
    const setUp: SetUpCluster = await createClusterWithSetup(await localProvider(), {
      name, nodes, plugin, multusConfig: run.multusConfig, workDir, progress: hooks.progress, ...run.controlPlane,
    }, {
      ...(input.nodeNeeds['netdevsim VFs'] !== undefined ? { netdevsimVfs: input.nodeNeeds['netdevsim VFs'] } : {}),
      ...(input.multusSettings ? { multusSettings: input.multusSettings } : {}),
      ...(input.daemonConfig ? { daemonConfig: input.daemonConfig } : {}),
      nodeCniConfigs: input.nodeCniConfigs,
    });
    const cluster = setUp.cluster;
    hooks.progress(`cluster "${name}" is up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const n of setUp.notes) hooks.progress(`node setup: ${n}`);
    try {
      const since = new Date().toISOString();
      const clients = kubeClients(cluster.kubeconfigPath);
      await applyRepro(clients, input, hooks.progress);
      hooks.progress(`applied ${input.manifests.length} objects; waiting for ${manifestsOf(input, 'Pod').length} pods to run or fail with a stated reason …`);
      const pods = await observeRepro(cluster, clients, input, since);
      const header = `repro ${input.source} on cluster "${name}" (plugin ${pluginArgument(plugin)})`;
      process.stdout.write(`${header}\n${pods.map(formatObservation).join('\n')}\n`);
      const bundle = await writeBundle({
        cluster, clients, namespaces: namespacesOf(input), pods, plugin, name, reportsDir: run.reportsDir,
        notes: [header, ...setUp.notes.map((n) => `node setup: ${n}`)],
      });
      process.stdout.write(`bundle: ${bundle}\n`);
      result = { pods, bundle };
      return 0;
    } finally {
      if (run.keep) {
        process.stdout.write(`${keptHint(name)}\n`);
        if (setUp.extras.length) hooks.progress(`they stay with it: ${setUp.extras.join(', ')}`);
      } else {
        hooks.progress(`tearing down cluster "${name}" …`);
        await cluster.destroy();
        await setUp.release();
      }
    }
  });
  if (!result) throw new Error(`the repro on cluster "${name}" produced no result`);
  return result;
}

/** Whether each pod's outcome matches --expect; lines for the mismatches. */
function expectationMismatches(pods: readonly PodObservation[], expect: Expectation | undefined): string[] {
  if (!expect) return [];
  return pods.flatMap((p) => {
    if (p.running !== expect.running) return [`pod ${p.namespace}/${p.name}: expected ${expect.running ? 'Running' : 'not to start'}, observed ${p.running ? 'Running' : `not running: ${(p.reason ?? '').split('\n')[0]}`}`];
    if (!expect.running && expect.names && !(p.reason ?? '').includes(expect.names)) return [`pod ${p.namespace}/${p.name}: the reason does not name "${expect.names}": ${p.reason}`];
    return [];
  });
}

function featurePath(run: ReproRun): string {
  if (typeof run.toFeature === 'string') return path.resolve(run.toFeature);
  const base = path.basename(path.resolve(run.source)).replace(/\.ya?ml$/, '').replace(/[^a-z0-9-]+/gi, '-').toLowerCase();
  return path.join(run.packageRoot, 'features', `repro-${base}.feature`);
}

function writeFeature(run: ReproRun, input: ReproInput, observations: readonly PodObservation[] | undefined, progress: Progress): void {
  const rel = path.relative(run.packageRoot, path.resolve(run.source));
  const title = path.basename(path.resolve(run.source)).replace(/\.ya?ml$/, '').replace(/[-_]+/g, ' ');
  const feature = generateFeature(input, {
    title, reproPath: rel.startsWith('..') ? path.resolve(run.source) : rel,
    ...(run.level ? { level: run.level } : {}), ...(run.expect ? { expect: run.expect } : {}), ...(observations ? { observations } : {}),
  });
  const file = featurePath(run);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, feature.text);
  process.stdout.write(`scenario: ${file} (${feature.tags.join(' ')})\n`);
  if (feature.notes.length > 0) {
    progress(`NOTE: the scenario applies the repro's manifests with the generic step "the manifests of the repro … are applied", because: ${feature.notes.join('; ')}`);
  }
}

export async function reproCommand(run: ReproRun, hooks: ReproHooks): Promise<number> {
  const input = loadRepro(path.resolve(run.source));
  hooks.progress(`repro ${run.source}: ${input.manifests.length} objects (${['Namespace', 'NetworkAttachmentDefinition', 'Pod', 'ConfigMap', 'Secret']
    .map((k) => `${manifestsOf(input, k as never).length} ${k}`).filter((t) => !t.startsWith('0 ')).join(', ')})`);
  const vfs = input.nodeNeeds['netdevsim VFs'];
  if (vfs !== undefined && !existsSync('/sys/bus/netdevsim') && run.toFeature !== undefined && run.expect) {
    // Nothing to observe on this kernel; the scenario states the expected outcome and runs in the vm.
    hooks.progress(`this repro needs ${vfs} netdevsim VFs per node, and this kernel has no netdevsim (netdevsim exists here only in the vm provider's guest): ` +
      'writing the scenario from the manifests and --expect without running it; `multus-e2e run` runs it in the vm (it is tagged @netdevsim)');
    writeFeature(run, input, undefined, hooks.progress);
    return 0;
  }
  if (run.plugins.length === 1) {
    const { pods } = await reproOnce(run, input, run.plugins[0]!, run.name, hooks);
    const mismatches = expectationMismatches(pods, run.expect);
    if (run.toFeature !== undefined) writeFeature(run, input, pods, hooks.progress);
    for (const m of mismatches) process.stdout.write(`unexpected: ${m}\n`);
    return mismatches.length === 0 ? 0 : 1;
  }
  const [a, b] = run.plugins as [PluginUnderTest, PluginUnderTest];
  const ra = await reproOnce(run, input, a, `${run.name}-a`, hooks);
  const rb = await reproOnce(run, input, b, `${run.name}-b`, hooks);
  const diffs = diffObservations(ra.pods, rb.pods);
  const text = formatDiff(diffs, pluginArgument(a), pluginArgument(b));
  process.stdout.write(`${text}\n`);
  mkdirSync(run.reportsDir, { recursive: true });
  const diffFile = path.join(run.reportsDir, `repro-${run.name}-diff.json`);
  writeFileSync(diffFile, `${JSON.stringify({ a: pluginArgument(a), b: pluginArgument(b), bundles: [ra.bundle, rb.bundle], pods: diffs }, null, 2)}\n`);
  process.stdout.write(`differences: ${diffFile}\n`);
  if (run.toFeature !== undefined) writeFeature(run, input, rb.pods, hooks.progress);
  // Exit 1 when the builds behaved differently, so a script can tell a regression.
  return diffs.every((d) => d.differences.length === 0) ? 0 : 1;
}

export interface CollectRun {
  name: string;
  workDir: string;
  reportsDir: string;
}

/** The same bundle from a running cluster (e.g. one from `cluster up` poked at by hand): every pod outside the system namespaces. */
export async function collectCommand(run: CollectRun, hooks: ReproHooks): Promise<number> {
  const cluster: Cluster = await (await localProvider()).attach(run.name, run.workDir);
  const clients = kubeClients(cluster.kubeconfigPath);
  const namespaces = (await clients.core.listNamespace()).items.map((n) => n.metadata?.name ?? '')
    .filter((n) => n !== '' && !n.startsWith('kube-'));
  const pods: PodObservation[] = [];
  for (const ns of namespaces) {
    for (const p of (await clients.core.listNamespacedPod({ namespace: ns })).items) {
      const name = p.metadata?.name ?? '';
      // No waiting: the pod is reported as it is now.
      pods.push(await observePod(cluster, clients, ns, name, await waitForPod(clients, ns, name, 0), '1970-01-01T00:00:00.000Z'));
    }
  }
  hooks.progress(`collecting ${pods.length} pods in ${namespaces.length} namespaces of cluster "${run.name}" …`);
  const bundle = await writeBundle({ cluster, clients, namespaces, pods, name: run.name, reportsDir: run.reportsDir, notes: [`collected from cluster "${run.name}" (${run.workDir})`] });
  process.stdout.write(`${pods.map(formatObservation).join('\n')}\nbundle: ${bundle}\n`);
  return 0;
}
