// Command-line parsing of `multus-e2e stress`, on top of args.ts's helpers; free of side effects.
import path from 'node:path';
import type { MultusConfigShape, PluginUnderTest } from '../clusters/provider.ts';
import { MAX_NETWORKS, type StressPlan } from '../stress/waves.ts';
import { DEFAULT_CLUSTER_NAME, UsageError, clusterName, defaultWorkDir, parseCommandArgs, parseMultusConfig, parseNodes, parsePlugin } from './args.ts';

export interface StressCommand extends StressPlan {
  kind: 'stress';
  plugin: PluginUnderTest;
  multusConfig: MultusConfigShape;
  nodes: number;
  name: string;
  workDir: string;
  reportsDir: string;
}

/** Pods per node a wave may put up at most: the local provider's cluster network is one /24 per node. */
export const MAX_PODS_PER_NODE = 200;

// A function, not a constant: args.ts imports this module, so its exports are not there yet while this one loads.
export const stressHelp = (): string => `Usage: multus-e2e stress --pods N --networks K --waves W --parallel P [options]

Churn on the local provider: brings up a cluster, then W times creates N pods, each attached to K
secondary networks (odd ones macvlan on eth1, even ones bridge; host-local IPAM in 198.18.0.0/15), P at
a time, deletes them P at a time, and checks every node for what they left behind (links, addresses,
network namespaces, IPAM allocations, cache files). Prints per wave the pods started and failed, every
leak, ADD/DEL latency p50/p95/p99 and how latency grows with the pods on a node; writes
DIR/stress.json, DIR/latency.json and DIR/latency.html (a line per wave). Tears the cluster down and
exits 1 when any pod failed or anything leaked.

Options:
  --pods N                 pods per wave (1 to ${MAX_PODS_PER_NODE} × nodes)
  --networks K             secondary networks per pod (1 to ${MAX_NETWORKS})
  --waves W                waves (1 to 100)
  --parallel P             pods created (and deleted) at a time (1 to N)
  --plugin bundled|bundled-thick|PATH|thin:PATH|thick:SHIM,DAEMON
                           plugin under test, as for run (default bundled)
  --multus-config delegates|cluster-network-file
                           shape of the generated Multus config, as for run (default delegates)
  --nodes N                number of nodes (default 2)
  --reports-dir DIR        where reports land (default ./reports/stress)
  --name NAME              cluster name (default ${DEFAULT_CLUSTER_NAME}-stress)
  --work-dir DIR           cluster state and logs (default /var/tmp/multus-e2e/NAME)
  -h, --help               this help
`;

/** A required whole number in [min, max]; the error names the flag. */
function count(flag: string, value: string | undefined, min: number, max: number, what: string): number {
  if (value === undefined) throw new UsageError(`--${flag} is required (${what}, ${min} to ${max})`, stressHelp());
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max} (${what}), got "${value}"`, stressHelp());
  }
  return n;
}

export function parseStressCommand(argv: string[], cwd: string): StressCommand | { kind: 'help'; text: string } {
  const { values, positionals } = parseCommandArgs(argv, {
    pods: { type: 'string' }, networks: { type: 'string' }, waves: { type: 'string' }, parallel: { type: 'string' },
    plugin: { type: 'string' }, 'multus-config': { type: 'string' }, nodes: { type: 'string' }, 'reports-dir': { type: 'string' },
    name: { type: 'string' }, 'cluster-name': { type: 'string' }, 'work-dir': { type: 'string' },
  }, stressHelp());
  if (values.help) return { kind: 'help', text: stressHelp() };
  if (positionals.length > 0) throw new UsageError(`stress takes no arguments, got "${positionals.join(' ')}"`, stressHelp());
  const nodes = parseNodes(values.nodes as string | undefined, stressHelp());
  const pods = count('pods', values.pods as string | undefined, 1, MAX_PODS_PER_NODE * nodes, `pods per wave, at most ${MAX_PODS_PER_NODE} per node`);
  const networks = count('networks', values.networks as string | undefined, 1, MAX_NETWORKS, 'secondary networks per pod');
  const waves = count('waves', values.waves as string | undefined, 1, 100, 'waves');
  const parallel = count('parallel', values.parallel as string | undefined, 1, pods, 'pods at a time, at most --pods');
  const name = clusterName({ ...values, name: values.name ?? (values['cluster-name'] === undefined ? `${DEFAULT_CLUSTER_NAME}-stress` : undefined) }, stressHelp());
  return {
    kind: 'stress',
    pods, networks, waves, parallel,
    plugin: parsePlugin(values.plugin as string | undefined, cwd, stressHelp()),
    multusConfig: parseMultusConfig(values['multus-config'] as string | undefined, stressHelp()),
    nodes,
    name,
    workDir: path.resolve(cwd, (values['work-dir'] as string | undefined) ?? defaultWorkDir(name)),
    reportsDir: path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? path.join('reports', 'stress')),
  };
}
