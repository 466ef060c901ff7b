// `certify` argument parsing (profiles, --plugin only with profile full, the cluster's work dir from
// --name, several --delegate/--config pairs, --provider) and where a certification runs (this host or the vm guest).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError, parseCommand } from './args.ts';
import { parseCertifyCommand, type CertifyCommand } from './certify-args.ts';
import { guestCertifyArgs, guestShares, placeCertify } from './certify.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const base = ['--delegate', '/usr/bin/env', '--config', 'fixtures/certify/macvlan.json'];

describe('certify arguments', () => {
  it('defaults to profile spec with the bundled plugin', () => {
    expect(parseCertifyCommand(base, ROOT)).toMatchObject({ kind: 'certify', profile: 'spec', plugin: { kind: 'bundled' }, name: 'certify', workDir: '/var/tmp/multus-e2e/certify' });
  });

  it('takes profile full with a plugin as run spells it, and its cluster after --name', () => {
    const cmd = parseCertifyCommand([...base, '--profile', 'full', '--plugin', 'bundled-thick', '--name', 'c1'], ROOT);
    expect(cmd).toMatchObject({ profile: 'full', plugin: { kind: 'thick' }, workDir: '/var/tmp/multus-e2e/c1' });
  });

  it('refuses --plugin without profile full, and unknown profiles', () => {
    expect(() => parseCertifyCommand([...base, '--plugin', 'bundled'], ROOT)).toThrow(/--plugin is for --profile full/);
    expect(() => parseCertifyCommand([...base, '--profile', 'kind'], ROOT)).toThrow(UsageError);
    expect(() => parseCertifyCommand([...base, '--profile', 'kind'], ROOT)).toThrow(/spec, full/);
  });
});

describe('certify arguments: several delegates and where they run', () => {
  const two = ['--delegate', '/usr/bin/env', '--config', 'fixtures/certify/ipvlan.json', '--delegate', '/usr/bin/true', '--config', 'fixtures/certify/vlan.json'];

  it('pairs --delegate with --config in order; each gets DIR/<file name> and NAME-N', () => {
    const cmd = parseCertifyCommand([...two, '--reports-dir', '/x/r', '--name', 'c'], ROOT);
    expect(cmd).toMatchObject({
      provider: 'auto',
      jobs: [
        { delegate: '/usr/bin/env', config: path.join(ROOT, 'fixtures/certify/ipvlan.json'), reportsDir: '/x/r/env', name: 'c-1' },
        { delegate: '/usr/bin/true', config: path.join(ROOT, 'fixtures/certify/vlan.json'), reportsDir: '/x/r/true', name: 'c-2' },
      ],
    });
    // One delegate keeps DIR and NAME as they are.
    expect(parseCertifyCommand([...base, '--reports-dir', '/x/r'], ROOT)).toMatchObject({ jobs: [{ reportsDir: '/x/r', name: 'certify' }] });
  });

  it('refuses unpaired options, two delegates of one file name, profile full with several, and vm with full', () => {
    expect(() => parseCertifyCommand([...two, '--delegate', '/usr/bin/env'], ROOT)).toThrow(/3 --delegate and 2 --config/);
    expect(() => parseCertifyCommand(['--delegate', '/usr/bin/env', '--config', 'fixtures/certify/ipvlan.json', '--delegate', '/bin/env', '--config', 'fixtures/certify/vlan.json'], ROOT))
      .toThrow(/two delegates have the file name env/);
    expect(() => parseCertifyCommand([...two, '--profile', 'full'], ROOT)).toThrow(/one delegate at a time/);
    expect(() => parseCertifyCommand([...base, '--provider', 'vm', '--profile', 'full'], ROOT)).toThrow(/profile spec only/);
    expect(() => parseCertifyCommand([...base, '--provider', 'kind'], ROOT)).toThrow(/auto, local, vm/);
    expect(() => parseCertifyCommand([...two, '--name', 'a'.repeat(29)], ROOT)).toThrow(/with -N added per delegate/);
  });

  it('gives the guest the arguments that certify the same delegates into the same directories, on its own kernel', () => {
    const cmd = parseCertifyCommand([...two, '--reports-dir', '/x/r', '--name', 'c', '--ipam-only'], ROOT) as CertifyCommand;
    const again = parseCommand(guestCertifyArgs(cmd), '/') as CertifyCommand;
    expect(again).toMatchObject({ provider: 'local', ipamOnly: true, profile: 'spec', jobs: cmd.jobs });
  });

  it('shares the directory of a delegate or config under /tmp or /run (the guest mounts its own), and refuses /tmp itself', () => {
    const cmd = parseCertifyCommand([...base, '--reports-dir', '/x/r'], ROOT) as CertifyCommand;
    // A config outside /tmp and /run (not the checkout's fixture: a checkout may itself live under /tmp).
    expect(guestShares({ ...cmd, jobs: [{ ...cmd.jobs[0]!, config: '/x/c/cfg.json' }] })).toEqual(['/x/r']);
    expect(guestShares({ ...cmd, jobs: [{ ...cmd.jobs[0]!, config: '/tmp/me/cfg.json', delegate: '/run/p/plugin' }] })).toEqual(['/x/r', '/run/p', '/tmp/me']);
    expect(() => guestShares({ ...cmd, jobs: [{ ...cmd.jobs[0]!, config: '/tmp/cfg.json' }] })).toThrow(/own \/tmp/);
  });
});

describe('where certify runs', () => {
  const gap = 'ipvlan: this kernel (6.18) cannot create ipvlan links';
  const vmOk = async () => ({ ok: true as const });
  const vmNo = async () => ({ ok: false as const, reason: 'vm image is cached but qemu-system-x86_64 is not on PATH (Debian package qemu-system-x86)' });

  it('stays on this host when its kernel has what the delegates need, without asking about the vm', async () => {
    let asked = false;
    expect(await placeCertify({ profile: 'spec', provider: 'auto', inVm: false, gaps: [], vm: async () => { asked = true; return { ok: true }; } })).toEqual({ where: 'local' });
    expect(asked).toBe(false);
  });

  it('goes to the vm guest when this kernel lacks a link kind, and says why', async () => {
    expect(await placeCertify({ profile: 'spec', provider: 'auto', inVm: false, gaps: [gap], vm: vmOk })).toEqual({ where: 'vm', why: gap });
    expect(await placeCertify({ profile: 'spec', provider: 'vm', inVm: false, gaps: [], vm: vmOk })).toEqual({ where: 'vm', why: '--provider vm' });
  });

  it('stops, naming the missing link kind and what the vm lacks, when the guest cannot run', async () => {
    const p = await placeCertify({ profile: 'spec', provider: 'auto', inVm: false, gaps: [gap], vm: vmNo });
    expect(p.where).toBe('nowhere');
    expect(p.where === 'nowhere' && p.error).toMatch(/cannot create ipvlan links.*qemu-system-x86_64 is not on PATH.*Nothing was certified/);
    expect(await placeCertify({ profile: 'spec', provider: 'vm', inVm: false, gaps: [], vm: vmNo })).toMatchObject({ where: 'nowhere', error: expect.stringMatching(/^--provider vm: the vm guest cannot run here: vm image/) });
    expect(await placeCertify({ profile: 'spec', provider: 'vm', inVm: true, gaps: [], vm: vmOk })).toMatchObject({ where: 'nowhere' });
    // Profile full's cluster is not brought up in the guest.
    expect(await placeCertify({ profile: 'full', provider: 'auto', inVm: false, gaps: [gap], vm: vmOk }))
      .toMatchObject({ where: 'nowhere', error: expect.stringMatching(/cannot create ipvlan links; profile full runs on this host only/) });
  });

  it('runs here with --provider local (or inside the guest) and warns that the requirements could not run', async () => {
    const local = await placeCertify({ profile: 'spec', provider: 'local', inVm: false, gaps: [gap], vm: vmOk });
    expect(local).toMatchObject({ where: 'local', warning: expect.stringMatching(/could not run.*without --provider local it is certified in the vm guest/) });
    const guest = await placeCertify({ profile: 'spec', provider: 'auto', inVm: true, gaps: [gap], vm: vmOk });
    expect(guest).toMatchObject({ where: 'local', warning: expect.not.stringMatching(/--provider local/) });
  });
});
