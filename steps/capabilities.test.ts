import { execFileSync } from 'node:child_process';
import TagExpressionParser from '@cucumber/tag-expressions';
import { describe, expect, it } from 'vitest';
import { planRun, probeCapability, requirementSkipReason, skipReasonFor, type CapabilityReport } from './capabilities.ts';

const hostLacks: CapabilityReport = {
  ipvlan: { ok: false, reason: 'this kernel cannot create an ipvlan link' },
  vlan: { ok: false, reason: 'this kernel cannot create an 802.1Q vlan link (8021q)' },
  netdevsim: { ok: true },
};
const hostHasAll: CapabilityReport = { ipvlan: { ok: true }, vlan: { ok: true }, netdevsim: { ok: true } };

/** Which of these scenarios (by tags) an expression selects; undefined selects all. */
function selects(expr: string | undefined, scenarios: Record<string, string[]>): string[] {
  const node = expr ? TagExpressionParser(expr) : undefined;
  return Object.entries(scenarios).filter(([, tags]) => !node || node.evaluate(tags)).map(([name]) => name);
}
const scenarios = { plain: ['@macvlan'], ipvlan: ['@ipvlan'], vlan: ['@vlan'], sriov: ['@netdevsim', '@sriov'], kind: ['@kind'] };

describe('planRun', () => {
  it('runs everything on the host when the kernel has every capability', () => {
    const plan = planRun({ provider: 'local', capabilities: hostHasAll, vm: { ok: true } });
    expect(plan).toEqual({ hostTags: undefined, vmTags: undefined, skipReasons: {} });
  });

  it('sends scenarios needing what the host lacks to the vm and keeps the rest on the host', () => {
    const plan = planRun({ provider: 'local', capabilities: hostLacks, vm: { ok: true } });
    expect(selects(plan.hostTags, scenarios)).toEqual(['plain', 'sriov', 'kind']);
    expect(selects(plan.vmTags, scenarios)).toEqual(['ipvlan', 'vlan']);
    expect(plan.skipReasons).toEqual({});
  });

  it('keeps the user tag expression on both sides', () => {
    const plan = planRun({ tags: 'not @vlan', provider: 'local', capabilities: hostLacks, vm: { ok: true } });
    expect(selects(plan.hostTags, scenarios)).toEqual(['plain', 'sriov', 'kind']);
    expect(selects(plan.vmTags, scenarios)).toEqual(['ipvlan']);
  });

  it('with --provider vm sends every capability-tagged scenario to the vm, even ones the host could run', () => {
    const plan = planRun({ provider: 'vm', capabilities: hostHasAll, vm: { ok: true } });
    expect(selects(plan.hostTags, scenarios)).toEqual(['plain', 'kind']);
    expect(selects(plan.vmTags, scenarios)).toEqual(['ipvlan', 'vlan', 'sriov']);
  });

  it('without a vm keeps them on the host with a skip reason naming both the kernel and the vm', () => {
    const plan = planRun({ provider: 'local', capabilities: hostLacks, vm: { ok: false, reason: '--no-vm was given' } });
    expect(plan.vmTags).toBeUndefined();
    expect(selects(plan.hostTags, scenarios)).toEqual(Object.keys(scenarios));
    expect(Object.keys(plan.skipReasons)).toEqual(['@ipvlan', '@vlan']);
    expect(plan.skipReasons['@ipvlan']).toBe('needs ipvlan: this kernel cannot create an ipvlan link, and the vm provider is unavailable: --no-vm was given');
  });
});

describe('skipReasonFor', () => {
  it('names the reason for a routed-away tag, skips @kind off kind, and lets the rest run', () => {
    const reasons = { '@ipvlan': 'needs ipvlan: …' };
    expect(skipReasonFor(['@ipvlan', '@l2'], reasons, 'local')).toBe('needs ipvlan: …');
    expect(skipReasonFor(['@kind'], reasons, 'local')).toMatch(/needs the kind provider \(this run uses local\)/);
    expect(skipReasonFor(['@kind'], reasons, 'kind')).toBeUndefined();
    expect(skipReasonFor(['@macvlan'], reasons, 'local')).toBeUndefined();
  });
});

describe('requirementSkipReason', () => {
  const thick = { kind: 'thick', shim: '/x/multus-shim', daemon: '/x/multus-daemon' } as const;
  it('skips @extended:thick with a thin plugin or a provider that cannot stop the daemon, naming which', () => {
    expect(requirementSkipReason(['@extended:thick'], { plugin: { kind: 'bundled' }, provider: 'local', canControlPluginDaemon: true }))
      .toBe('@extended:thick scenario: needs a thick plugin (a per-node daemon and its shim); the plugin under test is bundled');
    expect(requirementSkipReason(['@extended:thick'], { plugin: { kind: 'thin', path: '/x/multus' }, provider: 'local', canControlPluginDaemon: true }))
      .toMatch(/the plugin under test is thin:\/x\/multus$/);
    expect(requirementSkipReason(['@extended:thick'], { plugin: thick, provider: 'kind', canControlPluginDaemon: false }))
      .toBe("@extended:thick scenario: the kind provider cannot stop and start the plugin's daemon on a node");
  });
  it('lets a thick scenario run when both hold, and never skips other scenarios', () => {
    expect(requirementSkipReason(['@extended:thick'], { plugin: thick, provider: 'local', canControlPluginDaemon: true })).toBeUndefined();
    expect(requirementSkipReason(['@core'], { plugin: { kind: 'bundled' }, provider: 'kind', canControlPluginDaemon: false })).toBeUndefined();
  });
  it('skips @fault-injection scenarios on a provider that cannot inject faults, naming it, and runs them where it can', () => {
    expect(requirementSkipReason(['@quality', '@fault-injection'], { plugin: { kind: 'bundled' }, provider: 'kind', canControlPluginDaemon: false }))
      .toBe('@fault-injection scenario: the kind provider cannot stop its API server, tear down a sandbox or restart a node');
    expect(requirementSkipReason(['@fault-injection'], { plugin: { kind: 'bundled' }, provider: 'local', canControlPluginDaemon: false, canInjectFaults: true })).toBeUndefined();
  });
  it('skips @plugin-removal scenarios where the call recorder is the plugin binary, naming why, and runs them where the runtime records calls', () => {
    expect(requirementSkipReason(['@quality', '@plugin-removal'], { plugin: { kind: 'bundled' }, provider: 'kind', canControlPluginDaemon: false, recordsCallsWithoutPlugin: false }))
      .toBe("@plugin-removal scenario: the kind provider records CNI calls in a wrapper installed as the plugin's binary, so a removed plugin leaves no call to judge");
    expect(requirementSkipReason(['@plugin-removal'], { plugin: { kind: 'bundled' }, provider: 'local', canControlPluginDaemon: false, recordsCallsWithoutPlugin: true })).toBeUndefined();
  });
});

describe('probeCapability (real kernel)', () => {
  const root = process.platform === 'linux' && process.getuid?.() === 0;
  it.skipIf(!root)('(needs root on Linux, skipped otherwise) agrees with what `ip link add … type ipvlan` does in a throw-away netns', async () => {
    let kernelCan = true;
    try {
      execFileSync('unshare', ['--net', 'sh', '-ec', 'ip link add v0 type veth peer name v1; ip link add link v0 name v2 type ipvlan mode l2'], { stdio: 'pipe' });
    } catch {
      kernelCan = false;
    }
    const probe = await probeCapability('ipvlan');
    expect(probe.ok).toBe(kernelCan);
    if (!probe.ok) expect(probe.reason).toMatch(/cannot create an ipvlan link/);
  });
});
