// One real repro on the local provider (root only): a pod on two macvlan networks plus a Secret and a
// ConfigMap, kept so that `collect` makes a second bundle from the same cluster; both bundles are unpacked
// and grepped for every credential the cluster and the repro hold.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localProvider } from '../clusters/local/index.ts';
import { collectCommand, reproCommand, type ReproHooks } from './command.ts';
import type { PodObservation } from './observe.ts';

const root = process.getuid?.() === 0 && process.platform === 'linux';
const NAME = 'me2e-repro-it';
const WORK_DIR = `/var/tmp/multus-e2e-test/${NAME}`;
const SECRET_VALUE = 'hunter2-repro-secret';
const PACKAGE_ROOT = path.resolve(import.meta.dirname, '..');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'repro-it-'));
afterAll(async () => {
  await localProvider.destroy(NAME, WORK_DIR).catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

function unpack(bundle: string): string {
  const dir = mkdtempSync(path.join(tmp, 'unpacked-'));
  execFileSync('tar', ['-xzf', bundle, '-C', dir]);
  return path.join(dir, readdirSync(dir)[0]!);
}

const grep = (dir: string, text: string): string[] => {
  try {
    return execFileSync('grep', ['-rlF', '--', text, dir], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
};

describe.skipIf(!root)('repro on the local provider', () => {
  it('reports each pod from the kernel, bundles it without credentials, and collect bundles the kept cluster', async () => {
    const src = path.join(tmp, 'report');
    execFileSync('cp', ['-r', path.join(PACKAGE_ROOT, 'fixtures', 'repros', 'two-nads-one-macvlan-master'), src]);
    writeFileSync(path.join(src, 'secret.yaml'), `apiVersion: v1
kind: Secret
metadata: { name: creds }
stringData: { password: ${SECRET_VALUE} }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { mode: bridge }
`);
    const reports = path.join(tmp, 'reports');
    const lines: string[] = [];
    const hooks: ReproHooks = { progress: (l) => lines.push(l), owning: (_w, fn) => fn(), ensurePlugin: async () => undefined };
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => { out.push(String(chunk)); return true; }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await reproCommand({
        source: src, plugins: [{ kind: 'bundled' }], keep: true, name: NAME, workDirOf: () => WORK_DIR, reportsDir: reports,
        multusConfig: 'delegates', controlPlane: {}, packageRoot: PACKAGE_ROOT,
      }, hooks);
    } finally {
      process.stdout.write = write;
    }
    const printed = out.join('');
    expect(code, printed + lines.join('\n')).toBe(0);
    expect(printed).toMatch(/pod default\/app on node-\d: Running/);
    expect(printed).toMatch(/net1 +198\.18\.90\.\d+\/24/);
    expect(printed).toMatch(/net2 +198\.18\.91\.\d+\/24/);
    expect(printed).toMatch(/ADD +\d+ ms {2}exit 0/);
    expect(printed).toContain(`cluster "${NAME}" kept (--keep)`);
    const bundle = /bundle: (\S+)/.exec(printed)![1]!;
    const dir = unpack(bundle);
    const pods = JSON.parse(readFileSync(path.join(dir, 'observations.json'), 'utf8')) as PodObservation[];
    expect(pods.map((p) => [p.name, p.running, p.interfaces.map((i) => i.ifname)])).toEqual([['app', true, ['lo', 'eth0', 'net1', 'net2']]]);
    for (const f of ['versions.json', 'pods/default/app/ip-rule.json', 'pods/default/app/network-status.json', 'nodes/node-1/ip-link.json', 'nodes/node-1/cni/net.d/00-multus.conflist', 'objects/default/Secret.json']) {
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    }
    expect(JSON.parse(readFileSync(path.join(dir, 'objects/default/ConfigMap.json'), 'utf8')).items[0].data).toEqual({ mode: 'bridge' });

    // Credentials: the cluster's bearer token (kubeconfig, the plugin's kubeconfig), the Secret's value in either encoding.
    const cluster = await localProvider.attach(NAME, WORK_DIR);
    const token = /token: (\S+)/.exec(readFileSync(cluster.kubeconfigPath, 'utf8'))![1]!;
    expect(token.length).toBeGreaterThan(8);
    const collected = path.join(tmp, 'collected');
    const before = out.length;
    process.stdout.write = ((chunk: string) => { out.push(String(chunk)); return true; }) as typeof process.stdout.write;
    try {
      expect(await collectCommand({ name: NAME, workDir: WORK_DIR, reportsDir: collected }, hooks)).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const second = unpack(/bundle: (\S+)/.exec(out.slice(before).join(''))![1]!);
    expect(existsSync(path.join(second, 'pods/default/app/ip-addr.json'))).toBe(true);
    for (const d of [dir, second]) {
      for (const secret of [token, SECRET_VALUE, Buffer.from(SECRET_VALUE).toString('base64')]) expect(grep(d, secret), `${secret.slice(0, 6)}… in ${d}`).toEqual([]);
      expect(grep(d, '<redacted>').length).toBeGreaterThan(0);
    }
    await cluster.destroy();
  }, 300_000);
});
