// npm run bench:plugin — cold-start cost of the bundled plugin next to a bare `node -e 0`:
// VERSION, and ADD/DEL with a trivial delegate (a 3-line sh script written here) and no API; the
// delegate's own cost is measured too, so the plugin's share of ADD/DEL can be read off.
// Target: VERSION under 1.3× a bare Node start. Runs are interleaved so machine noise hits both.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const PLUGIN = join(ROOT, 'plugin/dist/multus');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
const TARGET = 1.3;

if (!existsSync(PLUGIN)) {
  console.error(`${PLUGIN} is missing: run npm run build first`);
  process.exit(2);
}

function timeOnce(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { input, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return ms;
}

function stats(xs: number[]): { median: number; p90: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return { median: at(0.5), p90: at(0.9), min: s[0] as number };
}

const dir = mkdtempSync(join(tmpdir(), 'me2ep-bench-'));
try {
  const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  const delegates = join(dir, 'bin');
  const trivial = join(delegates, 'trivial');
  mkdirSync(delegates);
  writeFileSync(trivial, '#!/bin/sh\ncat >/dev/null\n[ "$CNI_COMMAND" = ADD ] && echo \'{"cniVersion":"1.0.0","dns":{}}\'\nexit 0\n');
  chmodSync(trivial, 0o755);
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'bench',
    type: 'multus',
    cniDir: join(dir, 'cache'),
    binDir: delegates,
    delegates: [{ cniVersion: '1.0.0', name: 'trivial', type: 'trivial' }],
  });
  const cni = { ...base, CNI_CONTAINERID: 'bench', CNI_NETNS: '/var/run/netns/me2ep-bench-none', CNI_IFNAME: 'eth0', CNI_PATH: delegates };
  const samples = { bare: [] as number[], version: [] as number[], add: [] as number[], del: [] as number[], delegate: [] as number[] };
  // one warm-up round so the page cache holds node and the bundle
  timeOnce(process.execPath, ['-e', '0'], '', base);
  timeOnce(PLUGIN, [], '{"cniVersion":"1.0.0"}', { ...base, CNI_COMMAND: 'VERSION' });
  for (let i = 0; i < RUNS; i++) {
    samples.bare.push(timeOnce(process.execPath, ['-e', '0'], '', base));
    samples.version.push(timeOnce(PLUGIN, [], '{"cniVersion":"1.0.0"}', { ...base, CNI_COMMAND: 'VERSION' }));
    samples.add.push(timeOnce(PLUGIN, [], conf, { ...cni, CNI_COMMAND: 'ADD' }));
    samples.del.push(timeOnce(PLUGIN, [], conf, { ...cni, CNI_COMMAND: 'DEL' }));
    samples.delegate.push(timeOnce(trivial, [], '{}', { ...cni, CNI_COMMAND: 'ADD' }));
  }
  const bare = stats(samples.bare);
  const rows = [
    ['node -e 0', bare],
    ['multus VERSION', stats(samples.version)],
    ['multus ADD (trivial delegate, no API)', stats(samples.add)],
    ['multus DEL (trivial delegate, no API)', stats(samples.del)],
    ['  the trivial delegate alone', stats(samples.delegate)],
  ] as const;
  console.log(`cold start, ${RUNS} runs each, node ${process.version}, ${PLUGIN}`);
  console.log(`${'call'.padEnd(40)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'min ms'.padStart(8)} ${'× node'.padStart(7)}`);
  for (const [name, s] of rows) {
    console.log(`${name.padEnd(40)} ${s.median.toFixed(1).padStart(10)} ${s.p90.toFixed(1).padStart(8)} ${s.min.toFixed(1).padStart(8)} ${(s.median / bare.median).toFixed(2).padStart(7)}`);
  }
  const ratio = stats(samples.version).median / bare.median;
  console.log(`VERSION / bare node = ${ratio.toFixed(2)} (target < ${TARGET}): ${ratio < TARGET ? 'met' : 'MISSED'}`);
  process.exitCode = ratio < TARGET ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
