import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freeNetdevsimId, kindNetdevsimAvailability, netdevsimIntoNode, removeNetdevsim } from './netdevsim.ts';
import { makeStandIns, type StandIns } from './test-standins.ts';
import { zxRunner } from './tools.ts';

// A directory shaped like /sys/bus/netdevsim stands in for the kernel: the code under test writes the
// same files it writes on a real host, and the test plays the kernel by creating the device directory.
let s: StandIns;
let sysfs: string;
beforeEach(() => {
  s = makeStandIns(['docker', 'ip']);
  sysfs = join(s.dir, 'sys');
  mkdirSync(join(sysfs, 'bus/netdevsim/devices'), { recursive: true });
  writeFileSync(join(sysfs, 'bus/netdevsim/new_device'), '');
});
afterEach(() => s.cleanup());

describe('netdevsim on kind', () => {
  it('is unavailable with the reason: no netdevsim in the kernel, or no device plugin for the kubelet', () => {
    expect(kindNetdevsimAvailability(join(s.dir, 'no-sys'))).toEqual({
      ok: false,
      reason: `the host kernel has no netdevsim (${join(s.dir, 'no-sys/bus/netdevsim')} is missing); kind nodes share the host kernel`,
    });
    expect(kindNetdevsimAvailability(sysfs)).toEqual({
      ok: false,
      reason: 'the kind provider has no device plugin to offer netdevsim VFs to the kubelet as netdevsim.io/vf (use the local or vm provider)',
    });
  });

  it('picks an unused device id', () => {
    mkdirSync(join(sysfs, 'bus/netdevsim/devices/netdevsim700'));
    expect(freeNetdevsimId(sysfs)).toBe(701);
  });

  it('creates the device, sets VFs and moves every port into the node container netns', async () => {
    mkdirSync(join(sysfs, 'bus/netdevsim/devices/netdevsim700/net/eni700np1'), { recursive: true });
    mkdirSync(join(sysfs, 'bus/netdevsim/devices/netdevsim700/net/eni700np2'), { recursive: true });
    const pfs = await netdevsimIntoNode(zxRunner(s.env), 'me2e-worker', { id: 700, ports: 2, numvfs: 4 }, sysfs);
    expect(pfs).toEqual(['eni700np1', 'eni700np2']);
    expect(readFileSync(join(sysfs, 'bus/netdevsim/new_device'), 'utf8')).toBe('700 2');
    expect(readFileSync(join(sysfs, 'bus/netdevsim/devices/netdevsim700/sriov_numvfs'), 'utf8')).toBe('4');
    expect(s.lines()).toEqual([
      'docker inspect --format {{.State.Pid}} me2e-worker',
      'ip link set dev eni700np1 netns 4242',
      'ip link set dev eni700np2 netns 4242',
    ]);
    removeNetdevsim(700, sysfs);
    expect(readFileSync(join(sysfs, 'bus/netdevsim/del_device'), 'utf8')).toBe('700');
  });

  it('deletes the device again when its ports do not appear', async () => {
    mkdirSync(join(sysfs, 'bus/netdevsim/devices/netdevsim700'), { recursive: true });
    await expect(netdevsimIntoNode(zxRunner(s.env), 'me2e-worker', { id: 700, ports: 1, numvfs: 0 }, sysfs)).rejects.toThrow(
      'netdevsim700: 0 of 1 port netdevs appeared',
    );
    expect(readFileSync(join(sysfs, 'bus/netdevsim/del_device'), 'utf8')).toBe('700');
    expect(s.calls()).toEqual([]);
  });

  it('removing a device that is gone does nothing', () => {
    removeNetdevsim(999, sysfs);
    expect(existsSync(join(sysfs, 'bus/netdevsim/del_device'))).toBe(false);
  });
});
