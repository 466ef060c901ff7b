import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Logger } from './log.ts';

describe('JSON-lines log', () => {
  let dir: string;
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('filters by level, always writes timing lines, and carries bound fields', () => {
    dir = mkdtempSync(join(tmpdir(), 'me2ep-log-'));
    const file = join(dir, 'sub', 'multus.log');
    const log = new Logger({ logFile: file, logLevel: 'error', logToStderr: false }, { verb: 'ADD', containerId: 'c1', pod: 'ns/p' });
    log.verbose('hidden');
    log.debug('hidden too');
    log.error('shown', { detail: 1 });
    log.timing('delegate', { network: 'ns/n', ms: 1.5 }, true);
    log.timing('call', { ms: 9, ok: false }, false);
    log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([
      ['error', 'shown'],
      ['verbose', 'delegate'],
      ['error', 'call'],
    ]);
    for (const l of lines) expect(l).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), verb: 'ADD', containerId: 'c1', pod: 'ns/p' });
    expect(lines[0]).toMatchObject({ detail: 1 });
  });

  it('writes to stderr with logToStderr and nowhere without a destination', () => {
    dir = mkdtempSync(join(tmpdir(), 'me2ep-log-'));
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    new Logger({ logLevel: 'debug', logToStderr: true }).debug('to stderr');
    new Logger({ logLevel: 'debug', logToStderr: false }).error('dropped');
    expect(writes).toHaveLength(1);
    expect(JSON.parse(writes[0] ?? '')).toMatchObject({ level: 'debug', msg: 'to stderr' });
  });

  it('children share the file, add their fields, and only the owner closes it', () => {
    dir = mkdtempSync(join(tmpdir(), 'me2ep-log-'));
    const file = join(dir, 'daemon.log');
    const root = new Logger({ logFile: file, logLevel: 'verbose', logToStderr: false }, { component: 'daemon' });
    const a = root.child({ containerId: 'a' });
    const b = root.child({ containerId: 'b' });
    a.verbose('from a');
    a.close();
    b.verbose('from b after a closed');
    root.close();
    root.verbose('after the owner closed: dropped');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['msg'], l['component'], l['containerId']])).toEqual([
      ['from a', 'daemon', 'a'],
      ['from b after a closed', 'daemon', 'b'],
    ]);
  });
});
