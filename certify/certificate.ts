// The certificate a vendor publishes, modelled on the conformance reports Gateway API implementations
// publish: who was tested (delegate name, sha256, version claims), by what (harness version, kernel),
// under which profile, and every requirement with its spec section, level, verdict and evidence.
// Written as certificate.json (for machines), certificate.html (one page for people: verdict first, then
// every requirement that was not met with what was expected and what was seen), junit.xml and Allure
// results (for CI systems, following the verdict: a requirement that could not run is a failure there).
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { xml } from '../reports/junit.ts';
import { certified, resultKey, tally, verdictLine, type RequirementResult, type Tally } from './results.ts';

export interface Certificate {
  verdict: 'CERTIFIED' | 'NOT CERTIFIED';
  verdictLine: string;
  profile: string;
  date: string;
  delegate: { name: string; path: string; sha256: string; type: string; ipamOnly: boolean; versionClaims: string[]; config: string; configSha256: string };
  harness: { name: string; version: string };
  environment: { kernel: string; node: string; arch: string };
  summary: Tally;
  requirements: RequirementResult[];
  /** Per CNI version: host-side state still there after the last DEL (shared state such as a bridge); not judged. */
  residue: Record<string, string[]>;
  /** Part 2 (profile full): the Multus plugin the delegate ran under, and on which provider. */
  multus?: { plugin: string; provider: string };
  /** Part 2 (profile full): the delegate's ADD/DEL latency as a Multus delegate, from the CNI call records. */
  latency?: Record<string, { n: number; p50: number; p95: number }>;
}

export const sha256File = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

export function buildCertificate(fields: Omit<Certificate, 'verdict' | 'verdictLine' | 'summary'>): Certificate {
  return {
    verdict: certified(fields.requirements) ? 'CERTIFIED' : 'NOT CERTIFIED',
    verdictLine: verdictLine(fields.requirements, fields.profile),
    summary: tally(fields.requirements),
    ...fields,
  };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function requirementBlock(r: RequirementResult): string {
  return `<section class="req ${r.verdict}">
  <h3><code>${esc(resultKey(r))}</code> — ${esc(r.title)}</h3>
  <p class="meta">${esc(r.level)} · ${esc(r.spec)} ${esc(r.section)}${r.cniVersion ? ` · judged at CNI ${esc(r.cniVersion)}` : ''} · <b>${esc(r.verdict === 'skipped' ? 'could not run' : r.verdict)}</b></p>
  <dl><dt>Expected</dt><dd>${esc(r.expected)}</dd><dt>Seen</dt><dd>${esc(r.seen)}</dd></dl>
  ${r.evidence.length > 0 ? `<details><summary>Evidence (${r.evidence.length})</summary><ul>${r.evidence.map((e) => `<li><code>${esc(e)}</code></li>`).join('')}</ul></details>` : ''}
</section>`;
}

export function renderCertificateHtml(c: Certificate): string {
  const unmet = c.requirements.filter((r) => r.verdict === 'failed' || r.verdict === 'skipped');
  const rows = c.requirements.map((r) => `<tr class="${r.verdict}"><td><code>${esc(resultKey(r))}</code></td><td>${esc(r.level)}</td><td>${esc(r.spec)} ${esc(r.section)}</td><td>${esc(r.verdict === 'skipped' ? 'could not run' : r.verdict)}</td><td>${esc(r.seen.slice(0, 160))}</td></tr>`).join('\n');
  const residue = Object.entries(c.residue).filter(([, items]) => items.length > 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CNI delegate certificate: ${esc(c.delegate.name)} — ${esc(c.verdict)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222;padding:0 1em}
.banner{padding:1em 1.5em;border-radius:8px;color:#fff;font-size:1.4em;font-weight:600}
.banner.yes{background:#1b7f3b}.banner.no{background:#b3261e}
.banner small{display:block;font-size:.6em;font-weight:400}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
tr.failed td:nth-child(4){color:#b3261e;font-weight:600}tr.skipped td:nth-child(4){color:#a15c00;font-weight:600}tr.passed td:nth-child(4){color:#1b7f3b}
tr.not-applicable{color:#888}
.req{border-left:5px solid #b3261e;padding:.2em 1em;margin:1em 0;background:#fdf3f2}.req.skipped{border-color:#a15c00;background:#fdf7ee}
.meta{color:#555;margin:.2em 0}dt{font-weight:600}dd{margin:0 0 .4em 1em;white-space:pre-wrap}
code{font-size:.92em}dl.id dt{float:left;clear:left;width:11em}dl.id dd{margin-left:12em}
</style></head><body>
<div class="banner ${c.verdict === 'CERTIFIED' ? 'yes' : 'no'}">${esc(c.verdict)}: ${esc(c.delegate.name)}<small>${esc(c.verdictLine)}</small></div>
<h2>What was certified</h2>
<dl class="id">
<dt>Delegate</dt><dd><code>${esc(c.delegate.path)}</code> (type <code>${esc(c.delegate.type)}</code>${c.delegate.ipamOnly ? ', as an IPAM plugin' : ''})</dd>
<dt>sha256</dt><dd><code>${esc(c.delegate.sha256)}</code></dd>
<dt>Claims (VERSION)</dt><dd>${esc(c.delegate.versionClaims.join(', ') || 'none')}</dd>
<dt>Config</dt><dd><code>${esc(c.delegate.config)}</code> (sha256 <code>${esc(c.delegate.configSha256.slice(0, 16))}…</code>)</dd>
<dt>Profile</dt><dd>${esc(c.profile)}${c.multus ? ` (Part 2 under the ${esc(c.multus.plugin)} Multus plugin, ${esc(c.multus.provider)} provider)` : ''}</dd>
<dt>Harness</dt><dd>${esc(c.harness.name)} ${esc(c.harness.version)}; kernel ${esc(c.environment.kernel)}; Node.js ${esc(c.environment.node)} ${esc(c.environment.arch)}; ${esc(c.date)}</dd>
</dl>
<h2>Requirements not met (${unmet.length})</h2>
${unmet.length === 0 ? '<p>None: every applicable requirement ran and passed.</p>' : unmet.map(requirementBlock).join('\n')}
${c.latency ? `<h2>Latency as a Multus delegate</h2><p>The delegate's own time per attachment, from the CNI call records of the pods' ADD and DEL.</p><table><tr><th>op</th><th>n</th><th>p50 ms</th><th>p95 ms</th></tr>${Object.entries(c.latency).map(([op, l]) => `<tr><td>${esc(op)}</td><td>${l.n}</td><td>${l.p50}</td><td>${l.p95}</td></tr>`).join('')}</table>` : ''}
<h2>Every requirement</h2>
<p>Certified means: every applicable requirement ran and passed. A requirement that could not run (for example because this kernel lacks a link type) is not met. Not applicable: the delegate does not claim what it tests.</p>
<table><tr><th>requirement</th><th>level</th><th>section</th><th>verdict</th><th>seen</th></tr>
${rows}
</table>
${residue.length > 0 ? `<h2>Shared state left after the last DEL (not judged)</h2><ul>${residue.map(([v, items]) => `<li>CNI ${esc(v)}: ${esc(items.join('; '))}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}

export function renderCertificateJunit(c: Certificate): string {
  const cases = c.requirements.map((r) => {
    const body = r.verdict === 'failed'
      ? `<failure type="requirement" message="${xml(r.seen.slice(0, 300))}">${xml(`expected: ${r.expected}\nseen: ${r.seen}\n${r.evidence.join('\n')}`)}</failure>`
      : r.verdict === 'skipped'
        ? `<failure type="could-not-run" message="${xml(r.seen.slice(0, 300))}">${xml('a requirement that could not run is not met')}</failure>`
        : r.verdict === 'not-applicable' ? `<skipped type="not-applicable" message="${xml(r.expected)}"/>` : '';
    return `    <testcase classname="${xml(`certify.${r.level}`)}" name="${xml(`${resultKey(r)}: ${r.title}`)}" time="${r.seconds}">${body}</testcase>`;
  });
  const failures = c.summary.failed + c.summary.skipped;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="multus-e2e certify" tests="${cases.length}" failures="${failures}" skipped="${c.summary.notApplicable}" errors="0">\n` +
    `  <testsuite name="${xml(`certify ${c.delegate.name} (${c.profile})`)}" tests="${cases.length}" failures="${failures}" skipped="${c.summary.notApplicable}" errors="0">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** One Allure result per requirement; epic = level, feature = requirement id, as the suite's own results are grouped. */
async function writeAllureResults(dir: string, c: Certificate): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const now = Date.now();
  for (const r of c.requirements) {
    const status = r.verdict === 'passed' ? 'passed' : r.verdict === 'failed' || r.verdict === 'skipped' ? 'failed' : 'skipped';
    const uuid = randomUUID();
    await writeFile(path.join(dir, `${uuid}-result.json`), JSON.stringify({
      uuid, historyId: createHash('md5').update(`certify ${c.delegate.name} ${resultKey(r)}`).digest('hex'),
      name: `${resultKey(r)}: ${r.title}`, fullName: `certify ${c.delegate.name} ${resultKey(r)}`, status, stage: 'finished', start: now, stop: now + Math.round(r.seconds * 1000),
      statusDetails: { message: r.verdict === 'passed' ? '' : `${r.verdict === 'skipped' ? 'could not run: ' : ''}expected ${r.expected}; seen ${r.seen}`, trace: r.evidence.join('\n') },
      labels: [{ name: 'epic', value: r.level }, { name: 'parentSuite', value: `certify ${c.delegate.name}` }, { name: 'feature', value: r.id },
        { name: 'tag', value: c.profile }, ...(r.cniVersion ? [{ name: 'story', value: `CNI ${r.cniVersion}` }] : [])],
      links: [], parameters: [], steps: [], attachments: [],
    }));
  }
}

export interface WrittenCertificate {
  json: string;
  html: string;
  junit: string;
  allure: string;
}

/** Where writeCertificate puts each file under dir. */
export function certificateFiles(dir: string): WrittenCertificate {
  return { json: path.join(dir, 'certificate.json'), html: path.join(dir, 'certificate.html'), junit: path.join(dir, 'junit.xml'), allure: path.join(dir, 'allure-results') };
}

export async function writeCertificate(dir: string, c: Certificate): Promise<WrittenCertificate> {
  await mkdir(dir, { recursive: true });
  const out = certificateFiles(dir);
  await writeFile(out.json, `${JSON.stringify(c, null, 2)}\n`);
  await writeFile(out.html, renderCertificateHtml(c));
  await writeFile(out.junit, renderCertificateJunit(c));
  await writeAllureResults(out.allure, c);
  return out;
}
