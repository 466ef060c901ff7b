// netdevsim NICs + the emulated SR-IOV delegate against the real kernel. Needs netdevsim (the vm
// guest has it; vm-guest.test.ts runs this file inside the guest), so it skips on this host's kernel.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSriovDelegate } from '../../fixtures/delegates/sriov/build.ts';
import { createNetdevsimNics, deleteNetdevsimNics, moveNetdevsimNic, netdevsimAvailable, type NetdevsimNic } from './netdevsim.ts';

const NODE_NS = 'me2ev-node';
const POD_NS = 'me2ev-pod';
const canRun = process.getuid?.() === 0 && (await netdevsimAvailable());
if (!canRun) console.log('skipping netdevsim tests: needs root and a kernel with netdevsim (run inside the vm: vm-guest.test.ts)');

interface VfInfo { vf: number; address: string; vlan_list?: { vlan?: number }[]; spoofchk: boolean; trust: boolean }
interface Link { ifname: string; address: string; parentdev?: string; phys_port_name?: string; vfinfo_list?: VfInfo[]; addr_info?: { local: string; prefixlen: number }[] }

const ipj = (ns: string | undefined, args: string[]): Link[] =>
  JSON.parse(execFileSync('ip', [...(ns ? ['-n', ns] : []), '-j', '-d', ...args], { encoding: 'utf8' }) || '[]') as Link[];

describe.runIf(canRun)('netdevsim emulated SR-IOV', () => {
  let nics: NetdevsimNic[] = [];
  let delegate = '';
  let work = '';

  const cni = (command: string, conf: object, podNs = POD_NS, ifname = 'net1') => {
    const r = spawnSync('ip', ['netns', 'exec', NODE_NS, delegate], {
      input: JSON.stringify(conf),
      encoding: 'utf8',
      env: { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: 'me2ev-c1', CNI_NETNS: `/run/netns/${podNs}`, CNI_IFNAME: ifname, CNI_PATH: '/usr/lib/cni' },
    });
    return { code: r.status, out: r.stdout ? (JSON.parse(r.stdout) as Record<string, unknown>) : {} , stderr: r.stderr };
  };
  const conf = (deviceID: string, extra: object = {}) => ({
    cniVersion: '1.0.0', name: 'sriov-net', type: 'sriov', deviceID,
    ipam: { type: 'host-local', subnet: '198.18.60.0/24', dataDir: join(work, 'ipam') },
    ...extra,
  });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'me2ev-'));
    delegate = await buildSriovDelegate(join(work, 'sriov'));
    execFileSync('ip', ['netns', 'add', NODE_NS]);
    execFileSync('ip', ['netns', 'add', POD_NS]);
    nics = await createNetdevsimNics({ count: 2, vfs: 5 });
  }, 120_000);

  afterAll(async () => {
    await deleteNetdevsimNics(nics);
    for (const ns of [NODE_NS, POD_NS]) spawnSync('ip', ['netns', 'del', ns]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('creates NICs in switchdev mode with one representor per VF', () => {
    expect(nics).toHaveLength(2);
    const nic = nics[0]!;
    expect(nic.deviceIds).toEqual([0, 1, 2, 3, 4].map((k) => `netdevsim${nic.id}-vf${k}`));
    const pf = ipj(undefined, ['link', 'show', nic.pf])[0]!;
    expect(pf.vfinfo_list).toHaveLength(5);
    for (const [k, rep] of nic.representors.entries()) {
      const l = ipj(undefined, ['link', 'show', rep])[0]!;
      expect(l.parentdev).toBe(`netdevsim${nic.id}`);
      expect(l.phys_port_name).toBe(`pf0vf${k}`);
    }
    expect(existsSync(`/var/run/k8s.cni.cncf.io/devinfo/dp/netdevsim.io-vf-${nic.deviceIds[1]}-device.json`)).toBe(true);
  });

  it('ADD moves the VF into the pod with the NAD settings applied on the PF; CHECK passes; DEL resets it', async () => {
    const nic = nics[0]!;
    await moveNetdevsimNic(nic, NODE_NS);
    const c = conf(nic.deviceIds[1]!, { vlan: 100, mac: '02:00:00:00:60:01', spoofchk: 'off', trust: 'on' });
    const add = cni('ADD', c);
    expect(add.code, JSON.stringify(add.out)).toBe(0);
    expect(add.out.interfaces).toEqual([{ name: 'net1', mac: '02:00:00:00:60:01', sandbox: `/run/netns/${POD_NS}` }]);
    const net1 = ipj(POD_NS, ['addr', 'show', 'net1'])[0]!;
    expect(net1.phys_port_name).toBe('pf0vf1');
    expect(net1.address).toBe('02:00:00:00:60:01');
    expect(net1.addr_info?.[0]?.local).toMatch(/^198\.18\.60\./);
    const vf1 = ipj(NODE_NS, ['link', 'show', nic.pf])[0]!.vfinfo_list!.find((v) => v.vf === 1)!;
    expect(vf1).toMatchObject({ address: '02:00:00:00:60:01', spoofchk: false, trust: true });
    expect(vf1.vlan_list?.[0]?.vlan).toBe(100);
    expect(ipj(NODE_NS, ['link', 'show']).some((l) => l.ifname === nic.representors[1])).toBe(false);

    expect(cni('CHECK', { ...c, prevResult: add.out }).code).toBe(0);
    // The same VF cannot go to a second pod.
    const second = cni('ADD', c, POD_NS, 'net2');
    expect(second.code).toBe(1);
    expect(String(second.out.msg)).toContain('already in the pod as net1');

    expect(cni('DEL', c).code).toBe(0);
    expect(ipj(POD_NS, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    const back = ipj(NODE_NS, ['link', 'show', nic.representors[1]!])[0]!;
    expect(back.phys_port_name).toBe('pf0vf1');
    const reset = ipj(NODE_NS, ['link', 'show', nic.pf])[0]!.vfinfo_list!.find((v) => v.vf === 1)!;
    expect(reset).toMatchObject({ address: '00:00:00:00:00:00', spoofchk: true, trust: false });
    expect(reset.vlan_list?.[0]?.vlan ?? 0).toBe(0);
    // DEL again is a no-op that succeeds.
    expect(cni('DEL', c).code).toBe(0);
  });

  it('DEL brings the VF back when the pod namespace is already gone', () => {
    const nic = nics[0]!;
    const c = conf(nic.deviceIds[2]!);
    expect(cni('ADD', c).code).toBe(0);
    execFileSync('ip', ['netns', 'del', POD_NS]);
    try {
      expect(cni('DEL', c).code).toBe(0);
      expect(ipj(NODE_NS, ['link', 'show', nic.representors[2]!])[0]!.phys_port_name).toBe('pf0vf2');
    } finally {
      execFileSync('ip', ['netns', 'add', POD_NS]);
    }
  });

  it('rejects a config without deviceID or with bad VF settings, leaving the VF untouched', async () => {
    const nic = nics[0]!;
    const none = cni('ADD', { cniVersion: '1.0.0', name: 'sriov-net', type: 'sriov' });
    expect(none).toMatchObject({ code: 1, out: { code: 7 } });
    expect(String(none.out.msg)).toContain('no deviceID');
    const badVlan = cni('ADD', conf(nic.deviceIds[3]!, { vlan: 5000 }));
    expect(badVlan).toMatchObject({ code: 1, out: { code: 7 } });
    expect(ipj(NODE_NS, ['link', 'show', nic.representors[3]!])).toHaveLength(1);
    const version = cni('VERSION', {});
    expect(version.out.supportedVersions).toEqual(['1.0.0', '1.1.0']);
  });
});
