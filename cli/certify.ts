// `multus-e2e certify`: prints the verdict and every requirement not met, writes the certificate, and exits
// 0 only when the delegate is certified.
import { certify } from '../certify/index.ts';
import { resultKey } from '../certify/results.ts';
import type { CertifyCommand } from './certify-args.ts';
import { ensurePlugin } from './plugin.ts';

export async function certifyCommand(cmd: CertifyCommand, progress: (line: string) => void): Promise<number> {
  if (cmd.profile === 'full') await ensurePlugin(cmd.plugin ?? { kind: 'bundled' }, progress);
  const { certificate, files } = await certify({ ...cmd, progress });
  const unmet = certificate.requirements.filter((r) => r.verdict === 'failed' || r.verdict === 'skipped');
  const lines = [
    certificate.verdictLine,
    ...unmet.map((r) => `  ${r.verdict === 'failed' ? 'FAILED' : 'COULD NOT RUN'} ${resultKey(r)} (${r.level}, ${r.spec} ${r.section}): expected ${r.expected}; seen ${r.seen}`),
    `certificate: ${files.html} (${files.json}, ${files.junit}, ${files.allure})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return certificate.verdict === 'CERTIFIED' ? 0 : 1;
}
