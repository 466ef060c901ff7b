// The certification suite judged by its own fixtures (fixtures/delegates/certify): the sound veth delegate is
// certified, and each broken variant fails exactly the requirement it breaks, with every other applicable
// requirement passing. Needs root (network namespaces); skipped with the reason otherwise.
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { certify } from './index.ts';
import { netnsWithPrefix } from './kernel.ts';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');
const CONFIG = path.join(FIXTURES, 'certify', 'veth-delegate.json');
const root = process.getuid?.() === 0 && process.platform === 'linux';
const reports = mkdtempSync(path.join(os.tmpdir(), 'certify-fixtures-'));
afterAll(() => rmSync(reports, { recursive: true, force: true }));

/** Each broken fixture and the one requirement it must fail. */
const BROKEN: Record<string, string> = {
  'leaky-del': 'del.removes-everything',
  'wrong-shape': 'add.result-schema',
  'lying-addresses': 'add.result-true',
  'del-not-idempotent': 'del.idempotent',
  'ignores-ifname': 'add.ifname',
  'bad-error-json': 'error.well-formed',
};

async function certifyFixture(file: string, name: string) {
  const { certificate } = await certify({
    delegate: path.join(FIXTURES, 'delegates', 'certify', file), config: CONFIG, ipamOnly: false, profile: 'spec',
    reportsDir: path.join(reports, name), name, progress: () => undefined,
  });
  return certificate;
}

describe.skipIf(!root)('certifying the fixture delegates (needs root: network namespaces)', () => {
  it('certifies the sound delegate and fails each broken one on exactly its requirement', async () => {
    const [good, ...broken] = await Promise.all([
      certifyFixture('veth-delegate.mjs', 'ctest-good'),
      ...Object.keys(BROKEN).map((f, i) => certifyFixture(f, `ctest-b${i}`)),
    ]);
    expect(good!.requirements.filter((r) => r.verdict !== 'passed' && r.verdict !== 'not-applicable').map((r) => `${r.id}: ${r.seen}`)).toEqual([]);
    expect(good!.verdict).toBe('CERTIFIED');
    expect(good!.delegate.versionClaims).toEqual(['1.0.0', '1.1.0']);
    Object.values(BROKEN).forEach((id, i) => {
      const c = broken[i]!;
      const failed = [...new Set(c.requirements.filter((r) => r.verdict === 'failed').map((r) => r.id))];
      expect({ fixture: Object.keys(BROKEN)[i], failed, skipped: c.requirements.filter((r) => r.verdict === 'skipped').map((r) => r.id) })
        .toEqual({ fixture: Object.keys(BROKEN)[i], failed: [id], skipped: [] });
      expect(c.verdict).toBe('NOT CERTIFIED');
    });
    expect(await netnsWithPrefix('ctest-')).toEqual([]);
  }, 900_000);
});
