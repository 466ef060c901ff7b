// Boots the real guest once: the command's exit status comes back, the kernel is Debian's with
// netdevsim, the project dir is shared read-write, and netdevsim.test.ts (the emulated SR-IOV
// delegate against netdevsim) passes inside. Builds the cached image first if needed (~1-2 min).
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUEST_MODULES, runGuest } from './guest-run.ts';
import { ensureVmImage } from './image.ts';
import { vmAvailability } from './index.ts';

const project = resolve(import.meta.dirname, '..', '..');
const availability = process.env.MULTUS_E2E_IN_VM ? { ok: false as const, reason: 'already inside the vm guest' }
  : process.getuid?.() !== 0 ? { ok: false as const, reason: 'needs root' } : await vmAvailability();
if (!availability.ok) console.log(`skipping the vm boot test: ${availability.reason}`);

describe.runIf(availability.ok)('vm guest', () => {
  it('runs a command in the guest and returns its exit status', async () => {
    const image = await ensureVmImage((l) => console.log(l));
    const marker = join(project, `.me2ev-marker-${process.pid}`);
    const lines: string[] = [];
    try {
      const r = await runGuest(image, {
        argv: ['sh', '-c', `uname -r; ls /sys/bus/netdevsim/new_device; touch ${marker}; node node_modules/vitest/vitest.mjs run clusters/vm/netdevsim.test.ts; echo vitest=$?; exit 3`],
        cwd: project, shares: [project], modules: GUEST_MODULES, memoryMiB: 3072, cpus: 2, timeoutMs: 500_000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/root', MULTUS_E2E_IN_VM: '1', CI: '1', NO_COLOR: '1' },
        output: (l) => lines.push(l),
      });
      const text = lines.join('\n').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      expect(r.exitCode, text).toBe(3);
      expect(lines).toContain(image.kernelVersion);
      expect(lines).toContain('/sys/bus/netdevsim/new_device');
      expect(existsSync(marker)).toBe(true);
      expect(text).toMatch(/Tests\s+4 passed/);
      expect(text).toMatch(/^vitest=0$/m);
    } finally {
      rmSync(marker, { force: true });
    }
  }, 600_000);
});
