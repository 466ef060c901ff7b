// `multus-e2e stress`: churn on a local cluster, wave after wave (stress/waves.ts), with a report per wave
// on stdout, progress on stderr, stress.json + latency.json/html in the reports dir, and the cluster torn
// down at the end whatever happened. Exits 1 when any pod failed or anything leaked.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { localProvider } from '../clusters/local/index.ts';
import type { Cluster } from '../clusters/provider.ts';
import { currentEnvironment, pluginLabel, writeLatencyReport, type LatencyRun } from '../reports/latency.ts';
import { formatStressSummary, formatWave, stressReport, waveLatencyRuns, waveReport, type WaveReport } from '../stress/report.ts';
import { prepareStress, type WaveProgress } from '../stress/waves.ts';
import { ensurePlugin } from './plugin.ts';
import type { StressCommand } from './stress-args.ts';

type Progress = (line: string) => void;

/** Progress of a long wave at most this often (and at the end of each stage). */
const PROGRESS_EVERY_MS = 5_000;

function waveProgressPrinter(progress: Progress, waves: number): (p: WaveProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (p.stage !== 'checking' && p.done < p.total && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    progress(p.stage === 'checking'
      ? `wave ${p.wave}/${waves}: checking every node for leftovers …`
      : `wave ${p.wave}/${waves}: ${p.stage} ${p.done}/${p.total} pods (${p.failed} failed so far)`);
  };
}

export async function stressCommand(cmd: StressCommand, progress: Progress): Promise<number> {
  await ensurePlugin(cmd.plugin, progress);
  const plugin = pluginLabel(cmd.plugin);
  const environment = currentEnvironment('local');
  await mkdir(cmd.reportsDir, { recursive: true });
  for (const file of ['stress.json', 'latency.json', 'latency.html']) await rm(path.join(cmd.reportsDir, file), { force: true });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: creating no more pods; deleting and checking those created, then tearing the cluster down …`);
    stopping = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const startedAt = new Date().toISOString();
  let cluster: Cluster | undefined;
  try {
    progress(`bringing up local cluster "${cmd.name}" with ${cmd.nodes} nodes (plugin: ${plugin}) …`);
    const t0 = Date.now();
    cluster = await localProvider.create({ name: cmd.name, nodes: cmd.nodes, plugin: cmd.plugin, multusConfig: cmd.multusConfig, workDir: cmd.workDir, progress });
    progress(`cluster up in ${Math.round((Date.now() - t0) / 1000)} s; ${cmd.waves} waves of ${cmd.pods} pods × ${cmd.networks} networks, ${cmd.parallel} at a time`);
    const runner = await prepareStress(cluster, cmd);
    const waves: WaveReport[] = [];
    const runs: LatencyRun[] = [];
    const onProgress = waveProgressPrinter(progress, cmd.waves);
    for (let wave = 1; wave <= cmd.waves && !stopping; wave++) {
      const outcome = await runner.wave(wave, onProgress, () => stopping);
      const waveRuns = waveLatencyRuns(outcome, plugin, environment);
      runs.push(...waveRuns);
      const report = waveReport(outcome, waveRuns, cmd.pods);
      waves.push(report);
      process.stdout.write(`${formatWave(report, cmd.waves)}\n`);
    }
    const plan = { pods: cmd.pods, networks: cmd.networks, waves: cmd.waves, parallel: cmd.parallel };
    const report = stressReport({ plugin, provider: 'local', environment, nodes: cmd.nodes, plan, startedAt, waves });
    await writeFile(path.join(cmd.reportsDir, 'stress.json'), `${JSON.stringify(report, null, 2)}\n`);
    const latency = await writeLatencyReport(cmd.reportsDir, runs);
    if (!report.ok) {
      await cluster.exportLogs(path.join(cmd.reportsDir, 'out', 'cluster-logs')).catch((err: Error) => progress(`could not export cluster logs: ${err.message}`));
    }
    process.stdout.write(`\n${formatStressSummary(report)}\nreports: ${path.join(cmd.reportsDir, 'stress.json')}, ${latency.html}\n`);
    if (stopping) process.stdout.write(`stopped by a signal after ${waves.length} of ${cmd.waves} waves\n`);
    return report.ok && !stopping ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress(`tearing down cluster "${cmd.name}" …`);
    await (cluster ? cluster.destroy() : localProvider.destroy(cmd.name, cmd.workDir));
  }
}
