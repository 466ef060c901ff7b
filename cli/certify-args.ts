// Command-line parsing of `certify`, on top of args.ts's helpers.
import path from 'node:path';
import { PROFILES, type CertifyOptions, type Profile } from '../certify/index.ts';
import type { PluginUnderTest } from '../clusters/provider.ts';
import { UsageError, defaultWorkDir, existingFile, parseCommandArgs, parsePlugin } from './args.ts';

/** Where the certification runs: this host, the vm guest, or (auto) the guest only when this kernel lacks what the delegate needs. */
export type CertifyProvider = 'auto' | 'local' | 'vm';
export const CERTIFY_PROVIDERS: readonly CertifyProvider[] = ['auto', 'local', 'vm'];

/** One delegate to certify: what certify() takes for it, less the options all delegates share. */
export type CertifyJob = Pick<CertifyOptions, 'delegate' | 'config' | 'reportsDir' | 'name'>;

export interface CertifyCommand {
  kind: 'certify';
  /** One per --delegate/--config pair, in the order given. */
  jobs: CertifyJob[];
  ipamOnly: boolean;
  profile: Profile;
  provider: CertifyProvider;
  plugin: PluginUnderTest;
  /** Profile full: the cluster's work dir (after --name). */
  workDir: string;
  /** --reports-dir as given (each job's own is under it when there are several). */
  reportsDir: string;
  /** --name as given (each job's own is NAME-N when there are several). */
  name: string;
}

export const CERTIFY_HELP = `Usage: multus-e2e certify --delegate PATH --config FILE [--delegate PATH --config FILE]... [options]

Certifies a CNI delegate plugin against the CNI specification (the versions its VERSION claims, each
requirement citing its section), in network namespaces of its own, and writes a certificate:
DIR/certificate.json, DIR/certificate.html, DIR/junit.xml and DIR/allure-results. Exits 0 only when
certified: every applicable requirement ran and passed (one that could not run, e.g. for lack of a
kernel feature, is not met).

FILE is the delegate's network config (or a conflist holding it) with placeholders the harness fills
per attachment: {{name}}, {{master}}, {{subnet}}, {{gateway}}, {{rangeStart}}, {{rangeEnd}},
{{dataDir}} (where the delegate or its IPAM keeps state, so leaks are seen) and {{device}} (a link
made for each attachment, for plugins that move one into the container). "capabilities" it declares
(ips, mac) are passed as runtimeConfig.

Where it runs: on this host, unless the delegate's type needs a link kind this kernel cannot create
(ipvlan, vlan/8021q, macvlan, bridge; probed first): then, as run does for @ipvlan/@vlan scenarios,
it runs in the vm guest (QEMU, Debian's stock kernel; the certificate records the guest's kernel and
comes back to DIR). When the guest cannot run here either, or with profile full (whose cluster runs
on this host only), certify stops and says what is missing.

Options:
  --delegate PATH      the plugin binary
  --config FILE        its network config with placeholders. Several --delegate/--config pairs
                       (paired in order, profile spec) are certified side by side, in one vm boot when
                       they go to the guest; each certificate goes to DIR/<delegate file name>/ and each
                       delegate's namespaces are named NAME-1, NAME-2, ...
  --ipam-only          the delegate is an IPAM plugin (host-local, static, ...): called as a plugin calls
                       its IPAM, judged without the interface requirements
  --profile spec|full  what to certify: spec (Part 1, the CNI spec on the delegate alone; the default)
                       or full (Part 1, and Part 2 beside it: the delegate as a Multus delegate on a
                       one-node local cluster: its network as a NetworkAttachmentDefinition attached to
                       two pods as net1 and net2, traffic between them, network-status against the
                       kernel, deletion leaving nothing, ADD/DEL latency; an --ipam-only delegate is
                       the IPAM of a macvlan network there)
  --plugin bundled|bundled-thick|PATH|thin:PATH|thick:SHIM,DAEMON
                       profile full: the Multus plugin the delegate runs under, as for run (default bundled)
  --provider auto|local|vm
                       where it runs: auto (the default: by the kernel probe above), local (this host;
                       a delegate whose link kind this kernel lacks gets "could not run" and is not
                       certified) or vm (the vm guest whatever this kernel has; profile spec only)
  --reports-dir DIR    where the certificate goes (default ./reports/certify)
  --name NAME          prefix of the network namespaces and names it creates, and the name of the
                       profile full cluster (work dir /var/tmp/multus-e2e/NAME) (default certify)
  -h, --help           this help
`;

export function parseCertifyCommand(argv: string[], cwd: string): CertifyCommand | { kind: 'help'; text: string } {
  const { values, positionals } = parseCommandArgs(argv, {
    delegate: { type: 'string', multiple: true }, config: { type: 'string', multiple: true }, 'ipam-only': { type: 'boolean' }, profile: { type: 'string' },
    provider: { type: 'string' }, 'reports-dir': { type: 'string' }, name: { type: 'string' }, plugin: { type: 'string' },
  }, CERTIFY_HELP);
  if (values.help) return { kind: 'help', text: CERTIFY_HELP };
  if (positionals.length > 0) throw new UsageError(`certify takes no arguments, got "${positionals.join(' ')}"`, CERTIFY_HELP);
  const delegates = (values.delegate as string[] | undefined) ?? [];
  const configs = (values.config as string[] | undefined) ?? [];
  if (delegates.length === 0) throw new UsageError('certify needs --delegate PATH (the plugin binary)', CERTIFY_HELP);
  if (configs.length === 0) throw new UsageError('certify needs --config FILE (the delegate\'s network config)', CERTIFY_HELP);
  if (delegates.length !== configs.length) throw new UsageError(`each --delegate needs its --config (paired in order): got ${delegates.length} --delegate and ${configs.length} --config`, CERTIFY_HELP);
  const profile = (values.profile as string | undefined) ?? 'spec';
  if (!(PROFILES as readonly string[]).includes(profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}, got "${profile}"`, CERTIFY_HELP);
  if (values.plugin !== undefined && profile !== 'full') throw new UsageError('--plugin is for --profile full (Part 1 calls the delegate without Multus)', CERTIFY_HELP);
  const provider = (values.provider as string | undefined) ?? 'auto';
  if (!(CERTIFY_PROVIDERS as readonly string[]).includes(provider)) throw new UsageError(`--provider must be one of ${CERTIFY_PROVIDERS.join(', ')}, got "${provider}"`, CERTIFY_HELP);
  if (provider === 'vm' && profile === 'full') throw new UsageError('--provider vm runs profile spec only (profile full\'s cluster runs on this host)', CERTIFY_HELP);
  if (delegates.length > 1 && profile === 'full') throw new UsageError('profile full certifies one delegate at a time (its cluster is named after --name)', CERTIFY_HELP);
  const name = (values.name as string | undefined) ?? 'certify';
  const reportsDir = path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? path.join('reports', 'certify'));
  const jobs = delegates.map((d, i): CertifyJob => {
    const delegate = existingFile('--delegate', d, cwd, CERTIFY_HELP);
    const several = delegates.length > 1;
    return {
      delegate, config: existingFile('--config', configs[i]!, cwd, CERTIFY_HELP),
      reportsDir: several ? path.join(reportsDir, path.basename(delegate)) : reportsDir,
      name: several ? `${name}-${i + 1}` : name,
    };
  });
  const dirs = jobs.map((j) => j.reportsDir);
  const twice = dirs.find((d, i) => dirs.indexOf(d) !== i);
  if (twice !== undefined) throw new UsageError(`two delegates have the file name ${path.basename(twice)}; their certificates would both go to ${twice}`, CERTIFY_HELP);
  // Namespace and container names derive from it; the longest is NAME-vN-long.
  for (const j of jobs) {
    if (!/^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$/.test(j.name)) throw new UsageError(`--name must be 1-30 lowercase letters, digits or '-'${jobs.length > 1 ? ' (with -N added per delegate)' : ''}, got "${j.name}"`, CERTIFY_HELP);
  }
  return {
    kind: 'certify',
    jobs,
    ipamOnly: values['ipam-only'] === true,
    profile: profile as Profile,
    provider: provider as CertifyProvider,
    plugin: parsePlugin(values.plugin as string | undefined, cwd, CERTIFY_HELP),
    workDir: defaultWorkDir(name),
    reportsDir,
    name,
  };
}
