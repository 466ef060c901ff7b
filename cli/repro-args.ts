// Command-line parsing of `repro` and `collect`, and of the node options `cluster up` shares with repro
// (--netdevsim-vfs, --multus-settings, --daemon-config, --node-cni-dir), on top of args.ts's helpers.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { MultusConfigShape, PluginUnderTest } from '../clusters/provider.ts';
import type { Expectation } from '../repro/feature.ts';
import { parseExpectation } from '../repro/feature.ts';
import {
  DEFAULT_CLUSTER_NAME, UsageError, clusterName, defaultWorkDir, existingFile, parseCommandArgs, parseControlPlane, parseMultusConfig, parseNodes,
  parsePlugin, type ControlPlaneOptions, type ParsedArgs,
} from './args.ts';

export interface ReproCommand {
  kind: 'repro';
  source: string;
  plugins: PluginUnderTest[];
  nodes?: number;
  keep: boolean;
  name: string;
  reportsDir: string;
  multusConfig: MultusConfigShape;
  controlPlane: ControlPlaneOptions;
  toFeature?: string | true;
  expect?: Expectation;
  level?: string;
}

export interface CollectCommand {
  kind: 'collect';
  name: string;
  workDir: string;
  reportsDir: string;
}

/** What `cluster up` gives its nodes beyond the plugin: paths, read by repro/manifests.ts loadNodeFiles. */
export interface ClusterSetupOptions {
  netdevsimVfs?: number;
  multusSettings?: string;
  daemonConfig?: string;
  nodeCniDir?: string;
}

export const CLUSTER_SETUP_OPTIONS = {
  'netdevsim-vfs': { type: 'string' }, 'multus-settings': { type: 'string' }, 'daemon-config': { type: 'string' }, 'node-cni-dir': { type: 'string' },
} as const;

export const CLUSTER_SETUP_HELP = `  --netdevsim-vfs N        local only, for "up": N emulated SR-IOV VFs per node (netdevsim.io/vf); needs a
                           kernel with netdevsim
  --multus-settings FILE   for "up": JSON keys set in every node's Multus config (not the cluster network,
                           kubeconfig or paths, which stay as generated)
  --daemon-config FILE     for "up", thick plugins: JSON keys set in every node's daemon-config.json
  --node-cni-dir DIR       for "up": CNI configs copied into every node's Multus confDir (/etc/cni/multus/net.d)
`;

export function parseClusterSetup(values: ParsedArgs['values'], cwd: string, help: string): ClusterSetupOptions {
  const vfs = values['netdevsim-vfs'] as string | undefined;
  const dir = values['node-cni-dir'] as string | undefined;
  if (vfs !== undefined && !(Number.isInteger(Number(vfs)) && Number(vfs) >= 1 && Number(vfs) <= 64)) {
    throw new UsageError(`--netdevsim-vfs must be a whole number from 1 to 64, got "${vfs}"`, help);
  }
  if (dir !== undefined && !(existsSync(path.resolve(cwd, dir)) && statSync(path.resolve(cwd, dir)).isDirectory())) {
    throw new UsageError(`--node-cni-dir: ${path.resolve(cwd, dir)} is not a directory`, help);
  }
  const file = (option: string) => {
    const v = values[option] as string | undefined;
    return v === undefined ? {} : { [option === 'multus-settings' ? 'multusSettings' : 'daemonConfig']: existingFile(`--${option}`, v, cwd, help) };
  };
  return {
    ...(vfs !== undefined ? { netdevsimVfs: Number(vfs) } : {}),
    ...file('multus-settings'), ...file('daemon-config'),
    ...(dir !== undefined ? { nodeCniDir: path.resolve(cwd, dir) } : {}),
  };
}

/** A function: args.ts imports this module, so its constants are not initialised while this one loads. */
export const reproHelp = () => ({
  repro: `Usage: multus-e2e repro DIR|FILE [options]

Reproduces a bug report on a fresh local cluster: applies the report's manifests, waits until each pod
runs or fails with a stated reason, prints per pod its interfaces and addresses (ip -j in the pod),
routes, network-status and CNI calls with their latency and errors, and writes a diagnostic bundle
REPORTS/repro-NAME-TIME.tar.gz (secrets and tokens redacted). The cluster is torn down unless --keep.

DIR holds YAML files of Namespaces, NetworkAttachmentDefinitions, Pods, ConfigMaps and Secrets (any
number of documents, any order), and optionally nodes.yaml ("nodes: N", "netdevsim VFs: N"),
multus-config.json (Multus settings the reporter ran), daemon-config.json (thick plugins) and net.d/
(CNI configs for every node's Multus confDir). A FILE holds manifests only.

Options:
  --plugin P            plugin under test (as for run; default bundled); given twice (A, then B) the
                        repro runs on two fresh clusters (NAME-a, NAME-b) and the differences per pod
                        are printed and written to REPORTS/repro-NAME-diff.json (exit 1 if any)
  --nodes N             number of nodes (default: nodes.yaml, else 2)
  --keep                leave the cluster running (prints how to kubectl into it)
  --name NAME           cluster name (default ${DEFAULT_CLUSTER_NAME}-repro)
  --reports-dir DIR     where the bundle goes (default ./reports)
  --provider local      the only provider repro builds clusters on
  --multus-config, --kube-apiserver, --etcd
                        as for run
  --to-feature [FILE]   also write a Gherkin scenario (default features/repro-<dir>.feature) in the
                        suite's sentences, with the outcome observed or --expect
  --expect OUTCOME      running | not-running | not-running:TEXT (the reason must name TEXT): exit 1
                        when a pod's outcome differs; the scenario asserts it
  --level LEVEL         the scenario's level tag: core, quality or extended:<feature> (default: derived)
  -h, --help            this help
`,
  collect: `Usage: multus-e2e collect [--name NAME] [--work-dir DIR] [--reports-dir DIR]

Writes the diagnostic bundle of a running local cluster (e.g. from "cluster up" or "repro --keep"):
every pod outside the kube-* namespaces as it is now, objects, events, ip -j of pods and nodes, CNI
configs, plugin logs, CNI call records and versions, into REPORTS/repro-NAME-TIME.tar.gz.
`,
});

export function parseReproCommand(command: 'repro' | 'collect', argv: string[], cwd: string): ReproCommand | CollectCommand | { kind: 'help'; text: string } {
  if (command === 'collect') {
    const help = reproHelp().collect;
    const { values, positionals } = parseCommandArgs(argv, { name: { type: 'string' }, 'cluster-name': { type: 'string' }, 'work-dir': { type: 'string' }, 'reports-dir': { type: 'string' } }, help);
    if (values.help) return { kind: 'help', text: help };
    if (positionals.length > 0) throw new UsageError(`collect takes no arguments, got "${positionals.join(' ')}"`, help);
    const name = clusterName(values, help);
    return {
      kind: 'collect', name, workDir: path.resolve(cwd, (values['work-dir'] as string | undefined) ?? defaultWorkDir(name)),
      reportsDir: path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? 'reports'),
    };
  }
  const help = reproHelp().repro;
  // --to-feature takes an optional FILE: a following argument ending in .feature is its value.
  const args = [...argv];
  let toFeature: string | true | undefined;
  const at = args.indexOf('--to-feature');
  if (at >= 0) {
    const next = args[at + 1];
    toFeature = next?.endsWith('.feature') ? path.resolve(cwd, next) : true;
    args.splice(at, next?.endsWith('.feature') ? 2 : 1);
  }
  const { values, positionals } = parseCommandArgs(args, {
    plugin: { type: 'string', multiple: true }, provider: { type: 'string' }, nodes: { type: 'string' }, keep: { type: 'boolean' }, name: { type: 'string' },
    'cluster-name': { type: 'string' }, 'reports-dir': { type: 'string' }, 'multus-config': { type: 'string' }, 'kube-apiserver': { type: 'string' }, etcd: { type: 'string' },
    expect: { type: 'string' }, level: { type: 'string' },
  }, help);
  if (values.help) return { kind: 'help', text: help };
  if (positionals.length !== 1) throw new UsageError(`repro needs exactly one DIR or FILE, got ${positionals.length ? `"${positionals.join(' ')}"` : 'none'}`, help);
  const source = path.resolve(cwd, positionals[0]!);
  if (!existsSync(source)) throw new UsageError(`${source} does not exist`, help);
  if (values.provider !== undefined && values.provider !== 'local') throw new UsageError(`repro builds its clusters with --provider local, got "${String(values.provider)}"`, help);
  const plugins = ((values.plugin as string[] | undefined) ?? ['bundled']).map((p) => parsePlugin(p, cwd, help));
  if (plugins.length > 2) throw new UsageError(`--plugin at most twice (A, then B), got ${plugins.length}`, help);
  if (plugins.length === 2 && values.keep) throw new UsageError('--keep keeps one cluster; with two plugins run each on its own', help);
  const level = values.level as string | undefined;
  if (level !== undefined && !/^(core|quality|extended:[a-z0-9]([a-z0-9-]*[a-z0-9])?)$/.test(level)) {
    throw new UsageError(`--level must be core, quality or extended:<feature>, got "${level}"`, help);
  }
  let expect: Expectation | undefined;
  try {
    expect = values.expect !== undefined ? parseExpectation(values.expect as string) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message, help);
  }
  const nodes = values.nodes as string | undefined;
  return {
    kind: 'repro', source, plugins, keep: values.keep === true,
    name: clusterName({ ...values, name: (values.name as string | undefined) ?? (values['cluster-name'] === undefined ? `${DEFAULT_CLUSTER_NAME}-repro` : undefined) }, help),
    reportsDir: path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? 'reports'),
    multusConfig: parseMultusConfig(values['multus-config'] as string | undefined, help),
    controlPlane: parseControlPlane(values, 'local', cwd, help),
    ...(nodes !== undefined ? { nodes: parseNodes(nodes, help) } : {}),
    ...(toFeature !== undefined ? { toFeature } : {}),
    ...(expect ? { expect } : {}),
    ...(level ? { level } : {}),
  };
}
