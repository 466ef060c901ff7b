import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(path.join(dir, 'report'));
writeFileSync(path.join(dir, 'multus'), '');
writeFileSync(path.join(dir, 'settings.json'), '{}');

function usage(argv: string[]): string {
  try {
    parseCommand(argv, dir);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('repro, collect and cluster up node options on the command line', () => {
  it('parses a repro with two plugins, a scenario file and an expectation', () => {
    const cmd = parseCommand(['repro', 'report', '--plugin', 'thin:multus', '--plugin', 'bundled', '--to-feature', 'x.feature', '--expect', 'not-running:eth9', '--level', 'quality', '--nodes', '3'], dir);
    expect(cmd).toMatchObject({
      kind: 'repro', source: path.join(dir, 'report'), plugins: [{ kind: 'thin', path: path.join(dir, 'multus') }, { kind: 'bundled' }],
      toFeature: path.join(dir, 'x.feature'), expect: { running: false, names: 'eth9' }, level: 'quality', nodes: 3, keep: false, name: 'me2e-repro',
      reportsDir: path.join(dir, 'reports'),
    });
    expect(parseCommand(['repro', 'report', '--to-feature'], dir)).toMatchObject({ toFeature: true, plugins: [{ kind: 'bundled' }] });
  });

  it('refuses what repro cannot do, saying why', () => {
    expect(usage(['repro'])).toBe('repro needs exactly one DIR or FILE, got none');
    expect(usage(['repro', 'nope'])).toBe(`${path.join(dir, 'nope')} does not exist`);
    expect(usage(['repro', 'report', '--provider', 'kind'])).toBe('repro builds its clusters with --provider local, got "kind"');
    expect(usage(['repro', 'report', '--plugin', 'bundled', '--plugin', 'bundled', '--keep'])).toBe('--keep keeps one cluster; with two plugins run each on its own');
    expect(usage(['repro', 'report', '--expect', 'fails'])).toMatch(/^--expect must be running, not-running or not-running:TEXT/);
    expect(usage(['repro', 'report', '--level', 'extended'])).toBe('--level must be core, quality or extended:<feature>, got "extended"');
  });

  it('parses collect and cluster up\'s node options', () => {
    expect(parseCommand(['collect', '--name', 'bug1'], dir)).toMatchObject({ kind: 'collect', name: 'bug1', workDir: '/var/tmp/multus-e2e/bug1' });
    expect(parseCommand(['cluster', 'up', '--netdevsim-vfs', '4', '--multus-settings', 'settings.json', '--node-cni-dir', 'report'], dir)).toMatchObject({
      setup: { netdevsimVfs: 4, multusSettings: path.join(dir, 'settings.json'), nodeCniDir: path.join(dir, 'report') },
    });
    expect(usage(['cluster', 'up', '--netdevsim-vfs', '0'])).toBe('--netdevsim-vfs must be a whole number from 1 to 64, got "0"');
    expect(usage(['cluster', 'up', '--daemon-config', 'missing.json'])).toBe(`--daemon-config: ${path.join(dir, 'missing.json')} does not exist`);
  });
});
