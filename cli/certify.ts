// `multus-e2e certify`: decides where the certification runs (this host, or the vm guest when this kernel
// cannot create a link kind a delegate needs), prints each verdict and every requirement not met, and
// exits 0 only when every delegate is certified.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { certificateFiles, type Certificate, type WrittenCertificate } from '../certify/certificate.ts';
import { certify, kernelGapFor, type Profile } from '../certify/index.ts';
import { resultKey, type RequirementResult } from '../certify/results.ts';
import type { CertifyCommand, CertifyJob, CertifyProvider } from './certify-args.ts';
import { ensurePlugin } from './plugin.ts';

type Progress = (line: string) => void;
type Availability = { ok: true } | { ok: false; reason: string };

export type Placement = { where: 'local'; warning?: string } | { where: 'vm'; why: string } | { where: 'nowhere'; error: string };

export interface PlacementInput {
  provider: CertifyProvider;
  /** Profile full's cluster runs on this host only. */
  profile: Profile;
  /** Already inside the vm guest (it boots no other). */
  inVm: boolean;
  /** Per delegate whose type needs a link kind this kernel cannot create: why. */
  gaps: string[];
  /** Whether the vm guest can run here; asked only when the placement depends on it. */
  vm: () => Promise<Availability>;
}

/** Where certify runs: the kernel probe decides unless --provider does; a guest that cannot run is said, with why. */
export async function placeCertify(input: PlacementInput): Promise<Placement> {
  const gaps = input.gaps.join('; ');
  if (input.provider === 'vm') {
    if (input.inVm) return { where: 'nowhere', error: '--provider vm: already inside the vm guest, which boots no other' };
    const vm = await input.vm();
    return vm.ok ? { where: 'vm', why: '--provider vm' } : { where: 'nowhere', error: `--provider vm: the vm guest cannot run here: ${vm.reason}` };
  }
  if (input.gaps.length === 0) return { where: 'local' };
  if (input.provider === 'local' || input.inVm) {
    return {
      where: 'local',
      warning: `${gaps}: every requirement that makes an attachment will be "could not run", so it cannot be certified here${input.inVm ? '' : ' (without --provider local it is certified in the vm guest, whose kernel has them)'}`,
    };
  }
  if (input.profile === 'full') {
    return { where: 'nowhere', error: `${gaps}; profile full runs on this host only (its Part 2 cluster is not brought up in the vm guest): certify --profile spec, which goes to the vm guest, or profile full on a machine whose kernel has them` };
  }
  const vm = await input.vm();
  if (vm.ok) return { where: 'vm', why: gaps };
  return {
    where: 'nowhere',
    error: `${gaps}; the vm guest, whose kernel has them, cannot run here: ${vm.reason}. Nothing was certified (--provider local certifies on this host anyway, where those requirements could not run).`,
  };
}

/** The lines printed for one certificate: the verdict, each failure, could-not-run results grouped by their reason. */
export function certificateLines(certificate: Certificate, files: WrittenCertificate): string[] {
  const line = (r: RequirementResult) => `${r.verdict === 'failed' ? 'FAILED' : 'COULD NOT RUN'} ${resultKey(r)} (${r.level}, ${r.spec} ${r.section}): expected ${r.expected}; seen ${r.seen}`;
  const failed = certificate.requirements.filter((r) => r.verdict === 'failed');
  const byReason = new Map<string, RequirementResult[]>();
  for (const r of certificate.requirements.filter((x) => x.verdict === 'skipped')) byReason.set(r.seen, [...(byReason.get(r.seen) ?? []), r]);
  const skipped = [...byReason.entries()].map(([seen, rs]) => (rs.length === 1 ? line(rs[0]!)
    : `COULD NOT RUN ${rs.length} requirement results (${[...new Set(rs.map((r) => r.id))].join(', ')}): ${seen}`));
  return [
    `${certificate.delegate.name}: ${certificate.verdictLine} (kernel ${certificate.environment.kernel})`,
    ...[...failed.map(line), ...skipped].map((l) => `  ${l}`),
    `certificate: ${files.html} (${files.json}, ${files.junit}, ${files.allure})`,
  ];
}

/** The arguments that make the guest's CLI certify the same delegates into the same directories, there. */
export function guestCertifyArgs(cmd: CertifyCommand): string[] {
  return [
    'certify', '--provider', 'local', '--profile', cmd.profile, '--name', cmd.name, '--reports-dir', cmd.reportsDir,
    ...(cmd.ipamOnly ? ['--ipam-only'] : []), ...cmd.jobs.flatMap((j) => ['--delegate', j.delegate, '--config', j.config]),
  ];
}

/** The guest mounts tmpfs over /tmp and /run: delegates and configs there are shared from the host by their directory. */
export function guestShares(cmd: CertifyCommand): string[] {
  const hidden = (p: string) => /^\/(tmp|run)\//.test(p);
  const dirs = new Set(cmd.jobs.flatMap((j) => [j.delegate, j.config]).filter(hidden).map((p) => path.dirname(p)));
  for (const d of dirs) {
    if (d === '/tmp' || d === '/run') throw new Error(`certify in the vm guest: the guest has its own ${d}, so it cannot see files directly in it; put the delegate and config in a directory of their own`);
  }
  return [cmd.reportsDir, ...dirs];
}

async function certifyInVm(cmd: CertifyCommand, progress: Progress): Promise<Certificate[]> {
  const vm = await import('../clusters/vm/index.ts');
  // A certificate left by an earlier run must not pass for this one's.
  await Promise.all(cmd.jobs.map((j) => rm(certificateFiles(j.reportsDir).json, { force: true })));
  const { exitCode } = await vm.runCliInVm({
    cliArgs: guestCertifyArgs(cmd), writable: guestShares(cmd), progress, timeoutS: 3600,
    what: `certify for ${cmd.jobs.map((j) => path.basename(j.delegate)).join(', ')}`,
  });
  return Promise.all(cmd.jobs.map(async (j) => {
    const file = certificateFiles(j.reportsDir).json;
    const text = await readFile(file, 'utf8').catch(() => {
      throw new Error(`the vm guest wrote no certificate for ${j.delegate} (${file}; its certify exited ${exitCode}; its output is above)`);
    });
    return JSON.parse(text) as Certificate;
  }));
}

async function certifyHere(cmd: CertifyCommand, progress: Progress): Promise<Certificate[]> {
  if (cmd.profile === 'full') await ensurePlugin(cmd.plugin, progress);
  const run = (j: CertifyJob) => certify({ ...j, ipamOnly: cmd.ipamOnly, profile: cmd.profile, plugin: cmd.plugin, workDir: cmd.workDir, progress });
  return (await Promise.all(cmd.jobs.map(run))).map((r) => r.certificate);
}

export async function certifyCommand(cmd: CertifyCommand, progress: Progress): Promise<number> {
  const inVm = process.env.MULTUS_E2E_IN_VM === '1';
  // Each job probes in a namespace named after it, so the probes run side by side.
  const probed = cmd.provider === 'vm' ? [] : await Promise.all(cmd.jobs.map(async (j) => {
    const gap = await kernelGapFor({ ...j, ipamOnly: cmd.ipamOnly });
    return gap ? [`${path.basename(j.delegate)}: ${gap}`] : [];
  }));
  const gaps = probed.flat();
  const placement = await placeCertify({
    provider: cmd.provider, profile: cmd.profile, inVm, gaps, vm: async () => (await import('../clusters/vm/index.ts')).vmAvailability(),
  });
  if (placement.where === 'nowhere') throw new Error(`certify: ${placement.error}`);
  if (placement.where === 'local' && placement.warning) progress(`certify: ${placement.warning}`);
  if (placement.where === 'vm') progress(`certify: in the vm guest (${placement.why})`);
  const certificates = placement.where === 'vm' ? await certifyInVm(cmd, progress) : await certifyHere(cmd, progress);
  const lines = certificates.flatMap((c, i) => certificateLines(c, certificateFiles(cmd.jobs[i]!.reportsDir)));
  process.stdout.write(`${lines.join('\n')}\n`);
  return certificates.every((c) => c.verdict === 'CERTIFIED') ? 0 : 1;
}
