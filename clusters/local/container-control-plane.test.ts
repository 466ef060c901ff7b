// The control plane from container images. The Docker part runs where an engine is configured
// (DOCKER_HOST or /var/run/docker.sock) and holds the images: MULTUS_E2E_APISERVER_IMAGE and
// MULTUS_E2E_ETCD_IMAGE (default: the official v1.20.2 ones), as root; with MULTUS_E2E_REQUIRE_DOCKER=1 a
// missing engine or image fails the file instead of skipping it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterContainers, resolveContainerControlPlane } from './container-control-plane.ts';
import { leftovers, localProvider } from './index.ts';
import { isAlive } from './process-identity.ts';
import { readState } from './state.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'me2e-cpc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveContainerControlPlane', () => {
  it('defaults to the official images, etcd as kubeadm pairs it with the minor', () => {
    expect(resolveContainerControlPlane({ version: 'v1.20.2' })).toEqual({
      version: 'v1.20.2', apiserverImage: 'registry.k8s.io/kube-apiserver:v1.20.2', etcdImage: 'registry.k8s.io/etcd:3.4.13-0',
    });
    expect(resolveContainerControlPlane({ version: 'v1.99.0', etcdImage: 'my/etcd:1', apiserverImage: 'my/kas:1' }))
      .toEqual({ version: 'v1.99.0', apiserverImage: 'my/kas:1', etcdImage: 'my/etcd:1' });
  });

  it('names what it cannot resolve', () => {
    expect(() => resolveContainerControlPlane({ version: '1.20' })).toThrow('control plane version "1.20" is not a Kubernetes version like v1.20.2');
    expect(() => resolveContainerControlPlane({ version: 'v1.99.0' })).toThrow(/^no default etcd image for Kubernetes v1.99.0 .*give --etcd-image$/);
  });
});

const images = {
  version: 'v1.20.2',
  apiserverImage: process.env.MULTUS_E2E_APISERVER_IMAGE ?? 'registry.k8s.io/kube-apiserver:v1.20.2',
  etcdImage: process.env.MULTUS_E2E_ETCD_IMAGE ?? 'registry.k8s.io/etcd:3.4.13-0',
};

async function dockerSkipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return 'no Docker engine configured (DOCKER_HOST)';
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const tc = await import('testcontainers');
  try {
    const client = await tc.getContainerRuntimeClient();
    for (const image of [images.apiserverImage, images.etcdImage]) {
      if (!await client.image.exists(tc.ImageName.fromString(image))) return `image ${image} is not on the Docker engine`;
    }
  } catch (err) {
    return `the Docker engine does not answer: ${(err as Error).message}`;
  }
  return undefined;
}
const skipReason = await dockerSkipReason();
// CI's kind leg sets MULTUS_E2E_REQUIRE_DOCKER=1 once its engine and images exist: a skip there would hide a broken setup.
if (skipReason && process.env.MULTUS_E2E_REQUIRE_DOCKER === '1') throw new Error(`MULTUS_E2E_REQUIRE_DOCKER=1, but the control plane containers cannot run: ${skipReason}`);
if (skipReason) console.log(`skipping the control plane containers: ${skipReason}`);

const cli = (args: string[]): ChildProcess => spawn(process.execPath, [join(REPO, 'bin/multus-e2e.mjs'), ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });

function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

/** `multus-e2e run` with the container control plane, SIGKILLed once both containers exist (the cluster still coming up). */
async function runKilledMidway(name: string, workDir: string): Promise<string[]> {
  const run = cli(['run', '--no-vm', '--nodes', '1', '--tags', '@core', '--name', name, '--work-dir', workDir, '--reports-dir', join(dir, `reports-${name}`),
    '--control-plane', `container:${images.version}`, '--apiserver-image', images.apiserverImage, '--etcd-image', images.etcdImage]);
  const exited = exitOf(run);
  let ids: string[] = [];
  for (let i = 0; i < 600 && ids.length < 2 && run.exitCode === null; i++) {
    await sleep(250);
    ids = await clusterContainers(name);
  }
  run.kill('SIGKILL');
  const { code, stderr } = await exited;
  expect(ids, `run exited (${code}) before both containers existed:\n${stderr}`).toHaveLength(2);
  return ids;
}

describe.skipIf(skipReason !== undefined)('control plane containers left by a run killed midway', () => {
  it('are removed by the next `cluster down`', async () => {
    const name = 'lt-cpkill';
    const workDir = join(dir, name);
    const ids = await runKilledMidway(name, workDir);
    // The cluster daemon outlives the killed harness; state.json has both ids.
    expect(readState(workDir)?.containers?.slice().sort()).toEqual(ids.slice().sort());
    const down = await exitOf(cli(['cluster', 'down', '--name', name, '--work-dir', workDir]));
    expect(down.code, down.stderr).toBe(0);
    expect(await clusterContainers(name)).toEqual([]);
    expect(await leftovers(name)).toEqual([]);
  }, 240_000);

  it('are removed by the next create() of the name, also when the cluster daemon died with the harness', async () => {
    const name = 'lt-cpkill2';
    const workDir = join(dir, name);
    const old = await runKilledMidway(name, workDir);
    const daemon = readState(workDir)?.daemon;
    expect(daemon).toBeDefined();
    process.kill(daemon!.pid, 'SIGKILL');
    for (let i = 0; i < 100 && isAlive(daemon!); i++) await sleep(100);
    const cluster = await localProvider.create({ name, nodes: 1, plugin: { kind: 'bundled' }, withoutPlugin: true, workDir, controlPlaneImages: images });
    try {
      const now = await clusterContainers(name);
      expect(now).toHaveLength(2);
      expect(now.filter((id) => old.includes(id))).toEqual([]);
      expect(readState(workDir)?.containers?.slice().sort()).toEqual(now.slice().sort());
      const version = await cluster.api().get<{ gitVersion: string }>('/version');
      expect(version.gitVersion).toBe(images.version);
      // The API port is published on loopback only.
      const tc = await import('testcontainers');
      const client = await tc.getContainerRuntimeClient();
      const bindings = (await Promise.all(now.map((id) => client.container.getById(id).inspect())))
        .flatMap((c) => Object.values(c.HostConfig.PortBindings ?? {}).flat() as { HostIp: string; HostPort: string }[]);
      expect(bindings).toEqual([{ HostIp: '127.0.0.1', HostPort: String(readState(workDir)!.api!.port) }]);
    } finally {
      await cluster.destroy();
    }
    expect(await clusterContainers(name)).toEqual([]);
    expect(await leftovers(name)).toEqual([]);
  }, 360_000);

  it('a missing image fails create() naming it, before anything exists', async () => {
    const name = 'lt-cpmissing';
    const workDir = join(dir, name);
    const apiserverImage = 'multus-e2e.invalid/kube-apiserver:v1.20.2';
    await expect(localProvider.create({ name, nodes: 1, plugin: { kind: 'bundled' }, withoutPlugin: true, workDir, controlPlaneImages: { ...images, apiserverImage } }))
      .rejects.toThrow(/^image multus-e2e.invalid\/kube-apiserver:v1.20.2 is not on the Docker engine and could not be pulled .*--apiserver-image$/);
    expect(existsSync(workDir)).toBe(false);
    expect(await leftovers(name)).toEqual([]);
  }, 60_000);
});
