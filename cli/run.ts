// `multus-e2e run`: decide where each capability-tagged scenario runs, bring up the cluster, run the suite
// on the host and (when needed) in the vm, tear down, merge the reports and print the verdict: per
// conformance level, against the expectation file when one is given.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Cluster, ClusterOptions } from '../clusters/provider.ts';
import type { NetdevsimSetup } from '../clusters/vm/sriov-cluster.ts';
import { formatExpectationMatch, loadExpectations, matchExpectations, type ExpectationMatch, type Expectations, type SuiteIndex } from '../expectations/expectations.ts';
import { addGlobalAttachments, labelConformanceLevels, mergeAllureResults } from '../reports/allure-merge.ts';
import { buildConformance, conformanceVerdict, formatLevelProblems, levelGroups, resolveClaims, type ConformanceInput } from '../reports/conformance.ts';
import { renderJunit } from '../reports/junit.ts';
import { pluginLabel, writeLatencyReport, type Environment, type LatencyReport, type LatencyRun } from '../reports/latency.ts';
import { formatSummary, readScenarioResults, scenarioOk, summaryFile, type ScenarioResult } from '../reports/summary.ts';
import { CAPABILITIES, planRun, probeCapabilities, type Availability, type CapabilityReport } from '../steps/capabilities.ts';
import { loadProvider } from '../steps/providers.ts';
import { RUN_STATE_ENV, writeRunState, type RunState } from '../steps/run-state.ts';
import type { ControlPlaneOptions, RunCommand } from './args.ts';
import { runCucumberProcess, selectedScenarios, suiteIndex } from './cucumber.ts';
import { PACKAGE_ROOT, bundledMode, removeEmptyWorkRoot } from './paths.ts';
import { ensurePlugin } from './plugin.ts';

type Progress = (line: string) => void;

/** The cluster's own logs and state, exported before teardown (under reports/out/, which git ignores). */
const CLUSTER_LOGS = path.join('out', 'cluster-logs');

/** Removes what an earlier run wrote, so "the last run" is exactly this one. */
async function clearReports(reportsDir: string): Promise<void> {
  await mkdir(reportsDir, { recursive: true });
  for (const entry of ['allure-results', 'vm', 'cucumber.html', 'cucumber.xml', 'cucumber.ndjson', 'latency.json', 'latency.html', 'summary.json',
    'conformance.json', 'junit.xml', CLUSTER_LOGS]) {
    await rm(path.join(reportsDir, entry), { recursive: true, force: true });
  }
}

async function vmAvailabilityFor(cmd: RunCommand): Promise<Availability> {
  // The vm guest runs the local provider and no Docker engine: a kind run's scenarios cannot move there.
  if (cmd.provider === 'kind') return { ok: false, reason: 'the vm guest does not run Docker, so kind scenarios cannot move there (the kind nodes share this host\'s kernel)' };
  if (cmd.noVm) return { ok: false, reason: '--no-vm was given' };
  if (process.env.MULTUS_E2E_IN_VM === '1') return { ok: false, reason: 'already inside the vm' };
  try {
    const vm = await import('../clusters/vm/index.ts');
    return await vm.vmAvailability();
  } catch (err) {
    return { ok: false, reason: `the vm provider could not be loaded: ${(err as Error).message}` };
  }
}

/** The calls recorded in one environment's latency.json, marked with that environment (they are never pooled). */
async function readLatencyRuns(file: string, environment: Environment): Promise<LatencyRun[]> {
  if (!existsSync(file)) return [];
  return ((JSON.parse(await readFile(file, 'utf8')) as Partial<LatencyReport>).runs ?? []).map((r) => ({ ...r, environment }));
}

/** What the run is judged against, settled before any cluster comes up so a bad file or claim fails fast. */
interface Verdicts {
  suite: SuiteIndex;
  expectations?: Expectations;
  claims: ConformanceInput['claims'];
  build: string;
}

async function verdictInputs(cmd: RunCommand): Promise<Verdicts> {
  const suite = await suiteIndex();
  const expectations = cmd.expect ? loadExpectations(cmd.expect, suite, PACKAGE_ROOT) : undefined;
  const bundled = bundledMode(cmd.plugin);
  const claims = resolveClaims({
    ...(cmd.claims ? { flag: cmd.claims } : {}), ...(expectations ? { expectations: expectations.claims } : {}),
    ...(bundled ? { bundled } : {}), suiteFeatures: suite.extendedFeatures,
  });
  const build = expectations?.build ?? (bundled ? `the bundled multus-e2e plugin${bundled === 'thick' ? ' (thick)' : ''}` : pluginLabel(cmd.plugin));
  return { suite, ...(expectations ? { expectations } : {}), claims, build };
}

/** A cucumber process that exited non-zero although every scenario it ran is fine failed elsewhere (a hook, a formatter). */
function exitProblem(name: string, code: number, results: readonly ScenarioResult[]): string | undefined {
  if (code === 0 || !results.every(scenarioOk)) return undefined;
  return results.length === 0
    ? `${name}: exited ${code} before any scenario finished (see its output above)`
    : `${name}: exited ${code} although none of its ${results.length} scenarios failed (see its output above)`;
}

/** The host part: one cluster for the run, the cucumber process, teardown unless --keep. */
/**
 * @netdevsim scenarios on a local cluster need emulated SR-IOV NICs (one netdevsim device per node,
 * offered as netdevsim.io/vf); made here, before the cluster, only when such a scenario runs on this kernel.
 */
async function emulatedSriovNics(cmd: RunCommand, tags: string | undefined, capabilities: CapabilityReport, progress: Progress): Promise<NetdevsimSetup | undefined> {
  if (cmd.provider !== 'local' || !capabilities.netdevsim.ok) return undefined;
  const wanted = await selectedScenarios(tags ? `(${tags}) and @netdevsim` : '@netdevsim');
  if (wanted.length === 0) return undefined;
  const vm = await import('../clusters/vm/index.ts');
  progress(`creating ${cmd.nodes} netdevsim NICs (emulated SR-IOV) for ${wanted.length} @netdevsim scenarios …`);
  return vm.prepareNetdevsim(cmd.nodes);
}

async function runOnHost(cmd: RunCommand, tags: string | undefined, skipReasons: Record<string, string>, capabilities: CapabilityReport, progress: Progress): Promise<number> {
  const providerName = cmd.provider === 'kind' ? 'kind' : 'local';
  const provider = await loadProvider(providerName);
  progress(`bringing up ${providerName} cluster "${cmd.name}" with ${cmd.nodes} nodes (plugin: ${pluginLabel(cmd.plugin)}) …`);
  const t0 = Date.now();
  let cluster: Cluster | undefined;
  let child: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping the suite and tearing the cluster down …`);
    if (child !== undefined) {
      try {
        process.kill(child, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let sriov: NetdevsimSetup | undefined;
  const stateFile = path.join(cmd.workDir, 'suite-run.json');
  try {
    sriov = await emulatedSriovNics(cmd, tags, capabilities, progress);
    // extendedResources and the control plane binaries are the local provider's extensions of ClusterOptions.
    const options: ClusterOptions & { extendedResources?: NetdevsimSetup['extendedResources'] } & ControlPlaneOptions = {
      name: cmd.name, nodes: cmd.nodes, plugin: cmd.plugin, multusConfig: cmd.multusConfig, workDir: cmd.workDir, progress,
      ...cmd.controlPlane,
      ...(sriov ? { extendedResources: sriov.extendedResources } : {}),
    };
    cluster = await provider.create(options);
    if (sriov) await (await import('../clusters/vm/index.ts')).attachNetdevsim(cluster, sriov);
    progress(`cluster "${cmd.name}" is up in ${((Date.now() - t0) / 1000).toFixed(1)} s; kubeconfig ${cluster.kubeconfigPath}`);
    const state: RunState = {
      provider: providerName, name: cmd.name, workDir: cmd.workDir, plugin: cmd.plugin, reportsDir: cmd.reportsDir,
      skipReasons, where: process.env.MULTUS_E2E_IN_VM === '1' ? 'vm' : 'host',
    };
    writeRunState(stateFile, state);
    progress(`running scenarios${tags ? ` (${tags})` : ''} …`);
    return await runCucumberProcess({ tags, reportsDir: cmd.reportsDir, env: { [RUN_STATE_ENV]: stateFile } }, (pid) => { child = pid; });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (cluster && !cmd.keep) {
      progress(`tearing down cluster "${cmd.name}" …`);
      await cluster.exportLogs(path.join(cmd.reportsDir, CLUSTER_LOGS)).catch((err: Error) => progress(`could not export cluster logs: ${err.message}`));
      await rm(stateFile, { force: true });
      await cluster.destroy();
      await removeEmptyWorkRoot();
    } else if (cluster) {
      if (sriov) progress(`its netdevsim NICs stay too: ${sriov.nics.map((n) => n.pf).join(', ')}`);
      progress(`cluster "${cmd.name}" kept (--keep): multus-e2e cluster status --name ${cmd.name} --work-dir ${cmd.workDir}; remove it with multus-e2e cluster down --name ${cmd.name} --work-dir ${cmd.workDir}`);
    }
    // The NICs outlive a kept cluster; otherwise they go with it (also when create() failed).
    if (sriov && !(cluster && cmd.keep)) await (await import('../clusters/vm/index.ts')).releaseNetdevsim(sriov);
  }
}

export async function runCommand(cmd: RunCommand, progress: Progress): Promise<number> {
  const verdicts = await verdictInputs(cmd);
  await clearReports(cmd.reportsDir);
  await ensurePlugin(cmd.plugin, progress);

  const capabilities = await probeCapabilities();
  for (const cap of CAPABILITIES) {
    const probe = capabilities[cap];
    progress(`capability ${cap}: ${probe.ok ? 'available on this host' : probe.reason}`);
  }
  const needsVm = cmd.provider === 'vm' || CAPABILITIES.some((cap) => !capabilities[cap].ok);
  const vm: Availability = needsVm ? await vmAvailabilityFor(cmd) : { ok: false, reason: 'not needed' };
  const plan = planRun({ ...(cmd.tags ? { tags: cmd.tags } : {}), provider: cmd.provider, capabilities, vm });
  const hostScenarios = await selectedScenarios(plan.hostTags);
  const vmScenarios = plan.vmTags ? await selectedScenarios(plan.vmTags) : [];
  progress(`${hostScenarios.length} scenarios run on this host${vmScenarios.length > 0 ? `, ${vmScenarios.length} in the vm (${plan.vmTags})` : ''}`);
  for (const [tag, reason] of Object.entries(plan.skipReasons)) progress(`${tag} scenarios will be skipped: ${reason}`);
  if (hostScenarios.length + vmScenarios.length === 0) {
    progress(`no scenario matches${cmd.tags ? ` --tags "${cmd.tags}"` : ''}; nothing was run`);
    return 1;
  }

  const inVm = process.env.MULTUS_E2E_IN_VM === '1';
  const hostEnvironment: Environment = cmd.provider === 'kind' ? 'kind' : inVm ? 'vm' : 'host';
  const vmDir = path.join(cmd.reportsDir, 'vm');
  const problems: string[] = [];
  let hostCode = 0;
  let vmCode = 0;
  if (hostScenarios.length > 0) {
    hostCode = await runOnHost(cmd, plan.hostTags, plan.skipReasons, capabilities, progress).catch((err: Error) => {
      problems.push(`host run: ${err.message}`);
      return 1;
    });
  }
  if (vmScenarios.length > 0 && plan.vmTags) {
    const vmIndex = await import('../clusters/vm/index.ts');
    if (Object.keys(cmd.controlPlane).length > 0) progress('vm: the guest runs the embedded API server (--control-plane/--kube-apiserver/--etcd apply to the host run only)');
    vmCode = (await vmIndex.runInVm({ tags: plan.vmTags, plugin: cmd.plugin, reportsDir: cmd.reportsDir, progress, extraArgs: ['--multus-config', cmd.multusConfig] })
      .catch((err: Error) => {
        problems.push(`vm run: ${err.message}`);
        return { exitCode: 1 };
      })).exitCode;
  }

  const hostResults = readScenarioResults(path.join(cmd.reportsDir, 'cucumber.ndjson'), hostEnvironment);
  const vmResults = readScenarioResults(path.join(vmDir, 'cucumber.ndjson'), 'vm');
  const results: ScenarioResult[] = [...hostResults, ...vmResults];
  for (const problem of [exitProblem('host run', hostCode, hostResults), exitProblem('vm run', vmCode, vmResults)]) if (problem) problems.push(problem);
  const expected = hostScenarios.length + vmScenarios.length;
  if (results.length < expected) problems.push(`${expected - results.length} of ${expected} selected scenarios have no result (did a run crash before them?)`);

  const environments = [...new Set<Environment>([...(hostResults.length > 0 ? [hostEnvironment] : []), ...(vmResults.length > 0 ? ['vm' as const] : [])])];
  const conformance = buildConformance({
    build: verdicts.build, plugin: pluginLabel(cmd.plugin), environments, claims: verdicts.claims,
    suiteFeatures: verdicts.suite.extendedFeatures, ...(cmd.tags ? { selection: cmd.tags } : {}), results,
  });
  for (const p of formatLevelProblems(conformance)) problems.push(`level tag: ${p}`);
  const match: ExpectationMatch | undefined = verdicts.expectations ? matchExpectations(verdicts.expectations, results) : undefined;

  const allureDir = path.join(cmd.reportsDir, 'allure-results');
  await mergeAllureResults(path.join(vmDir, 'allure-results'), allureDir);
  await labelConformanceLevels(allureDir);
  const runs = [
    ...await readLatencyRuns(path.join(cmd.reportsDir, 'latency.json'), hostEnvironment),
    ...await readLatencyRuns(path.join(vmDir, 'latency.json'), 'vm'),
  ];
  const latency = await writeLatencyReport(cmd.reportsDir, runs);
  const conformanceFile = path.join(cmd.reportsDir, 'conformance.json');
  await writeFile(conformanceFile, `${JSON.stringify({ ...conformance, ...(match ? { expectations: match } : {}) }, null, 2)}\n`);
  await writeFile(path.join(cmd.reportsDir, 'junit.xml'), renderJunit(results, match));
  await addGlobalAttachments(allureDir, [
    { name: 'Conformance (JSON)', path: conformanceFile, type: 'application/json' },
    { name: 'CNI latency (JSON)', path: latency.json, type: 'application/json' },
    { name: 'CNI latency (chart)', path: latency.html, type: 'text/html' },
  ]);
  // summary.json lists the run's problems too, so a comparison knows a run that did not complete.
  await writeFile(path.join(cmd.reportsDir, 'summary.json'), `${JSON.stringify({
    ...summaryFile(results), conforms: conformance.conforms, problems, ...(match ? { expectationsMatch: match.matches, expectations: match } : {}),
  }, null, 2)}\n`);

  process.stdout.write(`${formatSummary(results, levelGroups(conformance, results))}\n`);
  if (match) process.stdout.write(`${formatExpectationMatch(match)}\n`);
  process.stdout.write(`${conformanceVerdict(conformance)}\n`);
  progress(`reports: ${cmd.reportsDir} (summary.json, conformance.json, junit.xml, cucumber.html, cucumber.xml, cucumber.ndjson, allure-results, latency.json, latency.html, ` +
    `out/cluster-logs); render Allure with: multus-e2e report --reports-dir ${cmd.reportsDir}`);
  for (const p of problems) progress(`problem: ${p}`);
  // With an expectation file the outcome must match it; without one every scenario must be fine.
  const outcomeOk = match ? match.matches : results.every(scenarioOk);
  return outcomeOk && problems.length === 0 ? 0 : 1;
}
