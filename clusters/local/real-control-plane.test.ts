import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, localProvider } from './index.ts';
import { resolveControlPlane } from './real-control-plane.ts';

const dir = mkdtempSync(join(tmpdir(), 'me2e-cp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveControlPlane', () => {
  const exe = (name: string) => {
    writeFileSync(join(dir, name), '#!/bin/sh\n');
    chmodSync(join(dir, name), 0o755);
    return join(dir, name);
  };

  it('uses the embedded server when nothing is given', () => {
    expect(resolveControlPlane({}, {})).toBeUndefined();
  });

  it('takes explicit paths, or both binaries from KUBEBUILDER_ASSETS', () => {
    const binaries = { kubeApiserver: exe('kube-apiserver'), etcd: exe('etcd') };
    expect(resolveControlPlane(binaries, {})).toEqual(binaries);
    expect(resolveControlPlane({}, { KUBEBUILDER_ASSETS: dir })).toEqual(binaries);
  });

  it('names what is missing or not executable', () => {
    expect(() => resolveControlPlane({ etcd: exe('etcd') }, {})).toThrow(/needs both kube-apiserver and etcd/);
    writeFileSync(join(dir, 'plain'), '');
    expect(() => resolveControlPlane({ kubeApiserver: join(dir, 'plain'), etcd: exe('etcd') }, {})).toThrow(`kube-apiserver binary ${join(dir, 'plain')} does not exist or is not executable`);
  });
});

const asRoot = process.platform === 'linux' && process.getuid?.() === 0;

describe.skipIf(!asRoot)('a real control plane that fails to start (stand-in binaries, root)', () => {
  it('fails create() with the failing binary named and leaves nothing behind', async () => {
    const bin = join(dir, 'standins');
    rmSync(bin, { recursive: true, force: true });
    const script = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/usr/bin/env node\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
      return join(dir, name);
    };
    // etcd stays up (as the real one would); kube-apiserver dies at once.
    const etcd = script('standin-etcd', 'setInterval(() => {}, 1000);');
    const kubeApiserver = script('standin-kube-apiserver', 'console.error("standin: refusing to serve"); process.exit(3);');
    const workDir = join(dir, 'failing');
    await expect(localProvider.create({ name: 'lt-realfail', nodes: 1, plugin: { kind: 'bundled' }, withoutPlugin: true, workDir, kubeApiserver, etcd }))
      .rejects.toThrow(/real control plane did not start: .*standin-kube-apiserver exited with 3\n[^]*kube-apiserver.log \(last lines\) ---\nstandin: refusing to serve/);
    expect(await leftovers('lt-realfail')).toEqual([]);
  }, 60_000);
});

const assets = process.env.KUBEBUILDER_ASSETS;
const skipReason = !assets ? 'KUBEBUILDER_ASSETS is not set (no real kube-apiserver/etcd on this host)' : process.getuid?.() !== 0 ? 'needs root' : undefined;
if (skipReason) console.log(`skipping the real control plane bring-up: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('local cluster on a real kube-apiserver + etcd', () => {
  it('runs a pod, empties and finalizes its deleted namespace, and tears down cleanly', async () => {
    const workDir = join(dir, 'cluster');
    const cluster = await localProvider.create({ name: 'lt-real', nodes: 1, plugin: { kind: 'bundled' }, withoutPlugin: true, workDir });
    try {
      const api = cluster.api();
      await api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fin' } });
      await api.post('/api/v1/namespaces/fin/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'r1' }, spec: { containers: [{ name: 'main', image: 'pause' }] } });
      let pod: V1Pod | undefined;
      for (let i = 0; i < 100 && pod?.status?.phase !== 'Running'; i++) {
        await sleep(200);
        pod = await api.get<V1Pod>('/api/v1/namespaces/fin/pods/r1');
      }
      expect(pod?.status?.podIP).toMatch(/^198\.19\.1\./);
      // No kube-controller-manager: the provider's namespace finalizer must empty and remove it.
      await api.delete('/api/v1/namespaces/fin');
      let ns: V1Namespace | undefined = await api.find<V1Namespace>('/api/v1/namespaces/fin');
      for (let i = 0; i < 150 && ns; i++) {
        await sleep(200);
        ns = await api.find<V1Namespace>('/api/v1/namespaces/fin');
      }
      expect(ns?.status).toBeUndefined();
      expect((await cluster.cniCalls()).map((c) => `${c.op} ${c.namespace}/${c.pod}`)).toEqual(['ADD fin/r1', 'DEL fin/r1']);
    } finally {
      await cluster.destroy();
    }
    expect(await leftovers('lt-real')).toEqual([]);
    // Its logs (etcd.log, kube-apiserver.log) go too, and with them the work dir.
    expect(existsSync(workDir)).toBe(false);
  }, 180_000);
});
