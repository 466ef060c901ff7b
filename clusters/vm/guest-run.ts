// Boots the guest once and runs one command in it; the command's exit status comes back through
// the shared run dir (the serial console only carries its output).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EXIT_STATUS_FILE, STAGE2_FILE, stage2Script } from './guest-scripts.ts';
import { QBOOT_ROM, qemuArgv } from './qemu-argv.ts';
import { markImageUsed, vmCacheRoot, type VmImage } from './image.ts';

export interface GuestCommand {
  argv: string[];
  /** Working directory in the guest; must be on a share (or read-only on the host root). */
  cwd: string;
  /** Host directories mounted read-write at the same path in the guest. */
  shares: string[];
  env?: Record<string, string>;
  /** Modules loaded before the command runs. */
  modules?: string[];
  memoryMiB?: number;
  cpus?: number;
  timeoutMs?: number;
  verbose?: boolean;
  /** Each line the guest prints on its console. */
  output: (line: string) => void;
}

export interface GuestResult {
  exitCode: number;
  /** QEMU start to QEMU exit. */
  wallMs: number;
}

export const QEMU_BINARY = 'qemu-system-x86_64';

/** Modules loaded at guest boot, before the command: what the kernel-dependent scenarios use. */
export const GUEST_MODULES = ['netdevsim', 'ipvlan', '8021q', 'dummy', 'macvlan', 'veth', 'bridge'];

export async function runGuest(image: VmImage, cmd: GuestCommand): Promise<GuestResult> {
  const runsDir = join(vmCacheRoot(), 'runs');
  await mkdir(runsDir, { recursive: true });
  const runDir = await mkdtemp(join(runsDir, 'run-'));
  await markImageUsed(image);
  try {
    await writeFile(join(runDir, STAGE2_FILE), stage2Script({
      cwd: cmd.cwd, argv: cmd.argv, env: cmd.env ?? {}, modules: cmd.modules ?? [], verbose: cmd.verbose ?? false,
    }));
    const argv = qemuArgv({
      kernelVersion: image.kernelVersion, kernelRoot: image.kernelRoot, vmlinux: image.vmlinux, initramfs: image.initramfs,
      runDir, shares: cmd.shares, memoryMiB: cmd.memoryMiB ?? 3072, cpus: cmd.cpus ?? 2, bios: QBOOT_ROM, verbose: cmd.verbose ?? false,
    });
    const t0 = Date.now();
    const tail: string[] = [];
    const { code, timedOut, stderr } = await new Promise<{ code: number | null; timedOut: boolean; stderr: string }>((resolve, reject) => {
      const child = spawn(QEMU_BINARY, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderrText = '';
      let timedOut = false;
      const timer = cmd.timeoutMs ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, cmd.timeoutMs) : undefined;
      // QEMU must not outlive us when the harness is interrupted.
      const killChild = (): void => { child.kill('SIGKILL'); };
      process.once('exit', killChild);
      child.stderr.on('data', (d: Buffer) => { stderrText += d.toString(); });
      createInterface({ input: child.stdout }).on('line', (raw) => {
        const line = raw.replace(/\r/g, '');
        if (/^\[\s*[\d.]+\] reboot: /.test(line)) return;
        tail.push(line);
        if (tail.length > 30) tail.shift();
        cmd.output(line);
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        process.removeListener('exit', killChild);
        reject(new Error(`vm: cannot start ${QEMU_BINARY}: ${e.message} (Debian package qemu-system-x86)`));
      });
      child.on('close', (c) => {
        clearTimeout(timer);
        process.removeListener('exit', killChild);
        resolve({ code: c, timedOut, stderr: stderrText });
      });
    });
    const wallMs = Date.now() - t0;
    const rcFile = join(runDir, EXIT_STATUS_FILE);
    if (!existsSync(rcFile)) {
      const why = timedOut ? `timed out after ${cmd.timeoutMs} ms` : `QEMU exited with ${code}`;
      throw new Error(`vm: the guest ended without an exit status (${why}).\n${stderr.trim()}\nlast console lines:\n${tail.join('\n')}`);
    }
    const exitCode = Number((await readFile(rcFile, 'utf8')).trim());
    return { exitCode, wallMs };
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}
