// The QEMU command line and the guest kernel command line, kept pure so they can be unit-tested.
// The guest is Debian's stock kernel booted as an ELF through PVH (qboot firmware): that skips the
// in-guest decompressor, which costs ~10 s under TCG. Root is the host's / over virtio-9p, read-only.

/** Mount tags of the 9p shares; the guest init looks them up by these names. */
export const HOST_ROOT_TAG = 'hostroot';
export const RUN_DIR_TAG = 'me2erun';
export const shareTag = (i: number): string => `share${i}`;

/** Kernel parameters our guest init reads (`me2e.<key>=<value>`); values must not contain spaces. */
export interface GuestParams {
  /** Kernel ABI version, e.g. 6.1.0-56-amd64 (selects /lib/modules/<kv>). */
  kernelVersion: string;
  /** Host path of the unpacked kernel package; its lib/modules/<kv> is bind-mounted in the guest. */
  kernelRoot: string;
  /** Host paths shared read-write at the same path in the guest. */
  shares: string[];
  /** Kernel messages on the console (boot debugging). */
  verbose: boolean;
}

export interface QemuOptions extends GuestParams {
  vmlinux: string;
  initramfs: string;
  /** Host directory of this run (stage 2 script in, exit status out), shared read-write. */
  runDir: string;
  memoryMiB: number;
  cpus: number;
  /** Firmware; qboot is what makes a PVH boot take ~1 s. */
  bios: string;
}

export const QBOOT_ROM = '/usr/share/qemu/qboot.rom';

function assertNoSpaces(what: string, value: string): void {
  if (/[\s:]/.test(value)) throw new Error(`vm: ${what} "${value}" contains whitespace or ':', which the guest command line cannot carry`);
}

export function kernelCommandLine(p: GuestParams): string {
  assertNoSpaces('kernel root', p.kernelRoot);
  p.shares.forEach((s) => assertNoSpaces('shared path', s));
  const args = [
    'console=ttyS0',
    // A guest panic must end QEMU rather than hang the run.
    'panic=-1',
    // No ACPI tables to parse under emulation, no speculative-execution mitigations (nothing to protect),
    // no crypto self-tests: each shaves a second or more off the boot under TCG.
    'acpi=off',
    'mitigations=off',
    'cryptomgr.notests',
    // On a busy host the emulated timer can miss the kernel's IO-APIC timer check, which then panics
    // ("IO-APIC + timer doesn't work!", seen at load 45 on 2 cores); the check only guards real chipsets.
    'no_timer_check',
    `me2e.kv=${p.kernelVersion}`,
    `me2e.kroot=${p.kernelRoot}`,
    `me2e.shares=${p.shares.join(':')}`,
    `me2e.verbose=${p.verbose ? 1 : 0}`,
  ];
  if (!p.verbose) args.push('quiet', 'loglevel=1');
  return args.join(' ');
}

export function qemuArgv(o: QemuOptions): string[] {
  const virtfs = (path: string, tag: string, readonly: boolean): string[] => [
    '-virtfs',
    // multidevs=remap keeps inode numbers unique across the host's mounts seen through one share.
    `local,path=${path},mount_tag=${tag},security_model=none,multidevs=remap${readonly ? ',readonly=on' : ''}`,
  ];
  return [
    '-accel', 'tcg',
    '-cpu', 'max',
    '-m', String(o.memoryMiB),
    '-smp', String(o.cpus),
    '-nodefaults', '-no-user-config', '-nographic',
    // The guest ends the run with a reboot; -no-reboot turns that into QEMU exiting.
    '-no-reboot',
    '-bios', o.bios,
    '-kernel', o.vmlinux,
    '-initrd', o.initramfs,
    '-append', kernelCommandLine(o),
    '-serial', 'stdio',
    ...virtfs('/', HOST_ROOT_TAG, true),
    ...virtfs(o.runDir, RUN_DIR_TAG, false),
    ...o.shares.flatMap((s, i) => virtfs(s, shareTag(i), false)),
  ];
}
