// Command-line parsing for multus-e2e: turns argv into one typed command, or a help/usage error.
// Kept free of side effects so it can be unit-tested.
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { MULTUS_CONFIG_SHAPES, type MultusConfigShape, type PluginUnderTest } from '../clusters/provider.ts';
import { BUNDLED_DAEMON, BUNDLED_SHIM } from './paths.ts';
import { parseCertifyCommand, type CertifyCommand } from './certify-args.ts';
import { CLUSTER_SETUP_HELP, CLUSTER_SETUP_OPTIONS, parseClusterSetup, parseReproCommand, type ClusterSetupOptions, type CollectCommand, type ReproCommand } from './repro-args.ts';
import { parseStressCommand, type StressCommand } from './stress-args.ts';

export type ProviderName = 'local' | 'vm' | 'kind';
export type ClusterAction = 'up' | 'down' | 'status' | 'kubeconfig';

export interface RunCommand {
  kind: 'run';
  provider: ProviderName;
  tags?: string;
  plugin: PluginUnderTest;
  multusConfig: MultusConfigShape;
  /** Real etcd + kube-apiserver for the local provider, when given on the command line. */
  controlPlane: ControlPlaneOptions;
  keep: boolean;
  nodes: number;
  reportsDir: string;
  noVm: boolean;
  name: string;
  workDir: string;
  kindOptions: KindOptions;
  /** --expect: the expectation file (expectations/<build>.yaml) the outcome must match. */
  expect?: string;
  /** --claim: the extended features this build claims; wins over the expectation file's claims. */
  claims?: string[];
}

/**
 * --kube-apiserver/--etcd (either may be left to KUBEBUILDER_ASSETS, which the local provider reads), or
 * --control-plane container:VERSION with its images (the official ones unless --apiserver-image/--etcd-image).
 */
export interface ControlPlaneOptions {
  kubeApiserver?: string;
  etcd?: string;
  controlPlaneImages?: { version: string; apiserverImage?: string; etcdImage?: string };
}

/** Settings only the kind provider reads; they override the MULTUS_E2E_KIND_* environment variables. */
export interface KindOptions {
  image?: string;
  pluginImage?: string;
}

export interface ClusterCommand {
  kind: 'cluster';
  action: ClusterAction;
  provider: ProviderName;
  name: string;
  nodes: number;
  plugin: PluginUnderTest;
  multusConfig: MultusConfigShape;
  controlPlane: ControlPlaneOptions;
  workDir: string;
  kindOptions: KindOptions;
  /** What "up" gives the nodes beyond the plugin (the node options repro takes from its directory). */
  setup: ClusterSetupOptions;
}

export interface ReportCommand {
  kind: 'report';
  reportsDir: string;
  output: string;
  /** --baseline: an earlier reports dir to compare the last run with. */
  baseline?: string;
  maxLatencyRegression: number;
}

/** Two runs of the same scenarios, A then B, each on a fresh cluster of its own. */
export interface CompareCommand {
  kind: 'compare';
  runs: [RunCommand, RunCommand];
  reportsDir: string;
  maxLatencyRegression: number;
}

export interface HelpCommand {
  kind: 'help';
  text: string;
}

/** compare --control-plane X --control-plane Y …: the same scenarios on each control plane, side by side. */
export interface MatrixCommand {
  kind: 'matrix';
  entries: { label: string; run: RunCommand }[];
  reportsDir: string;
}

export type Command = RunCommand | ClusterCommand | ReportCommand | CompareCommand | MatrixCommand | StressCommand | ReproCommand | CollectCommand | CertifyCommand | HelpCommand;

/** A usage mistake: printed with the command's help and exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly help: string) {
    super(message);
  }
}

export const DEFAULT_CLUSTER_NAME = 'me2e';
const PROVIDERS: readonly ProviderName[] = ['local', 'vm', 'kind'];
const CLUSTER_ACTIONS: readonly ClusterAction[] = ['up', 'down', 'status', 'kubeconfig'];

export const HELP = {
  main: `Usage: multus-e2e <command> [options]

Conformance and end-to-end tests for Kubernetes multi-network (Multus-style meta-CNI).

Commands:
  run                                   bring up a cluster, run the Gherkin suite, tear down
  cluster up|down|status|kubeconfig     a cluster to poke at by hand (kubectl works on it)
  report                                render the Allure HTML report of the last run (--baseline DIR:
                                        compare it with an earlier run)
  compare --plugin A --plugin B         run the same scenarios for two plugins, side by side
  repro DIR|FILE                        reproduce a bug report on a fresh cluster: per-pod report, a
                                        diagnostic bundle, optionally a regression scenario
  collect                               the diagnostic bundle of a running cluster
  stress --pods N --networks K --waves W --parallel P
                                        churn on a local cluster: pods created and deleted in waves,
                                        leaks and ADD/DEL latency per wave
  certify --delegate PATH --config FILE certify a CNI delegate plugin against the CNI spec (in the vm guest when
                                        this kernel lacks its link kind, e.g. ipvlan, vlan); writes a certificate

Run "multus-e2e <command> --help" for the options of a command.
`,
  run: `Usage: multus-e2e run [options]

Brings up a cluster, installs the plugin under test, runs the features, tears the cluster down and
exits 0 only if every selected scenario passed (scenarios skipped with a printed reason do not fail).
Scenarios tagged @ipvlan, @vlan or @netdevsim run on this host when its kernel can, otherwise inside
the vm provider.

Options:
  --provider local|vm|kind   cluster provider (default local); vm forces every capability-tagged
                             scenario into the QEMU guest
  --tags EXPR                Cucumber tag expression selecting scenarios (e.g. "@macvlan and not @slow")
  --plugin bundled|bundled-thick|PATH|thin:PATH|thick:SHIM,DAEMON
                             plugin under test: the bundled build (default, built when missing); a
                             thin binary that reads the upstream Multus config format (PATH is the
                             same as thin:PATH); or upstream's thick plugin, multus-shim as the CNI
                             binary plus a multus-daemon per node (local provider); bundled-thick
                             is the bundled build in thick mode (thick: its multus-shim, multus-daemon)
  --multus-config delegates|cluster-network-file
                             shape of the generated Multus config: the primary conflist inline under
                             "delegates" (default, as upstream's --multus-conf-file=auto) or its path
                             in "clusterNetwork"; a thick plugin's multus-daemon writes its own
                             (clusterNetwork) and ignores this
  --kube-apiserver PATH      local only: run this real kube-apiserver (with --etcd) instead of the
                             embedded API server; KUBEBUILDER_ASSETS=DIR works too, flags win
  --etcd PATH                local only: the etcd for --kube-apiserver
  --control-plane container:VERSION
                             local only: etcd and kube-apiserver VERSION (e.g. v1.20.2) as containers on
                             the Docker engine of DOCKER_HOST instead of the embedded API server
  --apiserver-image IMG      with container:VERSION: the kube-apiserver image (default
                             registry.k8s.io/kube-apiserver:VERSION)
  --etcd-image IMG           with container:VERSION: the etcd image (default registry.k8s.io/etcd:<kubeadm's
                             etcd of that Kubernetes minor>)
  --keep                     leave the cluster running afterwards
  --nodes N                  number of nodes (default 2)
  --reports-dir DIR          where reports land (default ./reports)
  --no-vm                    never boot the vm; scenarios this kernel cannot run are skipped with the reason
  --name NAME                cluster name, also the prefix of everything it creates (default ${DEFAULT_CLUSTER_NAME});
                             --cluster-name is the same
  --work-dir DIR             cluster state and logs (default /var/tmp/multus-e2e/NAME)
  --kind-image IMG           kind only: the kindest/node image of the cluster
  --plugin-image IMG         kind only: install this upstream Multus DaemonSet image instead of the
                             bundled plugin (side-loaded with kind load)
  --expect FILE              expectation file (e.g. expectations/multus-v4.2.2-thin.yaml): exit 0 exactly
                             when the outcome matches it; unexpected failures and unexpected passes are
                             printed by scenario id and fail the run
  --claim F1,F2              extended features the build claims (default: the expectation file's claims;
                             the bundled plugin claims every extended feature of the suite)
  -h, --help                 this help
`,
  cluster: `Usage: multus-e2e cluster up|down|status|kubeconfig [options]

  up           create a cluster with the plugin under test installed and leave it running
  down         destroy it and everything it created on this host
  status       print the cluster's nodes and kubeconfig path
  kubeconfig   print the path of its kubeconfig, e.g.
               kubectl --kubeconfig "$(multus-e2e cluster kubeconfig)" get pods,net-attach-def -A

Options:
  --name NAME              cluster name (default ${DEFAULT_CLUSTER_NAME}); --cluster-name is the same
  --provider local|kind    cluster provider (default local)
  --nodes N                number of nodes for "up" (default 2)
  --plugin bundled|bundled-thick|PATH|thin:PATH|thick:SHIM,DAEMON
                           plugin under test for "up" (default bundled; see run --help)
  --multus-config delegates|cluster-network-file
                           shape of the generated Multus config for "up" (default delegates)
  --kube-apiserver PATH    local only: a real kube-apiserver for "up" (with --etcd; or KUBEBUILDER_ASSETS)
  --etcd PATH              local only: the etcd for --kube-apiserver
  --control-plane container:VERSION [--apiserver-image IMG] [--etcd-image IMG]
                           local only: etcd and kube-apiserver from container images (see run --help)
  --work-dir DIR           cluster state and logs (default /var/tmp/multus-e2e/NAME)
  --kind-image IMG         kind only: the kindest/node image for "up"
  --plugin-image IMG       kind only: an upstream Multus DaemonSet image to install instead of the bundled plugin
${CLUSTER_SETUP_HELP}  -h, --help               this help
`,
  report: `Usage: multus-e2e report [options]

Renders the Allure 3 HTML report from the last run's allure-results. With --baseline, first compares
the last run with an earlier one (verdicts, and CNI latency p50/p95 per environment) into
DIR/baseline.json and DIR/baseline.html, and exits 1 when it regressed.

Options:
  --reports-dir DIR                 reports of the last run (default ./reports); reads DIR/allure-results
  --output DIR                      where the HTML report goes (default DIR/allure-report)
  --baseline DIR                    reports dir of an earlier run to compare with
  --max-latency-regression R        with --baseline: allowed p50 growth per op, 0.25 = up to 1.25× (default 0.25)
  -h, --help                        this help
`,
  compare: `Usage: multus-e2e compare --plugin A --plugin B [options]

Runs the same scenarios for plugin A, then for plugin B, each on a fresh cluster (NAME-a, NAME-b), and
writes DIR/compare.json and DIR/compare.html: the verdict of every scenario side by side (with its
level) and CNI ADD/DEL latency p50/p95 per environment with the ratio B/A. Exits 0 when B did not
regress against A: no scenario that passed for A fails for B, and no op's p50 grew beyond the threshold.

Options:
  --plugin bundled|bundled-thick|PATH|thin:PATH|thick:SHIM,DAEMON
                                    given twice: A, then B
  --tags EXPR                       Cucumber tag expression selecting the scenarios of both runs
  --expect-a FILE, --expect-b FILE  expectation files of A and B (their claims and verdicts per run)
  --max-latency-regression R        allowed p50 growth of B over A per op, 0.25 = up to 1.25× (default 0.25)
  --reports-dir DIR                 where it all lands (default ./reports/compare); each run in DIR/a, DIR/b
  --name NAME                       prefix of the two clusters' names (default ${DEFAULT_CLUSTER_NAME})
  --provider, --nodes, --no-vm, --multus-config, --kube-apiserver, --etcd, --apiserver-image, --etcd-image
                                    as for run, the same for both runs
  -h, --help                        this help

A control plane matrix: --control-plane [LABEL=]container:VERSION|binaries given two or more times runs
the scenarios with one plugin (--plugin at most once) on each control plane in turn, each on a cluster of
its own (NAME-1, NAME-2, …; reports in DIR/<label>), and writes DIR/matrix.json and DIR/matrix.html: the
verdict of every scenario and CNI latency per environment for each control plane, side by side (never
pooled). Exits 0 when every run completed and every scenario has the same verdict on every control plane.
binaries is --kube-apiserver with --etcd; the image options apply to the container entries.
`,
} as const;

/** Parent of every cluster's default work dir; removed again when the last one is gone. */
export const WORK_ROOT = '/var/tmp/multus-e2e';

export function defaultWorkDir(name: string): string {
  return path.join(WORK_ROOT, name);
}

/** A file named on the command line, resolved against cwd; a missing one is a usage error naming it. */
export function existingFile(option: string, value: string, cwd: string, help: string): string {
  if (value === '') throw new UsageError(`${option} needs a file path`, help);
  const file = path.resolve(cwd, value);
  if (!existsSync(file)) throw new UsageError(`${option}: ${file} does not exist`, help);
  if (!statSync(file).isFile()) throw new UsageError(`${option}: ${file} is not a file`, help);
  return file;
}

export function parsePlugin(value: string | undefined, cwd: string, help: string): PluginUnderTest {
  if (value === undefined || value === 'bundled') return { kind: 'bundled' };
  // Built (or rebuilt) before use like the bundled thin plugin, so not required to exist yet.
  if (value === 'bundled-thick') return { kind: 'thick', shim: BUNDLED_SHIM, daemon: BUNDLED_DAEMON };
  if (value === '') throw new UsageError('--plugin needs bundled, bundled-thick, PATH, thin:PATH or thick:SHIM,DAEMON', help);
  if (value.startsWith('thick:')) {
    const [shim, daemon, ...extra] = value.slice('thick:'.length).split(',');
    if (!shim || !daemon || extra.length > 0) {
      throw new UsageError(`--plugin thick: needs exactly two paths, the shim and the daemon (thick:SHIM,DAEMON), got "${value}"`, help);
    }
    return { kind: 'thick', shim: existingFile('--plugin thick: shim', shim, cwd, help), daemon: existingFile('--plugin thick: daemon', daemon, cwd, help) };
  }
  const thin = value.startsWith('thin:') ? value.slice('thin:'.length) : value;
  return { kind: 'thin', path: existingFile('--plugin', thin, cwd, help) };
}

export function parseMultusConfig(value: string | undefined, help: string): MultusConfigShape {
  if (value === undefined) return 'delegates';
  if ((MULTUS_CONFIG_SHAPES as readonly string[]).includes(value)) return value as MultusConfigShape;
  throw new UsageError(`--multus-config must be one of ${MULTUS_CONFIG_SHAPES.join(', ')}, got "${value}"`, help);
}

/** --control-plane values: the --kube-apiserver/--etcd binaries, or etcd and kube-apiserver VERSION from images. */
const CONTROL_PLANE = /^(binaries|container:(v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?))$/;

export function parseControlPlane(values: ParsedArgs['values'], provider: ProviderName, cwd: string, help: string): ControlPlaneOptions {
  const kubeApiserver = values['kube-apiserver'] as string | undefined;
  const etcd = values.etcd as string | undefined;
  const given = values['control-plane'];
  // compare takes --control-plane several times; one of them is the same as run's single one.
  const spec = Array.isArray(given) ? given[0] : given as string | undefined;
  const apiserverImage = values['apiserver-image'] as string | undefined;
  const etcdImage = values['etcd-image'] as string | undefined;
  if (spec === undefined && (apiserverImage !== undefined || etcdImage !== undefined)) throw new UsageError('--apiserver-image and --etcd-image need --control-plane container:VERSION', help);
  if (spec === undefined && kubeApiserver === undefined && etcd === undefined) return {};
  if (provider !== 'local') throw new UsageError('--control-plane, --kube-apiserver and --etcd need --provider local', help);
  const m = spec === undefined ? undefined : CONTROL_PLANE.exec(spec);
  if (spec !== undefined && !m) throw new UsageError(`--control-plane must be container:VERSION (a Kubernetes version such as v1.20.2) or binaries, got "${spec}"`, help);
  const version = m?.[2];
  if (version !== undefined) {
    if (kubeApiserver !== undefined || etcd !== undefined) throw new UsageError(`--control-plane ${spec} runs the control plane from images: drop --kube-apiserver and --etcd`, help);
    for (const [option, image] of [['--apiserver-image', apiserverImage], ['--etcd-image', etcdImage]] as const) {
      if (image !== undefined && !/^[a-z0-9][^\s]*$/.test(image)) throw new UsageError(`${option} must be an image reference such as registry.k8s.io/etcd:3.4.13-0, got "${image}"`, help);
    }
    return { controlPlaneImages: { version, ...(apiserverImage ? { apiserverImage } : {}), ...(etcdImage ? { etcdImage } : {}) } };
  }
  if (apiserverImage !== undefined || etcdImage !== undefined) throw new UsageError('--apiserver-image and --etcd-image need --control-plane container:VERSION', help);
  if (spec === 'binaries' && (kubeApiserver === undefined || etcd === undefined)) throw new UsageError('--control-plane binaries needs --kube-apiserver and --etcd', help);
  return {
    ...(kubeApiserver !== undefined ? { kubeApiserver: existingFile('--kube-apiserver', kubeApiserver, cwd, help) } : {}),
    ...(etcd !== undefined ? { etcd: existingFile('--etcd', etcd, cwd, help) } : {}),
  };
}

function parseProvider(value: string | undefined, help: string): ProviderName {
  if (value === undefined) return 'local';
  if ((PROVIDERS as readonly string[]).includes(value)) return value as ProviderName;
  throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}, got "${value}"`, help);
}

export function parseNodes(value: string | undefined, help: string): number {
  if (value === undefined) return 2;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    throw new UsageError(`--nodes must be a whole number from 1 to 16, got "${value}"`, help);
  }
  return n;
}

function parseName(value: string | undefined, help: string): string {
  const name = value ?? DEFAULT_CLUSTER_NAME;
  // Providers derive namespace, link and file names from it, so it must be DNS-label safe.
  if (!/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/.test(name)) {
    throw new UsageError(`--name must be 1-40 lowercase letters, digits or '-', starting and ending with a letter or digit, got "${name}"`, help);
  }
  return name;
}

function parseKindOptions(values: ParsedArgs['values'], provider: ProviderName, help: string): KindOptions {
  const image = values['kind-image'] as string | undefined;
  const pluginImage = values['plugin-image'] as string | undefined;
  if ((image !== undefined || pluginImage !== undefined) && provider !== 'kind') {
    throw new UsageError('--kind-image and --plugin-image need --provider kind', help);
  }
  return { ...(image ? { image } : {}), ...(pluginImage ? { pluginImage } : {}) };
}

export function clusterName(values: ParsedArgs['values'], help: string): string {
  const name = values.name as string | undefined;
  const alias = values['cluster-name'] as string | undefined;
  if (name !== undefined && alias !== undefined && name !== alias) {
    throw new UsageError(`--name "${name}" and --cluster-name "${alias}" disagree; give one`, help);
  }
  return parseName(name ?? alias, help);
}

const CLUSTER_OPTIONS: OptionSpec = {
  name: { type: 'string' }, 'cluster-name': { type: 'string' }, provider: { type: 'string' }, nodes: { type: 'string' },
  plugin: { type: 'string' }, 'work-dir': { type: 'string' }, 'kind-image': { type: 'string' }, 'plugin-image': { type: 'string' },
  'multus-config': { type: 'string' }, 'kube-apiserver': { type: 'string' }, etcd: { type: 'string' },
  'control-plane': { type: 'string' }, 'apiserver-image': { type: 'string' }, 'etcd-image': { type: 'string' },
};

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
export interface ParsedArgs {
  values: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
}

/** Options of every command that runs the suite (run, compare). */
const SUITE_OPTIONS: OptionSpec = { tags: { type: 'string' }, 'reports-dir': { type: 'string' }, 'no-vm': { type: 'boolean' } };

/** --claim f1,f2: feature names as in @extended:<feature>. */
function parseClaims(value: string | undefined, help: string): string[] | undefined {
  if (value === undefined) return undefined;
  const claims = value.split(',').map((c) => c.trim()).filter((c) => c !== '');
  const bad = claims.filter((c) => !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(c));
  if (bad.length > 0) throw new UsageError(`--claim takes feature names as in @extended:<feature> (lowercase, digits, '-'), got "${bad.join('", "')}"`, help);
  return [...new Set(claims)];
}

function parseLatencyThreshold(value: string | undefined, help: string): number {
  if (value === undefined) return 0.25;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--max-latency-regression must be a fraction ≥ 0 (0.25 allows up to 1.25×), got "${value}"`, help);
  }
  return n;
}

function runFromValues(values: ParsedArgs['values'], cwd: string, help: string): RunCommand {
  const name = clusterName(values, help);
  const tags = values.tags as string | undefined;
  const provider = parseProvider(values.provider as string | undefined, help);
  const expect = values.expect as string | undefined;
  const claims = parseClaims(values.claim as string | undefined, help);
  return {
    kind: 'run',
    provider,
    ...(tags !== undefined && tags.trim() !== '' ? { tags } : {}),
    plugin: parsePlugin(values.plugin as string | undefined, cwd, help),
    multusConfig: parseMultusConfig(values['multus-config'] as string | undefined, help),
    controlPlane: parseControlPlane(values, provider, cwd, help),
    keep: values.keep === true,
    nodes: parseNodes(values.nodes as string | undefined, help),
    reportsDir: path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? 'reports'),
    noVm: values['no-vm'] === true,
    name,
    workDir: path.resolve(cwd, (values['work-dir'] as string | undefined) ?? defaultWorkDir(name)),
    kindOptions: parseKindOptions(values, provider, help),
    ...(expect !== undefined ? { expect: existingFile('--expect', expect, cwd, help) } : {}),
    ...(claims !== undefined ? { claims } : {}),
  };
}

/**
 * compare --control-plane [LABEL=]SPEC … : one run per control plane, each on its own cluster (NAME-1, NAME-2, …)
 * with its own reports dir (DIR/<label>). The label defaults to the spec; it must be unique.
 */
function parseMatrix(values: ParsedArgs['values'], specs: string[], cwd: string): MatrixCommand {
  const help = HELP.compare;
  const plugins = (values.plugin as string[] | undefined) ?? [];
  if (plugins.length > 1) throw new UsageError(`a control plane matrix runs one plugin on each control plane: give --plugin at most once, got ${plugins.length}`, help);
  for (const option of ['expect-a', 'expect-b', 'max-latency-regression']) {
    if (values[option] !== undefined) throw new UsageError(`--${option} compares two plugins; a control plane matrix (--control-plane given ${specs.length} times) does not take it`, help);
  }
  const versions = new Set(specs.map((s) => s.slice(s.indexOf('=') + 1)).filter((s) => s.startsWith('container:')));
  if (versions.size > 1 && (values['apiserver-image'] !== undefined || values['etcd-image'] !== undefined)) {
    throw new UsageError(`--apiserver-image and --etcd-image name the images of one version, but the matrix has ${[...versions].join(', ')}`, help);
  }
  const reportsDir = path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? path.join('reports', 'compare'));
  const base = runFromValues({ ...values, plugin: plugins[0], expect: undefined, 'control-plane': undefined, 'kube-apiserver': undefined, etcd: undefined,
    'apiserver-image': undefined, 'etcd-image': undefined }, cwd, help);
  const labels = new Set<string>();
  const entries = specs.map((entry, i) => {
    const eq = entry.indexOf('=');
    const label = eq >= 0 ? entry.slice(0, eq) : entry;
    const spec = eq >= 0 ? entry.slice(eq + 1) : entry;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$/.test(label)) throw new UsageError(`--control-plane label "${label}" must be 1-40 letters, digits, '_', '.', ':' or '-'`, help);
    if (labels.has(label)) throw new UsageError(`--control-plane ${label} is given twice: label the entries (LABEL=SPEC), e.g. first=${spec} second=${spec}`, help);
    labels.add(label);
    const own = { ...values, 'control-plane': spec };
    // The binaries and the images belong to the entries that use them.
    if (!spec.startsWith('container:')) Object.assign(own, { 'apiserver-image': undefined, 'etcd-image': undefined });
    else Object.assign(own, { 'kube-apiserver': undefined, etcd: undefined });
    const name = parseName(`${base.name}-${i + 1}`, help);
    const run: RunCommand = {
      ...base, controlPlane: parseControlPlane(own, base.provider, cwd, help), name, workDir: defaultWorkDir(name),
      reportsDir: path.join(reportsDir, label.replace(/:/g, '-')),
    };
    return { label, run };
  });
  return { kind: 'matrix', entries, reportsDir };
}

export function parseCommandArgs(argv: string[], options: OptionSpec, help: string): ParsedArgs {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message, help);
  }
}

export function parseCommand(argv: string[], cwd: string = process.cwd()): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    return { kind: 'help', text: HELP.main };
  }
  if (command === 'run') {
    const { values, positionals } = parseCommandArgs(rest, {
      ...CLUSTER_OPTIONS, ...SUITE_OPTIONS, keep: { type: 'boolean' }, expect: { type: 'string' }, claim: { type: 'string' },
    }, HELP.run);
    if (values.help) return { kind: 'help', text: HELP.run };
    if (positionals.length > 0) throw new UsageError(`run takes no arguments, got "${positionals.join(' ')}"`, HELP.run);
    return runFromValues(values, cwd, HELP.run);
  }
  if (command === 'compare') {
    const { plugin: _plugin, 'work-dir': _workDir, ...clusterOptions } = CLUSTER_OPTIONS;
    const { values, positionals } = parseCommandArgs(rest, {
      ...clusterOptions, ...SUITE_OPTIONS, plugin: { type: 'string', multiple: true }, 'expect-a': { type: 'string' }, 'expect-b': { type: 'string' },
      'max-latency-regression': { type: 'string' }, 'control-plane': { type: 'string', multiple: true },
    }, HELP.compare);
    if (values.help) return { kind: 'help', text: HELP.compare };
    if (positionals.length > 0) throw new UsageError(`compare takes no arguments, got "${positionals.join(' ')}"`, HELP.compare);
    const controlPlanes = (values['control-plane'] as string[] | undefined) ?? [];
    if (controlPlanes.length > 1) return parseMatrix(values, controlPlanes, cwd);
    const plugins = (values.plugin as string[] | undefined) ?? [];
    if (plugins.length !== 2) throw new UsageError(`compare needs --plugin exactly twice (A, then B), got ${plugins.length}`, HELP.compare);
    const reportsDir = path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? path.join('reports', 'compare'));
    const base = runFromValues({ ...values, plugin: undefined, expect: undefined }, cwd, HELP.compare);
    const side = (label: 'a' | 'b', plugin: string, expect: string | undefined): RunCommand => {
      const name = parseName(`${base.name}-${label}`, HELP.compare);
      return {
        ...base, plugin: parsePlugin(plugin, cwd, HELP.compare), name, workDir: defaultWorkDir(name), reportsDir: path.join(reportsDir, label),
        ...(expect !== undefined ? { expect: existingFile(`--expect-${label}`, expect, cwd, HELP.compare) } : {}),
      };
    };
    return {
      kind: 'compare',
      runs: [side('a', plugins[0]!, values['expect-a'] as string | undefined), side('b', plugins[1]!, values['expect-b'] as string | undefined)],
      reportsDir,
      maxLatencyRegression: parseLatencyThreshold(values['max-latency-regression'] as string | undefined, HELP.compare),
    };
  }
  if (command === 'cluster') {
    const { values, positionals } = parseCommandArgs(rest, { ...CLUSTER_OPTIONS, ...CLUSTER_SETUP_OPTIONS }, HELP.cluster);
    if (values.help) return { kind: 'help', text: HELP.cluster };
    const [action, ...extra] = positionals;
    if (action === undefined || !(CLUSTER_ACTIONS as readonly string[]).includes(action) || extra.length > 0) {
      throw new UsageError(`cluster needs exactly one of ${CLUSTER_ACTIONS.join('|')}, got "${positionals.join(' ')}"`, HELP.cluster);
    }
    const provider = parseProvider(values.provider as string | undefined, HELP.cluster);
    if (provider === 'vm') throw new UsageError('cluster commands support --provider local or kind; the vm provider runs whole suites only', HELP.cluster);
    const name = clusterName(values, HELP.cluster);
    return {
      kind: 'cluster',
      action: action as ClusterAction,
      provider,
      name,
      nodes: parseNodes(values.nodes as string | undefined, HELP.cluster),
      plugin: parsePlugin(values.plugin as string | undefined, cwd, HELP.cluster),
      multusConfig: parseMultusConfig(values['multus-config'] as string | undefined, HELP.cluster),
      controlPlane: parseControlPlane(values, provider, cwd, HELP.cluster),
      workDir: path.resolve(cwd, (values['work-dir'] as string | undefined) ?? defaultWorkDir(name)),
      kindOptions: parseKindOptions(values, provider, HELP.cluster),
      setup: parseClusterSetup(values, cwd, HELP.cluster),
    };
  }
  if (command === 'report') {
    const { values, positionals } = parseCommandArgs(rest, {
      'reports-dir': { type: 'string' }, output: { type: 'string' }, baseline: { type: 'string' }, 'max-latency-regression': { type: 'string' },
    }, HELP.report);
    if (values.help) return { kind: 'help', text: HELP.report };
    if (positionals.length > 0) throw new UsageError(`report takes no arguments, got "${positionals.join(' ')}"`, HELP.report);
    const reportsDir = path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? 'reports');
    const baseline = values.baseline as string | undefined;
    if (baseline !== undefined && !existsSync(path.resolve(cwd, baseline))) throw new UsageError(`--baseline: ${path.resolve(cwd, baseline)} does not exist`, HELP.report);
    return {
      kind: 'report', reportsDir, output: path.resolve(cwd, (values.output as string | undefined) ?? path.join(reportsDir, 'allure-report')),
      ...(baseline !== undefined ? { baseline: path.resolve(cwd, baseline) } : {}),
      maxLatencyRegression: parseLatencyThreshold(values['max-latency-regression'] as string | undefined, HELP.report),
    };
  }
  if (command === 'stress') return parseStressCommand(rest, cwd);
  if (command === 'repro' || command === 'collect') return parseReproCommand(command, rest, cwd);
  if (command === 'certify') return parseCertifyCommand(rest, cwd);
  throw new UsageError(`unknown command "${command}"`, HELP.main);
}
