import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCodeCache, writeCodeCache } from './code-cache.ts';

describe('V8 code cache file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'me2ep-code-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const data = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));

  it('reads back what it wrote for the same bundle, from a file only root can read', () => {
    const file = join(dir, 'ok');
    writeCodeCache(file, 'bundle-a', data);
    expect(readCodeCache(file, 'bundle-a')).toEqual(data);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('reads a file made for another bundle, a corrupt, truncated, empty or missing one as no cache', () => {
    const file = join(dir, 'bad');
    writeCodeCache(file, 'bundle-a', data);
    expect(readCodeCache(file, 'bundle-b')).toBeUndefined();
    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[2000] = (flipped[2000] ?? 0) ^ 1;
    writeFileSync(file, flipped);
    expect(readCodeCache(file, 'bundle-a')).toBeUndefined();
    writeFileSync(file, bytes.subarray(0, bytes.length - 1));
    expect(readCodeCache(file, 'bundle-a')).toBeUndefined();
    writeFileSync(file, bytes.subarray(0, 32));
    expect(readCodeCache(file, 'bundle-a')).toBeUndefined();
    writeFileSync(file, '');
    expect(readCodeCache(file, 'bundle-a')).toBeUndefined();
    expect(readCodeCache(join(dir, 'none'), 'bundle-a')).toBeUndefined();
  });

  it('does not use a file another user owns or others may write, nor write through a planted temp file', () => {
    const file = join(dir, 'owner');
    writeCodeCache(file, 'bundle-a', data);
    chmodSync(file, 0o620);
    expect(readCodeCache(file, 'bundle-a')).toBeUndefined();
    chmodSync(file, 0o600);
    expect(readCodeCache(file, 'bundle-a')).toEqual(data);
    if (process.getuid?.() === 0) {
      chownSync(file, 65534, 65534);
      expect(readCodeCache(file, 'bundle-a')).toBeUndefined();
    }
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'unchanged');
    const target = join(dir, 'planted');
    symlinkSync(victim, `${target}.tmp-${process.pid}`);
    writeCodeCache(target, 'bundle-a', data);
    expect(readFileSync(victim, 'utf8')).toBe('unchanged');
    expect(readCodeCache(target, 'bundle-a')).toBeUndefined();
    expect(lstatSync(`${target}.tmp-${process.pid}`).isSymbolicLink()).toBe(true); // someone else's: left alone
  });

  it('writing into a directory that does not exist fails silently and creates nothing', () => {
    expect(() => writeCodeCache(join(dir, 'missing', 'cache'), 'bundle-a', data)).not.toThrow();
    expect(() => statSync(join(dir, 'missing'))).toThrow();
  });

  it('a write whose rename fails leaves no temp file behind', () => {
    const target = join(dir, 'occupied');
    mkdirSync(join(target, 'inside'), { recursive: true }); // rename(2) cannot replace a non-empty directory
    expect(() => writeCodeCache(target, 'bundle-a', data)).not.toThrow();
    expect(readdirSync(dir).filter((name) => name.startsWith('occupied.tmp-'))).toEqual([]);
  });
});
