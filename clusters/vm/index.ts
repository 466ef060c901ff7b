// The vm provider: runs the suite's kernel-dependent scenarios (@ipvlan, @vlan,
// @netdevsim) inside one QEMU guest per run, on Debian's stock kernel, when the host kernel lacks them.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve, dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginArgument, type PluginUnderTest } from '../provider.ts';
import { HOST_PACKAGES, hasCandidate, kernelPackages, missingPackages } from './debian-packages.ts';
import { QBOOT_ROM } from './qemu-argv.ts';
import { cachedImage, ensureVmImage, vmCacheRoot, type VmImage } from './image.ts';
import { GUEST_MODULES, runGuest } from './guest-run.ts';
import { CLI_BUNDLE, buildGuestBundle } from './guest-bundle.ts';
import { BUNDLE_DIR_ENV } from '../local/node-script.ts';

import { ensureSriovDelegate } from './sriov-cluster.ts';

export { createNetdevsimNics, deleteNetdevsimNics, netdevsimAvailable, NETDEVSIM_RESOURCE, type NetdevsimNic } from './netdevsim.ts';
export { prepareNetdevsim, attachNetdevsim, releaseNetdevsim, type NetdevsimSetup } from './sriov-cluster.ts';


const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RunInVmOptions {
  tags: string;
  plugin: PluginUnderTest;
  reportsDir: string;
  progress: (line: string) => void;
  extraArgs?: string[];
}

/** Cheap check: is the image cached, or can it be built here (root or packages present, apt knows them)? */
export async function vmAvailability(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { ok: false, reason: `vm provider needs Linux on x86-64 (this is ${process.platform}/${process.arch})` };
  if (await cachedImage()) {
    if (!existsSync(QBOOT_ROM)) return { ok: false, reason: `vm image is cached but ${QBOOT_ROM} is missing (Debian package qemu-system-data)` };
    return { ok: true };
  }
  const needed = [...HOST_PACKAGES, 'linux-image-amd64'];
  const missing = await missingPackages(HOST_PACKAGES);
  if (missing.length && process.getuid?.() !== 0) {
    return { ok: false, reason: `vm provider needs Debian packages ${missing.join(' ')} and is not root to install them` };
  }
  const kernel = process.env.MULTUS_E2E_VM_KERNEL ? `linux-image-${process.env.MULTUS_E2E_VM_KERNEL}` : 'linux-image-amd64';
  if (!(await hasCandidate(kernel))) {
    // Lists may just be stale or empty; setup runs apt-get update, so only a non-root user is stuck here.
    if (process.getuid?.() !== 0) return { ok: false, reason: `apt knows no ${kernel}; the vm provider needs Debian's kernel packages (${needed.join(' ')})` };
  }
  if (process.env.MULTUS_E2E_VM_KERNEL) {
    const extra = kernelPackages(process.env.MULTUS_E2E_VM_KERNEL);
    if (process.getuid?.() !== 0 && (await missingPackages(extra)).length) return { ok: false, reason: `vm provider needs ${extra.join(' ')} and is not root to install them` };
  }
  return { ok: true };
}

/**
 * Boots the guest once and runs `multus-e2e run --provider local --no-vm --tags <tags>` in it, with the
 * project dir (and reportsDir when outside it) shared read-write; returns the guest run's exit code.
 */
export async function runInVm(opts: RunInVmOptions): Promise<{ exitCode: number }> {
  const t0 = Date.now();
  const image = await ensureVmImage(opts.progress);
  opts.progress(`vm: guest image ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (kernel ${image.kernelVersion}, cache ${vmCacheRoot()})`);
  // Bundled on the host, where esbuild is ~30x faster than in the guest.
  await ensureSriovDelegate();
  const t1 = Date.now();
  const bundleDir = await buildGuestBundle();
  opts.progress(`vm: bundled the CLI, the cluster daemon and the steps for the guest in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  try {
    return await bootAndRun(opts, image, bundleDir);
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }
}

async function bootAndRun(opts: RunInVmOptions, image: VmImage, bundleDir: string): Promise<{ exitCode: number }> {
  const reportsDir = resolve(opts.reportsDir);
  // QEMU refuses to share a directory that does not exist yet.
  await mkdir(join(reportsDir, 'vm'), { recursive: true });
  const shares = [projectDir];
  const rel = relative(projectDir, reportsDir);
  if (rel.startsWith('..') || isAbsolute(rel)) shares.push(reportsDir);
  const argv = ['node', join(bundleDir, CLI_BUNDLE), 'run', '--provider', 'local', '--no-vm', '--tags', opts.tags, '--reports-dir', join(reportsDir, 'vm')];
  if (opts.plugin.kind !== 'bundled') argv.push('--plugin', pluginArgument(opts.plugin));
  argv.push(...(opts.extraArgs ?? []));
  const env: Record<string, string> = { HOME: '/root', TERM: 'dumb', PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', MULTUS_E2E_IN_VM: '1', [BUNDLE_DIR_ENV]: bundleDir };
  if (process.env.CI) env.CI = process.env.CI;
  opts.progress(`vm: booting the guest (QEMU TCG, 2 vCPUs, 3 GiB) to run the ${opts.tags} scenarios`);
  const r = await runGuest(image, {
    argv, cwd: projectDir, shares, env, modules: GUEST_MODULES, memoryMiB: 3072, cpus: 2,
    timeoutMs: Number(process.env.MULTUS_E2E_VM_TIMEOUT_S ?? 1200) * 1000,
    output: (l) => opts.progress(`[vm] ${l}`),
  });
  opts.progress(`vm: guest run finished with exit code ${r.exitCode} after ${(r.wallMs / 1000).toFixed(1)} s`);
  return { exitCode: r.exitCode };
}
