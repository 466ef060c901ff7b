import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandFailedError, findOnPath, zxRunner } from './tools.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('tool runner', () => {
  it('returns exit code and output, feeds stdin, and quotes argv (no shell interpretation)', async () => {
    const run = zxRunner();
    const echoed = await run.run('cat', [], { input: 'hello $HOME `x`\n' });
    expect(echoed).toEqual({ code: 0, stdout: 'hello $HOME `x`\n', stderr: '' });
    const printed = await run.run('printf', ['%s|', 'a b', '$(id)', "it's"]);
    expect(printed.stdout).toBe("a b|$(id)|it's|");
  });

  it('throws CommandFailedError naming the command, its exit code and stderr, unless allowFail', async () => {
    const run = zxRunner();
    const failing = run.run('sh', ['-c', 'echo out; echo "it broke" >&2; exit 3']);
    await expect(failing).rejects.toBeInstanceOf(CommandFailedError);
    await expect(failing).rejects.toThrow('sh -c echo out; echo "it broke" >&2; exit 3 exited with 3:\nit broke');
    expect(await run.run('sh', ['-c', 'exit 4'], { allowFail: true })).toMatchObject({ code: 4 });
  });

  it('finds executables on the given PATH only', () => {
    dir = mkdtempSync(join(tmpdir(), 'me2e-kind-path-'));
    writeFileSync(join(dir, 'kind'), '#!/bin/sh\n');
    chmodSync(join(dir, 'kind'), 0o755);
    writeFileSync(join(dir, 'docker'), 'not executable');
    expect(findOnPath('kind', { PATH: `/nonexistent:${dir}` })).toBe(join(dir, 'kind'));
    expect(findOnPath('docker', { PATH: dir })).toBeUndefined();
    expect(findOnPath('kind', {})).toBeUndefined();
  });
});
