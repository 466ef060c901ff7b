// One-off, cached setup of what the guest boots: Debian's stock kernel (unpacked, never installed),
// netdevsim.ko built out of tree from Debian's kernel source (Debian does not build it), and an
// initramfs with busybox + the modules needed to mount the root. The kernel dir is keyed by kernel
// version + a hash of the code that builds it, the initramfs by a hash of its init script, so a change
// rebuilds what it affects instead of booting a stale image.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile, copyFile, chmod, open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { HOST_PACKAGES, aptDownload, aptInstall, defaultKernelVersion, kernelPackages, kernelSeries } from './debian-packages.ts';
import { initScript } from './guest-scripts.ts';

export interface VmImage {
  dir: string;
  kernelVersion: string;
  /** ELF kernel (decompressed from the bzImage) for a PVH boot. */
  vmlinux: string;
  initramfs: string;
  /** Unpacked linux-image package; lib/modules/<kv> has netdevsim.ko under extra/. */
  kernelRoot: string;
}

export interface SetupTimings { [phase: string]: number }

/** Modules insmod'ed by the initramfs: what mounting the 9p root over virtio needs. */
export const ROOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

const READY = '.ready';
const here = dirname(fileURLToPath(import.meta.url));

export function vmCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.MULTUS_E2E_VM_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'multus-e2e', 'vm');
}

function shortHash(parts: string[]): string {
  const h = createHash('sha256');
  for (const s of parts) h.update(s).update('\0');
  return h.digest('hex').slice(0, 12);
}

/** Cache key of the kernel dir: kernel version + a hash of the sources that decide what gets built. */
export function imageKey(kernelVersion: string, setupSources: string[]): string {
  return `${kernelVersion}-${shortHash(setupSources)}`;
}

/** File name of the initramfs: changes whenever its init script or module list does. */
export function initramfsName(init: string, modules: readonly string[]): string {
  return `initramfs-${shortHash([init, ...modules])}.cpio.gz`;
}

async function setupSources(): Promise<string[]> {
  return Promise.all(['image.ts', 'debian-packages.ts'].map((f) => readFile(join(here, f), 'utf8')));
}

/** Kernel version: MULTUS_E2E_VM_KERNEL, else the one remembered from the last setup, else apt's default. */
async function chooseKernelVersion(root: string, progress: (line: string) => void): Promise<string> {
  if (process.env.MULTUS_E2E_VM_KERNEL) return process.env.MULTUS_E2E_VM_KERNEL;
  const remembered = await readFile(join(root, 'kernel-version'), 'utf8').catch(() => '');
  if (remembered.trim()) return remembered.trim();
  return defaultKernelVersion(progress);
}

/** The image if it is already built (no apt calls), else undefined. */
export async function cachedImage(): Promise<VmImage | undefined> {
  const root = vmCacheRoot();
  const kv = process.env.MULTUS_E2E_VM_KERNEL || (await readFile(join(root, 'kernel-version'), 'utf8').catch(() => '')).trim();
  if (!kv) return undefined;
  const image = imagePaths(join(root, imageKey(kv, await setupSources())), kv);
  return existsSync(join(image.dir, READY)) ? image : undefined;
}

function imagePaths(dir: string, kernelVersion: string): VmImage {
  return { dir, kernelVersion, vmlinux: join(dir, 'vmlinux'), initramfs: join(dir, initramfsName(initScript(), ROOT_MODULES)), kernelRoot: join(dir, 'kernel') };
}

/** One builder at a time per cache (two runs starting together would otherwise build over each other). */
async function withSetupLock<T>(root: string, progress: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const lock = join(root, '.setup.lock');
  for (let waited = 0; ; waited += 2) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock older than the slowest setup is left over from a killed run.
      const age = Date.now() - (await stat(lock).then((st) => st.mtimeMs, () => Date.now()));
      if (age > 20 * 60_000) await rm(lock, { recursive: true, force: true });
      else if (waited % 30 === 0) progress(`vm setup: waiting for another process that is building the image (${lock})`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export async function ensureVmImage(progress: (line: string) => void): Promise<VmImage> {
  const root = vmCacheRoot();
  await mkdir(root, { recursive: true });
  return withSetupLock(root, progress, () => buildVmImage(root, progress));
}

async function buildVmImage(root: string, progress: (line: string) => void): Promise<VmImage> {
  const kv = await chooseKernelVersion(root, progress);
  const image = imagePaths(join(root, imageKey(kv, await setupSources())), kv);
  if (existsSync(join(image.dir, READY))) {
    if (!existsSync(image.initramfs)) await buildInitramfs(image, progress);
    return image;
  }

  const timings: SetupTimings = {};
  const phase = async (name: string, fn: () => Promise<void>): Promise<void> => {
    const t0 = Date.now();
    await fn();
    timings[name] = (Date.now() - t0) / 1000;
    progress(`vm setup: ${name} done in ${timings[name]!.toFixed(1)} s`);
  };
  progress(`vm setup: one-off build of the guest image for kernel ${kv} in ${image.dir} (a few minutes; cached afterwards)`);
  await rm(image.dir, { recursive: true, force: true });
  await mkdir(image.dir, { recursive: true });
  await phase('install Debian packages', () => aptInstall([...HOST_PACKAGES, ...kernelPackages(kv)], progress));
  await phase('unpack kernel', () => unpackKernel(image, progress));
  await phase('build netdevsim', () => buildNetdevsim(image, progress));
  await phase('build initramfs', () => buildInitramfs(image, progress));
  await writeFile(join(image.dir, 'setup-timings.json'), JSON.stringify(timings, null, 2));
  await writeFile(join(root, 'kernel-version'), kv);
  await writeFile(join(image.dir, READY), new Date().toISOString());
  await pruneOtherImages(root, basename(image.dir));
  return image;
}

async function unpackKernel(image: VmImage, progress: (line: string) => void): Promise<void> {
  const debDir = join(image.dir, 'deb');
  await mkdir(debDir, { recursive: true });
  await aptDownload(`linux-image-${image.kernelVersion}`, debDir, progress);
  const deb = (await readdir(debDir)).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`vm: apt-get download linux-image-${image.kernelVersion} left no .deb in ${debDir}`);
  progress('vm setup: unpacking the kernel package');
  await $({ quiet: true })`dpkg-deb -x ${join(debDir, deb)} ${image.kernelRoot}`;
  await rm(debDir, { recursive: true, force: true });
  await extractElfKernel(join(image.kernelRoot, 'boot', `vmlinuz-${image.kernelVersion}`), image.vmlinux);
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** bzImage -> ELF vmlinux: Debian compresses the kernel with xz; the payload starts at the xz magic. */
export async function extractElfKernel(bzImage: string, out: string): Promise<void> {
  const data = await readFile(bzImage);
  const at = data.indexOf(XZ_MAGIC);
  if (at < 0) throw new Error(`vm: ${bzImage} holds no xz-compressed kernel`);
  const xz = `${out}.xz`;
  await writeFile(xz, data.subarray(at));
  // --single-stream: the bzImage has trailing data after the xz stream.
  await $({ quiet: true })`xz -dc --single-stream ${xz} > ${out}`;
  await rm(xz, { force: true });
  const fd = await open(out, 'r');
  const head = Buffer.alloc(4);
  await fd.read(head, 0, 4, 0);
  await fd.close();
  if (!head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) throw new Error(`vm: decompressed kernel ${out} is not an ELF file`);
}

async function buildNetdevsim(image: VmImage, progress: (line: string) => void): Promise<void> {
  const series = kernelSeries(image.kernelVersion);
  const tarball = `/usr/src/linux-source-${series}.tar.xz`;
  const headers = `/usr/src/linux-headers-${image.kernelVersion}`;
  for (const p of [tarball, headers]) if (!existsSync(p)) throw new Error(`vm: ${p} is missing (Debian packages linux-source-${series} / linux-headers-${image.kernelVersion})`);
  const src = join(image.dir, 'src');
  await mkdir(src, { recursive: true });
  progress(`vm setup: extracting drivers/net/netdevsim from ${tarball}`);
  await $({ quiet: true })`tar -xJf ${tarball} -C ${src} ${`linux-source-${series}/drivers/net/netdevsim`}`;
  const mdir = join(src, `linux-source-${series}`, 'drivers', 'net', 'netdevsim');
  progress('vm setup: compiling netdevsim.ko');
  const r = await $({ quiet: true, nothrow: true })`make -s -j2 -C ${headers} M=${mdir} CONFIG_NETDEVSIM=m modules`;
  const ko = join(mdir, 'netdevsim.ko');
  if (r.exitCode !== 0 || !existsSync(ko)) throw new Error(`vm: building netdevsim.ko failed:\n${r.stderr.trim().split('\n').slice(-10).join('\n')}`);
  const extra = join(image.kernelRoot, 'lib', 'modules', image.kernelVersion, 'extra');
  await mkdir(extra, { recursive: true });
  await $({ quiet: true })`strip --strip-debug -o ${join(extra, 'netdevsim.ko')} ${ko}`;
  await rm(src, { recursive: true, force: true });
  await $({ quiet: true })`depmod -b ${image.kernelRoot} ${image.kernelVersion}`;
}

async function buildInitramfs(image: VmImage, progress: (line: string) => void): Promise<void> {
  progress('vm setup: building the initramfs');
  const dir = join(image.dir, 'initramfs');
  await rm(dir, { recursive: true, force: true });
  for (const d of ['bin', 'proc', 'sys', 'dev', 'modules']) await mkdir(join(dir, d), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin', 'busybox'));
  // modprobe --show-depends prints the insmod lines in load order, dependencies first.
  const deps = await $({ quiet: true })`modprobe -d ${image.kernelRoot} -S ${image.kernelVersion} --show-depends -a ${ROOT_MODULES}`;
  const kos = [...new Set(deps.stdout.split('\n').filter((l) => l.startsWith('insmod ')).map((l) => l.split(/\s+/)[1]!))];
  let n = 100;
  for (const ko of kos) await copyFile(ko, join(dir, 'modules', `${n++}-${basename(ko)}`));
  await writeFile(join(dir, 'init'), initScript());
  await chmod(join(dir, 'init'), 0o755);
  await $({ quiet: true, cwd: dir })`sh -c ${'find . | cpio -o -H newc --quiet | gzip -1 > "$0"'} ${join(image.dir, '.initramfs.tmp')}`;
  await rm(dir, { recursive: true, force: true });
  for (const f of await readdir(image.dir)) if (f.startsWith('initramfs-')) await rm(join(image.dir, f), { force: true });
  await rename(join(image.dir, '.initramfs.tmp'), image.initramfs);
}

const LAST_USED = '.last-used';
/** A booting guest reads modules from its image dir: mark it so pruning leaves it alone for a while. */
export async function markImageUsed(image: VmImage): Promise<void> {
  await writeFile(join(image.dir, LAST_USED), new Date().toISOString());
}

/** Older images (other kernel or older setup code) are dead weight of ~500 MB each; keep any used in the last 2 h. */
async function pruneOtherImages(root: string, keep: string): Promise<void> {
  for (const e of await readdir(root, { withFileTypes: true })) {
    const dir = join(root, e.name);
    if (!e.isDirectory() || e.name === keep || !existsSync(join(dir, READY))) continue;
    const used = await stat(join(dir, LAST_USED)).then((st) => st.mtimeMs, () => 0);
    if (Date.now() - used > 2 * 3600_000) await rm(dir, { recursive: true, force: true });
  }
}
