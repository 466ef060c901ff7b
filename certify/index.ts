// `multus-e2e certify`: certifies one CNI delegate and writes its certificate. Part 1 (profile spec) is the
// CNI spec on the delegate alone (spec-suite.ts); profile full adds Part 2, the delegate as a Multus
// delegate on a local cluster (multus-suite.ts). The parts share nothing (Part 1's namespaces are named
// after --name, the cluster's after a hash of it), so they run side by side.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCertificate, sha256File, writeCertificate, type Certificate, type WrittenCertificate } from './certificate.ts';
import { loadCertifyConfig } from './config.ts';
import { runMultusSuite } from './multus-suite.ts';
import { kernelGap, runSpecSuite } from './spec-suite.ts';
import { pluginArgument, type PluginUnderTest } from '../clusters/provider.ts';

export type Profile = 'spec' | 'full';
export const PROFILES: readonly Profile[] = ['spec', 'full'];

export interface CertifyOptions {
  delegate: string;
  config: string;
  ipamOnly: boolean;
  profile: Profile;
  reportsDir: string;
  name: string;
  /** Profile full: the Multus plugin the delegate runs under (default bundled), and the cluster's work dir (required). */
  plugin?: PluginUnderTest;
  workDir?: string;
  progress: (line: string) => void;
}

/**
 * Why this machine's kernel cannot run the delegate's type (a link kind it cannot create, probed in a
 * namespace named NAME-probe), or undefined when it can, the type needs nothing known or it is an IPAM plugin.
 */
export async function kernelGapFor(opts: Pick<CertifyOptions, 'delegate' | 'config' | 'ipamOnly' | 'name'>): Promise<string | undefined> {
  if (opts.ipamOnly) return undefined;
  return kernelGap(String(loadCertifyConfig(opts.config, opts.delegate).template.type), `${opts.name}-probe`);
}

const HARNESS_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function certify(opts: CertifyOptions): Promise<{ certificate: Certificate; files: WrittenCertificate }> {
  const config = loadCertifyConfig(opts.config, opts.delegate);
  const started = Date.now();
  const plugin: PluginUnderTest = opts.plugin ?? { kind: 'bundled' };
  if (opts.profile === 'full' && opts.workDir === undefined) throw new Error('certify: profile full needs a work dir for its cluster');
  opts.progress(`certify: ${opts.delegate} with ${opts.config} (profile ${opts.profile}${opts.ipamOnly ? ', IPAM only' : ''}) …`);
  const [spec, multus] = await Promise.all([
    runSpecSuite({ delegate: opts.delegate, config, ipamOnly: opts.ipamOnly, name: opts.name, progress: opts.progress }),
    opts.profile === 'full'
      ? runMultusSuite({ delegate: opts.delegate, config, ipamOnly: opts.ipamOnly, name: opts.name, plugin, workDir: opts.workDir!, progress: opts.progress })
      : undefined,
  ]);
  const certificate = buildCertificate({
    profile: opts.profile,
    date: new Date().toISOString(),
    delegate: {
      name: path.basename(opts.delegate), path: opts.delegate, sha256: await sha256File(opts.delegate), type: String(config.template.type),
      ipamOnly: opts.ipamOnly, versionClaims: spec.claimed, config: opts.config, configSha256: await sha256File(opts.config),
    },
    harness: { name: 'multus-e2e', version: HARNESS_VERSION },
    environment: { kernel: os.release(), node: process.version, arch: process.arch },
    requirements: [...spec.results, ...(multus?.results ?? [])],
    residue: spec.residue,
    ...(multus ? { multus: { plugin: pluginArgument(plugin), provider: 'local' } } : {}),
    ...(multus?.latency ? { latency: multus.latency } : {}),
  });
  const files = await writeCertificate(opts.reportsDir, certificate);
  opts.progress(`certify: ${spec.calls.length} delegate calls${multus ? ` and ${multus.calls.length} CNI calls through Multus` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${files.html}`);
  return { certificate, files };
}
