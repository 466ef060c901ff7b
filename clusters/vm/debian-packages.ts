// Debian packages the vm provider needs, and the apt calls that get them. Only Debian's own registry.
import { $ } from 'zx';

/** Host tools: QEMU (with qboot.rom from qemu-system-data), busybox for the initramfs, kmod for
 * modprobe/depmod (the guest's module auto-loading runs the host's modprobe), gcc/make for netdevsim. */
export const HOST_PACKAGES = ['qemu-system-x86', 'qemu-system-data', 'busybox-static', 'cpio', 'kmod', 'xz-utils', 'gcc', 'make', 'libc6-dev', 'binutils'];

export function kernelPackages(kernelVersion: string): string[] {
  return [`linux-headers-${kernelVersion}`, `linux-source-${kernelSeries(kernelVersion)}`];
}

/** 6.1.0-56-amd64 -> 6.1 (the linux-source package is per series). */
export function kernelSeries(kernelVersion: string): string {
  const m = /^(\d+\.\d+)\./.exec(kernelVersion);
  if (!m?.[1]) throw new Error(`vm: cannot read a kernel series from version "${kernelVersion}"`);
  return m[1];
}

const q = $({ quiet: true, nothrow: true });

export async function isInstalled(pkg: string): Promise<boolean> {
  const r = await q`dpkg-query -W -f=${'${Status}'} ${pkg}`;
  return r.exitCode === 0 && r.stdout.includes('install ok installed');
}

export async function missingPackages(pkgs: string[]): Promise<string[]> {
  const flags = await Promise.all(pkgs.map(isInstalled));
  return pkgs.filter((_, i) => !flags[i]);
}

/** Whether apt knows a candidate for pkg (apt lists may be empty on a fresh machine). */
export async function hasCandidate(pkg: string): Promise<boolean> {
  const r = await q`apt-cache policy ${pkg}`;
  const m = /Candidate:\s*(\S+)/.exec(r.stdout);
  return r.exitCode === 0 && !!m && m[1] !== '(none)';
}

let listsRefreshed = false;
/** apt-get update once per process, only when a look-up found nothing. */
export async function refreshAptLists(progress: (line: string) => void): Promise<void> {
  if (listsRefreshed) return;
  progress('vm setup: apt-get update');
  const r = await q`apt-get update -qq`;
  if (r.exitCode !== 0) throw new Error(`vm: apt-get update failed: ${r.stderr.trim()}`);
  listsRefreshed = true;
}

/** The ABI version of Debian's default kernel, e.g. 6.1.0-56-amd64 (what linux-image-amd64 depends on). */
export async function defaultKernelVersion(progress: (line: string) => void): Promise<string> {
  const read = async (): Promise<string | undefined> => {
    const r = await q`apt-cache depends linux-image-amd64`;
    return /Depends: linux-image-(\S+)/.exec(r.stdout)?.[1];
  };
  let kv = await read();
  if (!kv) {
    await refreshAptLists(progress);
    kv = await read();
  }
  if (!kv) throw new Error('vm: apt knows no linux-image-amd64 (are Debian apt sources configured?); set MULTUS_E2E_VM_KERNEL=<kernel ABI, e.g. 6.1.0-56-amd64> to pick one');
  return kv;
}

export async function aptInstall(pkgs: string[], progress: (line: string) => void): Promise<void> {
  const missing = await missingPackages(pkgs);
  if (missing.length === 0) return;
  for (const p of missing) {
    if (!(await hasCandidate(p))) {
      await refreshAptLists(progress);
      break;
    }
  }
  const unavailable: string[] = [];
  for (const p of missing) if (!(await hasCandidate(p))) unavailable.push(p);
  if (unavailable.length) throw new Error(`vm: Debian packages not available from apt: ${unavailable.join(', ')}`);
  if (process.getuid?.() !== 0) {
    throw new Error(`vm: needs Debian packages ${missing.join(' ')}; run as root or: sudo apt-get install --no-install-recommends ${missing.join(' ')}`);
  }
  progress(`vm setup: apt-get install ${missing.join(' ')}`);
  const r = await $({ quiet: true, nothrow: true, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends ${missing}`;
  if (r.exitCode !== 0) throw new Error(`vm: apt-get install ${missing.join(' ')} failed:\n${r.stderr.trim().split('\n').slice(-8).join('\n')}`);
}

/** Fetch one .deb into dir without installing it (the guest kernel must never become the host's). */
export async function aptDownload(pkg: string, dir: string, progress: (line: string) => void): Promise<void> {
  if (!(await hasCandidate(pkg))) await refreshAptLists(progress);
  progress(`vm setup: apt-get download ${pkg}`);
  const r = await $({ quiet: true, nothrow: true, cwd: dir })`apt-get download -q ${pkg}`;
  if (r.exitCode !== 0) throw new Error(`vm: apt-get download ${pkg} failed: ${r.stderr.trim()}`);
}
