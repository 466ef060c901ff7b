import { describe, expect, it } from 'vitest';
import { kernelCommandLine, qemuArgv } from './qemu-argv.ts';
import { shellQuote, stage2Script } from './guest-scripts.ts';
import { imageKey, initramfsName, vmCacheRoot } from './image.ts';
import { kernelSeries } from './debian-packages.ts';

const base = {
  kernelVersion: '6.1.0-56-amd64', kernelRoot: '/c/k/kernel', shares: ['/work/main', '/srv/reports'], verbose: false,
  vmlinux: '/c/k/vmlinux', initramfs: '/c/k/initramfs-x.cpio.gz', runDir: '/c/runs/run-1', memoryMiB: 3072, cpus: 2, bios: '/usr/share/qemu/qboot.rom',
};

describe('kernel command line', () => {
  it('carries the guest parameters and stays quiet unless verbose', () => {
    const line = kernelCommandLine(base).split(' ');
    expect(line).toEqual(expect.arrayContaining(['console=ttyS0', 'panic=-1', 'no_timer_check', 'me2e.kv=6.1.0-56-amd64', 'me2e.kroot=/c/k/kernel', 'me2e.shares=/work/main:/srv/reports', 'quiet']));
    const verbose = kernelCommandLine({ ...base, verbose: true });
    expect(verbose).toContain('me2e.verbose=1');
    expect(verbose).not.toContain('quiet');
  });

  it('refuses paths the command line cannot carry', () => {
    expect(() => kernelCommandLine({ ...base, shares: ['/my reports'] })).toThrow(/shared path "\/my reports"/);
    expect(() => kernelCommandLine({ ...base, shares: ['/a:b'] })).toThrow(/':'/);
  });
});

describe('QEMU argv', () => {
  it('boots the ELF kernel via qboot under TCG with the host root read-only and the shares read-write', () => {
    const argv = qemuArgv(base);
    const after = (flag: string) => argv[argv.indexOf(flag) + 1];
    expect(after('-accel')).toBe('tcg');
    expect(after('-m')).toBe('3072');
    expect(after('-smp')).toBe('2');
    expect(after('-bios')).toBe('/usr/share/qemu/qboot.rom');
    expect(after('-kernel')).toBe('/c/k/vmlinux');
    expect(argv).toContain('-no-reboot');
    const virtfs = argv.filter((_, i) => argv[i - 1] === '-virtfs');
    expect(virtfs).toEqual([
      'local,path=/,mount_tag=hostroot,security_model=none,multidevs=remap,readonly=on',
      'local,path=/c/runs/run-1,mount_tag=me2erun,security_model=none,multidevs=remap',
      'local,path=/work/main,mount_tag=share0,security_model=none,multidevs=remap',
      'local,path=/srv/reports,mount_tag=share1,security_model=none,multidevs=remap',
    ]);
  });
});

describe('stage 2 script', () => {
  it('runs the command quoted in its directory and records its exit status', () => {
    const s = stage2Script({ cwd: '/work/main', argv: ['node', 'bin/x.mjs', '--tags', '@netdevsim or @vlan'], env: { CI: 'true', A: "it's" }, modules: ['netdevsim'], verbose: false });
    expect(s).toContain(`cd /work/main && node bin/x.mjs --tags '@netdevsim or @vlan'`);
    expect(s).toContain(`export A='it'\\''s'`);
    expect(s).toContain('modprobe -a netdevsim');
    expect(s).toMatch(/echo \$rc > \/run\/me2e\/rc/);
    expect(() => stage2Script({ cwd: '/', argv: ['true'], env: { 'BAD-NAME': 'x' }, modules: [], verbose: false })).toThrow(/BAD-NAME/);
  });

  it('quotes words for sh', () => {
    expect(shellQuote('plain/path-1.0')).toBe('plain/path-1.0');
    expect(shellQuote('a b')).toBe(`'a b'`);
    expect(shellQuote('')).toBe(`''`);
  });
});

describe('cache keys', () => {
  it('change with the kernel version and the setup code, not otherwise', () => {
    const k = imageKey('6.1.0-56-amd64', ['code']);
    expect(k).toMatch(/^6\.1\.0-56-amd64-[0-9a-f]{12}$/);
    expect(imageKey('6.1.0-56-amd64', ['code'])).toBe(k);
    expect(imageKey('6.1.0-57-amd64', ['code'])).not.toBe(k);
    expect(imageKey('6.1.0-56-amd64', ['code2'])).not.toBe(k);
    expect(initramfsName('init', ['9p'])).not.toBe(initramfsName('init2', ['9p']));
  });

  it('live in MULTUS_E2E_VM_CACHE or ~/.cache/multus-e2e/vm', () => {
    expect(vmCacheRoot({ MULTUS_E2E_VM_CACHE: '/x/vm' })).toBe('/x/vm');
    expect(vmCacheRoot({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/multus-e2e/vm');
  });

  it('reads the kernel series for linux-source', () => {
    expect(kernelSeries('6.1.0-56-amd64')).toBe('6.1');
    expect(() => kernelSeries('bogus')).toThrow(/bogus/);
  });
});
