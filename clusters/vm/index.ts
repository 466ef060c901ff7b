// The vm provider: runs the suite's kernel-dependent scenarios (@ipvlan, @vlan, @netdevsim), or the
// certification of delegates whose link kind the host kernel lacks, inside one QEMU guest per run, on
// Debian's stock kernel.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve, dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginArgument, type PluginUnderTest } from '../provider.ts';
import { HOST_PACKAGES, hasCandidate, kernelPackages, missingPackages } from './debian-packages.ts';
import { QBOOT_ROM } from './qemu-argv.ts';
import { cachedImage, ensureVmImage, vmCacheRoot, type VmImage } from './image.ts';
import { GUEST_MODULES, QEMU_BINARY, runGuest } from './guest-run.ts';
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

const onPath = (binary: string): boolean => (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, binary)));

/** Cheap check: is the image cached, or can it be built here (root or packages present, apt knows them)? */
export async function vmAvailability(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { ok: false, reason: `vm provider needs Linux on x86-64 (this is ${process.platform}/${process.arch})` };
  if (await cachedImage()) {
    if (!onPath(QEMU_BINARY)) return { ok: false, reason: `vm image is cached but ${QEMU_BINARY} is not on PATH (Debian package qemu-system-x86)` };
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

/** One multus-e2e command run in the guest from its bundle (runCliInVm). */
export interface GuestCliOptions {
  /** The CLI's arguments in the guest (paths as on the host: the guest sees the host's / read-only). */
  cliArgs: string[];
  /** Host directories the guest writes to, shared read-write at the same path (the project dir always is). */
  writable: string[];
  /** What the guest is booted for, for the progress line. */
  what: string;
  /** Default guest timeout; MULTUS_E2E_VM_TIMEOUT_S overrides it. */
  timeoutS: number;
  progress: (line: string) => void;
}

/**
 * Boots the guest once and runs `multus-e2e <cliArgs>` in it from a bundle built on the host, with the
 * project dir and `writable` shared read-write; returns the guest command's exit code.
 */
export async function runCliInVm(opts: GuestCliOptions): Promise<{ exitCode: number; wallMs: number }> {
  const t0 = Date.now();
  const image = await ensureVmImage(opts.progress);
  opts.progress(`vm: guest image ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (kernel ${image.kernelVersion}, cache ${vmCacheRoot()})`);
  // Bundled on the host, where esbuild is ~30x faster than in the guest.
  const t1 = Date.now();
  const bundleDir = await buildGuestBundle();
  opts.progress(`vm: bundled the CLI, the cluster daemon and the steps for the guest in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  try {
    return await bootAndRun(opts, image, bundleDir);
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }
}

async function bootAndRun(opts: GuestCliOptions, image: VmImage, bundleDir: string): Promise<{ exitCode: number; wallMs: number }> {
  const shares = [projectDir];
  for (const dir of opts.writable.map((d) => resolve(d))) {
    // QEMU refuses to share a directory that does not exist yet.
    await mkdir(dir, { recursive: true });
    const rel = relative(projectDir, dir);
    if ((rel.startsWith('..') || isAbsolute(rel)) && !shares.includes(dir)) shares.push(dir);
  }
  const argv = ['node', join(bundleDir, CLI_BUNDLE), ...opts.cliArgs];
  const env: Record<string, string> = { HOME: '/root', TERM: 'dumb', PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', MULTUS_E2E_IN_VM: '1', [BUNDLE_DIR_ENV]: bundleDir };
  if (process.env.CI) env.CI = process.env.CI;
  opts.progress(`vm: booting the guest (QEMU TCG, 2 vCPUs, 3 GiB) to run ${opts.what}`);
  const r = await runGuest(image, {
    argv, cwd: projectDir, shares, env, modules: GUEST_MODULES, memoryMiB: 3072, cpus: 2,
    timeoutMs: Number(process.env.MULTUS_E2E_VM_TIMEOUT_S ?? opts.timeoutS) * 1000,
    output: (l) => opts.progress(`[vm] ${l}`),
  });
  opts.progress(`vm: guest run finished with exit code ${r.exitCode} after ${(r.wallMs / 1000).toFixed(1)} s`);
  return r;
}

/**
 * Boots the guest once and runs `multus-e2e run --provider local --no-vm --tags <tags>` in it, with the
 * project dir (and reportsDir when outside it) shared read-write; returns the guest run's exit code.
 */
export async function runInVm(opts: RunInVmOptions): Promise<{ exitCode: number }> {
  await ensureSriovDelegate();
  const vmReports = join(resolve(opts.reportsDir), 'vm');
  const cliArgs = ['run', '--provider', 'local', '--no-vm', '--tags', opts.tags, '--reports-dir', vmReports];
  if (opts.plugin.kind !== 'bundled') cliArgs.push('--plugin', pluginArgument(opts.plugin));
  cliArgs.push(...(opts.extraArgs ?? []));
  const r = await runCliInVm({ cliArgs, writable: [vmReports], what: `the ${opts.tags} scenarios`, timeoutS: 1200, progress: opts.progress });
  return { exitCode: r.exitCode };
}
