// Capability probes (can this kernel run @ipvlan / @vlan / @netdevsim scenarios?) and the routing
// decision of `multus-e2e run`: which scenarios run on the host, which in the vm provider, and which are
// skipped with a reason. The probes use a throw-away network namespace (unshare -n), so they leave nothing behind.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { pluginArgument, type PluginUnderTest } from '../clusters/provider.ts';

const execFileAsync = promisify(execFile);

export type Capability = 'ipvlan' | 'vlan' | 'netdevsim';
export const CAPABILITIES: readonly Capability[] = ['ipvlan', 'vlan', 'netdevsim'];
export const capabilityTag = (cap: Capability): string => `@${cap}`;

export type Availability = { ok: true } | { ok: false; reason: string };

/** Creates a link inside a private network namespace that vanishes with the process. */
async function canCreateLinkInThrowawayNetns(script: string, what: string): Promise<Availability> {
  if (process.platform !== 'linux') return { ok: false, reason: `${what} needs Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: `${what} probe needs root` };
  try {
    await execFileAsync('unshare', ['--net', 'sh', '-ec', script], { timeout: 10_000 });
    return { ok: true };
  } catch (err) {
    const stderr = ((err as { stderr?: string }).stderr ?? '').trim().split('\n').pop() ?? '';
    return { ok: false, reason: `this kernel cannot create ${what}${stderr ? ` (${stderr})` : ''}` };
  }
}

const VETH = 'ip link add cap0 type veth peer name cap1';

export async function probeCapability(cap: Capability): Promise<Availability> {
  switch (cap) {
    case 'ipvlan':
      return canCreateLinkInThrowawayNetns(`${VETH}; ip link add link cap0 name cap2 type ipvlan mode l2`, 'an ipvlan link');
    case 'vlan':
      return canCreateLinkInThrowawayNetns(`${VETH}; ip link add link cap0 name cap0.10 type vlan id 10`, 'an 802.1Q vlan link (8021q)');
    case 'netdevsim':
      return existsSync('/sys/bus/netdevsim/new_device')
        ? { ok: true }
        : { ok: false, reason: 'this kernel has no netdevsim (/sys/bus/netdevsim is missing)' };
  }
}

export type CapabilityReport = Record<Capability, Availability>;

export async function probeCapabilities(): Promise<CapabilityReport> {
  const entries = await Promise.all(CAPABILITIES.map(async (cap) => [cap, await probeCapability(cap)] as const));
  return Object.fromEntries(entries) as CapabilityReport;
}

export interface RoutingInput {
  /** The user's tag expression, if any. */
  tags?: string;
  provider: 'local' | 'vm' | 'kind';
  capabilities: CapabilityReport;
  /** Whether the vm provider can be used (false with the reason, e.g. --no-vm). */
  vm: Availability;
}

export interface RunPlan {
  /** Tag expression of the run on this host. */
  hostTags: string | undefined;
  /** Tag expression of the run inside the vm, when any scenario goes there. */
  vmTags: string | undefined;
  /** Tag → why scenarios carrying it are skipped on the host run (printed by the Before hook). */
  skipReasons: Record<string, string>;
}

const and = (a: string | undefined, b: string): string => (a ? `(${a}) and (${b})` : b);

/** Decides where capability-tagged scenarios run; pure, so the decision is unit-tested. */
export function planRun(input: RoutingInput): RunPlan {
  const routed = input.provider === 'vm'
    ? [...CAPABILITIES]
    : CAPABILITIES.filter((cap) => !input.capabilities[cap].ok);
  if (routed.length === 0) return { hostTags: input.tags, vmTags: undefined, skipReasons: {} };
  const anyRouted = routed.map(capabilityTag).join(' or ');
  if (input.vm.ok) {
    return { hostTags: and(input.tags, `not (${anyRouted})`), vmTags: and(input.tags, anyRouted), skipReasons: {} };
  }
  const vmReason = input.vm.reason;
  const skipReasons: Record<string, string> = {};
  for (const cap of routed) {
    const probe = input.capabilities[cap];
    const hostPart = input.provider === 'vm' ? '--provider vm sends it to the vm' : probe.ok ? 'host has it' : probe.reason;
    skipReasons[capabilityTag(cap)] = `needs ${cap}: ${hostPart}, and the vm provider is unavailable: ${vmReason}`;
  }
  return { hostTags: input.tags, vmTags: undefined, skipReasons };
}

/** Why a scenario with these tags must be skipped in this run, or undefined when it may run. */
export function skipReasonFor(tags: readonly string[], skipReasons: Record<string, string>, provider: string): string | undefined {
  for (const tag of tags) {
    const reason = skipReasons[tag];
    if (reason) return reason;
  }
  if (tags.includes('@kind') && provider !== 'kind') return `@kind scenario: needs the kind provider (this run uses ${provider})`;
  return undefined;
}

/** Tag of the scenarios that stop and start a thick plugin's per-node daemon. */
export const THICK_TAG = '@extended:thick';

export interface RunRequirements {
  /** The plugin under test, as the run state names it. */
  plugin: PluginUnderTest;
  provider: string;
  /** Whether the provider's Cluster can stop and start the plugin's daemon (Cluster.stopPluginDaemon). */
  canControlPluginDaemon: boolean;
  /** Whether the provider's Cluster can inject faults into its API server and node runtimes (Cluster.faults). */
  canInjectFaults?: boolean;
  /**
   * Whether the runtime records CNI calls itself, so a call is recorded even when the plugin's binary is
   * missing. On kind the recorder is installed as the plugin's binary, and goes when the binary does.
   */
  recordsCallsWithoutPlugin?: boolean;
}

/** Tag of the scenarios that remove the plugin's binary from a node and still judge the runtime's CNI calls. */
export const PLUGIN_REMOVAL_TAG = '@plugin-removal';

/** Tag of the scenarios that stop the API server, tear sandboxes down or restart nodes (Cluster.faults). */
export const FAULT_INJECTION_TAG = '@fault-injection';

/** Why a scenario needing what this run lacks (fault injection; a thick plugin whose daemon the provider controls) is skipped, or undefined. */
export function requirementSkipReason(tags: readonly string[], run: RunRequirements): string | undefined {
  if (tags.includes(FAULT_INJECTION_TAG) && !run.canInjectFaults) {
    return `${FAULT_INJECTION_TAG} scenario: the ${run.provider} provider cannot stop its API server, tear down a sandbox or restart a node`;
  }
  if (tags.includes(PLUGIN_REMOVAL_TAG) && !run.recordsCallsWithoutPlugin) {
    return `${PLUGIN_REMOVAL_TAG} scenario: the ${run.provider} provider records CNI calls in a wrapper installed as the plugin's binary, so a removed plugin leaves no call to judge`;
  }
  if (!tags.includes(THICK_TAG)) return undefined;
  if (run.plugin.kind !== 'thick') {
    return `${THICK_TAG} scenario: needs a thick plugin (a per-node daemon and its shim); the plugin under test is ${pluginArgument(run.plugin)}`;
  }
  if (!run.canControlPluginDaemon) return `${THICK_TAG} scenario: the ${run.provider} provider cannot stop and start the plugin's daemon on a node`;
  return undefined;
}
