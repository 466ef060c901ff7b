// Command-line parsing for multus-e2e: turns argv into one typed command, or a help/usage error.
// Kept free of side effects so it can be unit-tested.
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { MULTUS_CONFIG_SHAPES, type MultusConfigShape, type PluginUnderTest } from '../clusters/provider.ts';

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
}

/** --kube-apiserver/--etcd; either may be left to KUBEBUILDER_ASSETS, which the local provider reads. */
export interface ControlPlaneOptions {
  kubeApiserver?: string;
  etcd?: string;
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
}

export interface ReportCommand {
  kind: 'report';
  reportsDir: string;
  output: string;
}

export interface HelpCommand {
  kind: 'help';
  text: string;
}

export type Command = RunCommand | ClusterCommand | ReportCommand | HelpCommand;

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
  report                                render the Allure HTML report of the last run

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
  --plugin bundled|PATH|thin:PATH|thick:SHIM,DAEMON
                             plugin under test: the bundled build (default, built when missing); a
                             thin binary that reads the upstream Multus config format (PATH is the
                             same as thin:PATH); or upstream's thick plugin, multus-shim as the CNI
                             binary plus a multus-daemon per node (local provider)
  --multus-config delegates|cluster-network-file
                             shape of the generated Multus config: the primary conflist inline under
                             "delegates" (default, as upstream's --multus-conf-file=auto) or its path
                             in "clusterNetwork"; a thick plugin's multus-daemon writes its own
                             (clusterNetwork) and ignores this
  --kube-apiserver PATH      local only: run this real kube-apiserver (with --etcd) instead of the
                             embedded API server; KUBEBUILDER_ASSETS=DIR works too, flags win
  --etcd PATH                local only: the etcd for --kube-apiserver
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
  --plugin bundled|PATH|thin:PATH|thick:SHIM,DAEMON
                           plugin under test for "up" (default bundled; see run --help)
  --multus-config delegates|cluster-network-file
                           shape of the generated Multus config for "up" (default delegates)
  --kube-apiserver PATH    local only: a real kube-apiserver for "up" (with --etcd; or KUBEBUILDER_ASSETS)
  --etcd PATH              local only: the etcd for --kube-apiserver
  --work-dir DIR           cluster state and logs (default /var/tmp/multus-e2e/NAME)
  --kind-image IMG         kind only: the kindest/node image for "up"
  --plugin-image IMG       kind only: an upstream Multus DaemonSet image to install instead of the bundled plugin
  -h, --help               this help
`,
  report: `Usage: multus-e2e report [options]

Renders the Allure 3 HTML report from the last run's allure-results.

Options:
  --reports-dir DIR   reports of the last run (default ./reports); reads DIR/allure-results
  --output DIR        where the HTML report goes (default DIR/allure-report)
  -h, --help          this help
`,
} as const;

/** Parent of every cluster's default work dir; removed again when the last one is gone. */
export const WORK_ROOT = '/var/tmp/multus-e2e';

export function defaultWorkDir(name: string): string {
  return path.join(WORK_ROOT, name);
}

/** A file named on the command line, resolved against cwd; a missing one is a usage error naming it. */
function existingFile(option: string, value: string, cwd: string, help: string): string {
  if (value === '') throw new UsageError(`${option} needs a file path`, help);
  const file = path.resolve(cwd, value);
  if (!existsSync(file)) throw new UsageError(`${option}: ${file} does not exist`, help);
  if (!statSync(file).isFile()) throw new UsageError(`${option}: ${file} is not a file`, help);
  return file;
}

function parsePlugin(value: string | undefined, cwd: string, help: string): PluginUnderTest {
  if (value === undefined || value === 'bundled') return { kind: 'bundled' };
  if (value === '') throw new UsageError('--plugin needs bundled, PATH, thin:PATH or thick:SHIM,DAEMON', help);
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

function parseMultusConfig(value: string | undefined, help: string): MultusConfigShape {
  if (value === undefined) return 'delegates';
  if ((MULTUS_CONFIG_SHAPES as readonly string[]).includes(value)) return value as MultusConfigShape;
  throw new UsageError(`--multus-config must be one of ${MULTUS_CONFIG_SHAPES.join(', ')}, got "${value}"`, help);
}

function parseControlPlane(values: ParsedArgs['values'], provider: ProviderName, cwd: string, help: string): ControlPlaneOptions {
  const kubeApiserver = values['kube-apiserver'] as string | undefined;
  const etcd = values.etcd as string | undefined;
  if (kubeApiserver === undefined && etcd === undefined) return {};
  if (provider !== 'local') throw new UsageError('--kube-apiserver and --etcd need --provider local', help);
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

function parseNodes(value: string | undefined, help: string): number {
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

function clusterName(values: ParsedArgs['values'], help: string): string {
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
};

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;
interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

function parseCommandArgs(argv: string[], options: OptionSpec, help: string): ParsedArgs {
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
      ...CLUSTER_OPTIONS, tags: { type: 'string' }, keep: { type: 'boolean' }, 'reports-dir': { type: 'string' },
      'no-vm': { type: 'boolean' },
    }, HELP.run);
    if (values.help) return { kind: 'help', text: HELP.run };
    if (positionals.length > 0) throw new UsageError(`run takes no arguments, got "${positionals.join(' ')}"`, HELP.run);
    const name = clusterName(values, HELP.run);
    const tags = values.tags as string | undefined;
    const provider = parseProvider(values.provider as string | undefined, HELP.run);
    return {
      kind: 'run',
      provider,
      ...(tags !== undefined && tags.trim() !== '' ? { tags } : {}),
      plugin: parsePlugin(values.plugin as string | undefined, cwd, HELP.run),
      multusConfig: parseMultusConfig(values['multus-config'] as string | undefined, HELP.run),
      controlPlane: parseControlPlane(values, provider, cwd, HELP.run),
      keep: values.keep === true,
      nodes: parseNodes(values.nodes as string | undefined, HELP.run),
      reportsDir: path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? 'reports'),
      noVm: values['no-vm'] === true,
      name,
      workDir: path.resolve(cwd, (values['work-dir'] as string | undefined) ?? defaultWorkDir(name)),
      kindOptions: parseKindOptions(values, provider, HELP.run),
    };
  }
  if (command === 'cluster') {
    const { values, positionals } = parseCommandArgs(rest, CLUSTER_OPTIONS, HELP.cluster);
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
    };
  }
  if (command === 'report') {
    const { values, positionals } = parseCommandArgs(rest, { 'reports-dir': { type: 'string' }, output: { type: 'string' } }, HELP.report);
    if (values.help) return { kind: 'help', text: HELP.report };
    if (positionals.length > 0) throw new UsageError(`report takes no arguments, got "${positionals.join(' ')}"`, HELP.report);
    const reportsDir = path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? 'reports');
    return { kind: 'report', reportsDir, output: path.resolve(cwd, (values.output as string | undefined) ?? path.join(reportsDir, 'allure-report')) };
  }
  throw new UsageError(`unknown command "${command}"`, HELP.main);
}
