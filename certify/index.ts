// `multus-e2e certify`: certifies one CNI delegate and writes its certificate. Part 1 (profile spec) is the
// CNI spec on the delegate alone (spec-suite.ts).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCertificate, sha256File, writeCertificate, type Certificate, type WrittenCertificate } from './certificate.ts';
import { loadCertifyConfig } from './config.ts';
import { runSpecSuite } from './spec-suite.ts';

export type Profile = 'spec';
export const PROFILES: readonly Profile[] = ['spec'];

export interface CertifyOptions {
  delegate: string;
  config: string;
  ipamOnly: boolean;
  profile: Profile;
  reportsDir: string;
  name: string;
  progress: (line: string) => void;
}

const HARNESS_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function certify(opts: CertifyOptions): Promise<{ certificate: Certificate; files: WrittenCertificate }> {
  const config = loadCertifyConfig(opts.config, opts.delegate);
  const started = Date.now();
  opts.progress(`certify: ${opts.delegate} with ${opts.config} (profile ${opts.profile}${opts.ipamOnly ? ', IPAM only' : ''}) …`);
  const spec = await runSpecSuite({ delegate: opts.delegate, config, ipamOnly: opts.ipamOnly, name: opts.name, progress: opts.progress });
  const certificate = buildCertificate({
    profile: opts.profile,
    date: new Date().toISOString(),
    delegate: {
      name: path.basename(opts.delegate), path: opts.delegate, sha256: await sha256File(opts.delegate), type: String(config.template.type),
      ipamOnly: opts.ipamOnly, versionClaims: spec.claimed, config: opts.config, configSha256: await sha256File(opts.config),
    },
    harness: { name: 'multus-e2e', version: HARNESS_VERSION },
    environment: { kernel: os.release(), node: process.version, arch: process.arch },
    requirements: spec.results,
    residue: spec.residue,
  });
  const files = await writeCertificate(opts.reportsDir, certificate);
  opts.progress(`certify: ${spec.calls.length} delegate calls in ${((Date.now() - started) / 1000).toFixed(1)} s; ${files.html}`);
  return { certificate, files };
}
