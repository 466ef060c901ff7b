// Test support: puts stand-ins for kind, docker, kubectl, ip, crictl and iptables (bash scripts in testdata/standins that
// record their argv and print canned output) alone on a PATH, and reads back what they recorded.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_DIR = fileURLToPath(new URL('./testdata/standins/', import.meta.url));

export interface StandIns {
  /** Scratch directory: the stand-ins' state, and a place for test files. */
  dir: string;
  /** Environment whose PATH holds only the stand-ins (no real docker/kind/kubectl can be reached). */
  env: NodeJS.ProcessEnv;
  /** Every recorded call as [tool, ...argv], in order. */
  calls(): string[][];
  /** Recorded calls as one "tool arg arg" string each, for readable assertions. */
  lines(): string[];
  /** What `docker exec -i` calls received on stdin. */
  stdin(): string;
  cleanup(): void;
}

type Tool = 'kind' | 'docker' | 'kubectl' | 'ip' | 'crictl' | 'iptables';

/** sources picks another script for a tool (e.g. docker → docker-netns). */
export function makeStandIns(tools: Tool[], vars: Record<string, string> = {}, sources: Partial<Record<Tool, string>> = {}): StandIns {
  const dir = mkdtempSync(join(tmpdir(), 'me2e-kind-standins-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  copyFileSync(join(SOURCE_DIR, '_record.sh'), join(bin, '_record.sh'));
  for (const tool of tools) {
    copyFileSync(join(SOURCE_DIR, sources[tool] ?? tool), join(bin, tool));
    chmodSync(join(bin, tool), 0o755);
  }
  const read = (name: string): string => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '');
  const calls = (): string[][] => read('calls').split('\n').filter(Boolean).map((l) => l.split('\t'));
  return {
    dir,
    env: { PATH: bin, STANDIN_DIR: dir, HOME: dir, ...vars },
    calls,
    lines: () => calls().map((c) => c.join(' ')),
    stdin: () => read('stdin'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
