// Command-line parsing of `certify`, on top of args.ts's helpers.
import path from 'node:path';
import { PROFILES, type CertifyOptions, type Profile } from '../certify/index.ts';
import { UsageError, defaultWorkDir, existingFile, parseCommandArgs, parsePlugin } from './args.ts';

/** What certify() takes, less the progress sink the CLI supplies. */
export interface CertifyCommand extends Omit<CertifyOptions, 'progress'> {
  kind: 'certify';
}

export const CERTIFY_HELP = `Usage: multus-e2e certify --delegate PATH --config FILE [options]

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

Options:
  --delegate PATH      the plugin binary
  --config FILE        its network config with placeholders
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
  --reports-dir DIR    where the certificate goes (default ./reports/certify)
  --name NAME          prefix of the network namespaces and names it creates, and the name of the
                       profile full cluster (work dir /var/tmp/multus-e2e/NAME) (default certify)
  -h, --help           this help
`;

export function parseCertifyCommand(argv: string[], cwd: string): CertifyCommand | { kind: 'help'; text: string } {
  const { values, positionals } = parseCommandArgs(argv, {
    delegate: { type: 'string' }, config: { type: 'string' }, 'ipam-only': { type: 'boolean' }, profile: { type: 'string' },
    'reports-dir': { type: 'string' }, name: { type: 'string' }, plugin: { type: 'string' },
  }, CERTIFY_HELP);
  if (values.help) return { kind: 'help', text: CERTIFY_HELP };
  if (positionals.length > 0) throw new UsageError(`certify takes no arguments, got "${positionals.join(' ')}"`, CERTIFY_HELP);
  const delegate = values.delegate as string | undefined;
  const config = values.config as string | undefined;
  if (delegate === undefined) throw new UsageError('certify needs --delegate PATH (the plugin binary)', CERTIFY_HELP);
  if (config === undefined) throw new UsageError('certify needs --config FILE (the delegate\'s network config)', CERTIFY_HELP);
  const profile = (values.profile as string | undefined) ?? 'spec';
  if (!(PROFILES as readonly string[]).includes(profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}, got "${profile}"`, CERTIFY_HELP);
  if (values.plugin !== undefined && profile !== 'full') throw new UsageError('--plugin is for --profile full (Part 1 calls the delegate without Multus)', CERTIFY_HELP);
  const name = (values.name as string | undefined) ?? 'certify';
  // Namespace and container names derive from it; the longest is NAME-vN-long.
  if (!/^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$/.test(name)) throw new UsageError(`--name must be 1-30 lowercase letters, digits or '-', got "${name}"`, CERTIFY_HELP);
  return {
    kind: 'certify',
    delegate: existingFile('--delegate', delegate, cwd, CERTIFY_HELP),
    config: existingFile('--config', config, cwd, CERTIFY_HELP),
    ipamOnly: values['ipam-only'] === true,
    profile: profile as Profile,
    reportsDir: path.resolve(cwd, (values['reports-dir'] as string | undefined) ?? path.join('reports', 'certify')),
    name,
    plugin: parsePlugin(values.plugin as string | undefined, cwd, CERTIFY_HELP),
    workDir: defaultWorkDir(name),
  };
}
