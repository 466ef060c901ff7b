import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_DIR_ENV, SUPPORT_BUNDLE, nodeScript } from '../local/node-script.ts';
import { CLI_BUNDLE, buildGuestBundle, supportModules } from './guest-bundle.ts';

const projectDir = resolve(import.meta.dirname, '..', '..');
const cucumberBin = join(projectDir, 'node_modules', '@cucumber', 'cucumber', 'bin', 'cucumber.js');

describe('guest bundle', () => {
  let dir: string;
  let reports: string;
  beforeAll(async () => {
    dir = await buildGuestBundle();
    reports = mkdtempSync(join(tmpdir(), 'me2e-bundle-'));
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (reports) rmSync(reports, { recursive: true, force: true });
  });

  it('takes every step file cucumber.mjs names, world and hooks first', async () => {
    const modules = await supportModules();
    expect(modules.slice(0, 3)).toEqual(['steps/world.ts', 'steps/parameters.ts', 'steps/hooks.ts']);
    const stepFiles = readdirSync(join(projectDir, 'steps')).filter((f) => f.endsWith('.steps.ts')).map((f) => `steps/${f}`);
    expect(stepFiles.length).toBeGreaterThan(0);
    expect(modules.slice(3).sort()).toEqual(stepFiles.sort());
  });

  it('runs the CLI without tsx', () => {
    const r = spawnSync(process.execPath, [join(dir, CLI_BUNDLE), '--help'], { cwd: projectDir, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/run +bring up a cluster, run the Gherkin suite/);
  }, 60_000);

  it('defines every step of every feature (cucumber-js dry run on the bundled support code)', () => {
    // progress prints the counts (summary is silent in a dry run); an unknown step would show as undefined.
    const r = spawnSync(process.execPath, [cucumberBin, '--config', 'cucumber.mjs', '--profile', 'bundled', '--import', join(dir, SUPPORT_BUNDLE), '--dry-run', '--format', 'progress'], {
      cwd: projectDir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, MULTUS_E2E_REPORTS_DIR: reports },
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/(\d+) scenarios \(\1 skipped\)\n(\d+) steps \(\2 skipped\)/);
    expect(r.stdout).not.toMatch(/undefined|ambiguous/);
  }, 120_000);

  it('starts the fabric listener and the cluster daemon from their bundles when asked to', () => {
    const previous = process.env[BUNDLE_DIR_ENV];
    process.env[BUNDLE_DIR_ENV] = dir;
    try {
      const listener = nodeScript(new URL('../local/fabric-listener.ts', import.meta.url));
      expect(listener).toEqual({ script: join(dir, 'fabric-listener.mjs'), execArgv: [] });
      expect(existsSync(nodeScript(new URL('../local/daemon.ts', import.meta.url)).script)).toBe(true);
      // Without an IPC channel the listener refuses with its usage line: it ran, from the bundle.
      const r = spawnSync(process.execPath, [...listener.execArgv, listener.script], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/usage .*fabric-listener/);
      expect(() => nodeScript(new URL('../local/no-such-entry.ts', import.meta.url))).toThrow(/has no no-such-entry\.mjs/);
    } finally {
      if (previous === undefined) delete process.env[BUNDLE_DIR_ENV];
      else process.env[BUNDLE_DIR_ENV] = previous;
    }
    expect(nodeScript(new URL('../local/daemon.ts', import.meta.url)).execArgv).toEqual(['--import', 'tsx']);
  });
});
