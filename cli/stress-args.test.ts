import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.ts';
import { BUNDLED_DAEMON, BUNDLED_SHIM } from './paths.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'stress-args-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const base = ['stress', '--pods', '100', '--networks', '3', '--waves', '5', '--parallel', '10'];

/** The message of the UsageError argv raises. */
function usageError(argv: string[]): string {
  try {
    parseCommand(argv, '/home/u/proj');
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).help).toContain('Usage: multus-e2e stress');
    return (err as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('parseCommand stress', () => {
  it('takes the plan and gives everything else its defaults', () => {
    expect(parseCommand(base, '/home/u/proj')).toEqual({
      kind: 'stress', pods: 100, networks: 3, waves: 5, parallel: 10, plugin: { kind: 'bundled' }, multusConfig: 'delegates', nodes: 2,
      name: 'me2e-stress', workDir: '/var/tmp/multus-e2e/me2e-stress', reportsDir: '/home/u/proj/reports/stress',
    });
  });

  it('takes --plugin as run does, and the cluster options', () => {
    const shim = path.join(scratch, 'multus-shim');
    const daemon = path.join(scratch, 'multus-daemon');
    writeFileSync(shim, '');
    writeFileSync(daemon, '');
    expect(parseCommand([...base, '--plugin', `thick:${shim},${daemon}`, '--name', 'hs-1', '--reports-dir', 'r', '--nodes', '3'], '/p')).toMatchObject({
      plugin: { kind: 'thick', shim, daemon }, name: 'hs-1', workDir: '/var/tmp/multus-e2e/hs-1', reportsDir: '/p/r', nodes: 3,
    });
    expect(parseCommand([...base, '--plugin', 'bundled-thick'], '/p')).toMatchObject({ plugin: { kind: 'thick', shim: BUNDLED_SHIM, daemon: BUNDLED_DAEMON } });
    expect(parseCommand([...base, '--plugin', `thin:${shim}`, '--multus-config', 'cluster-network-file'], '/p')).toMatchObject({
      plugin: { kind: 'thin', path: shim }, multusConfig: 'cluster-network-file',
    });
    expect(parseCommand(['stress', '--help'])).toMatchObject({ kind: 'help' });
  });

  it('names the flag of a missing or bad number', () => {
    expect(usageError(['stress', '--networks', '3', '--waves', '5', '--parallel', '10'])).toBe('--pods is required (pods per wave, at most 200 per node, 1 to 400)');
    expect(usageError([...base, '--pods', 'ten'])).toBe('--pods must be a whole number from 1 to 400 (pods per wave, at most 200 per node), got "ten"');
    expect(usageError([...base, '--pods', '401'])).toContain('--pods must be a whole number from 1 to 400');
    expect(usageError([...base, '--nodes', '3', '--pods', '601'])).toContain('--pods must be a whole number from 1 to 600');
    expect(usageError([...base, '--networks', '0'])).toBe('--networks must be a whole number from 1 to 8 (secondary networks per pod), got "0"');
    expect(usageError([...base, '--networks', '9'])).toContain('--networks must be a whole number from 1 to 8');
    expect(usageError([...base, '--waves', '2.5'])).toBe('--waves must be a whole number from 1 to 100 (waves), got "2.5"');
    expect(usageError([...base, '--waves', ''])).toContain('--waves must be a whole number');
    expect(usageError([...base, '--parallel', '101'])).toBe('--parallel must be a whole number from 1 to 100 (pods at a time, at most --pods), got "101"');
  });

  it('names the flag of other bad options', () => {
    expect(usageError([...base, '--plugin', 'thin:/nonexistent/multus'])).toBe('--plugin: /nonexistent/multus does not exist');
    expect(usageError([...base, '--multus-config', 'inline'])).toContain('--multus-config must be one of');
    expect(usageError([...base, '--nodes', '0'])).toContain('--nodes must be a whole number from 1 to 16');
    expect(usageError([...base, '--name', 'Bad_Name'])).toContain('--name must be');
    expect(usageError([...base, '--tags', '@x'])).toContain("Unknown option '--tags'");
    expect(usageError([...base, 'extra'])).toBe('stress takes no arguments, got "extra"');
  });
});
