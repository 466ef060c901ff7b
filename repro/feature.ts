// From a repro to a regression scenario: a Gherkin scenario in the suite's own sentences (steps/*.steps.ts),
// with the networks read from the NADs, each pod's annotation, and the outcome observed or expected. A
// shape no sentence says exactly (an unusual CNI config, annotation key or Multus setting) falls back to
// the generic step that applies the repro's manifests as they are, with a note saying why.
import { isDeepStrictEqual } from 'node:util';
import {
  DEFAULT_NETWORK_ANNOTATION, NETWORKS_ANNOTATION, RESOURCE_NAME_ANNOTATION, bridgeConfig, hostLocalIpam, ipvlanConfig, macvlanConfig, macvlanTuningConflist,
  parseNetworkList, staticMacvlanConflist, vlanConfig, type CniConfig, type NetworkSelection,
} from '../fixtures/templates.ts';
import { manifestsOf, podSpecOf, type Manifest, type ReproInput } from './manifests.ts';
import type { PodObservation } from './observe.ts';

export const NETDEVSIM_RESOURCE = 'netdevsim.io/vf';

/** What the scenario asserts about a pod: it runs (with its networks), or it does not start (optionally naming a text). */
export type Expectation = { running: true } | { running: false; names?: string };

export function parseExpectation(value: string): Expectation {
  if (value === 'running') return { running: true };
  if (value === 'not-running') return { running: false };
  if (value.startsWith('not-running:') && value.length > 'not-running:'.length) return { running: false, names: value.slice('not-running:'.length) };
  throw new Error(`--expect must be running, not-running or not-running:TEXT (a text the reason must name), got "${value}"`);
}

export interface FeatureOptions {
  /** Scenario title; default from the repro's directory name. */
  title: string;
  /** Path of the repro (relative to the repository), for the generic step and the feature's description. */
  reproPath: string;
  /** Level tag without "@" (core, quality, extended:<feature>); default derived from what the repro uses. */
  level?: string;
  /** Per pod (by name) the outcome to assert; default the one observed. */
  expect?: Expectation;
  observations?: readonly PodObservation[];
}

export interface GeneratedFeature {
  text: string;
  /** Why the generic step was used, or what the scenario does not carry over; empty when fully expressed. */
  notes: string[];
  tags: string[];
}

type Sentence = { given: string[]; kernelTag?: string } | { fallback: string };

function configOf(m: Manifest): CniConfig | undefined {
  const text = (m.object as { spec?: { config?: string } }).spec?.config;
  return text && text.trim() !== '' ? (JSON.parse(text) as CniConfig) : undefined;
}

const subnetOf = (c: CniConfig): string | undefined => {
  const ranges = (c.ipam as { ranges?: { subnet?: string }[][] } | undefined)?.ranges;
  return ranges?.[0]?.[0]?.subnet;
};

/** Equal up to cniVersion (the templates write 1.0.0; the reporter's version is noted, not asserted). */
function sameConfig(actual: CniConfig, template: CniConfig): boolean {
  const { cniVersion: _a, ...a } = actual;
  const { cniVersion: _t, ...t } = template;
  return isDeepStrictEqual(a, t);
}

/** The Given sentence that creates exactly this NAD, or why none does. */
function nadSentence(m: Manifest, home: string, input: ReproInput): Sentence {
  const name = m.object.metadata.name;
  const ns = m.object.metadata.namespace ?? 'default';
  const annotations = m.object.metadata.annotations ?? {};
  const c = configOf(m);
  const inHome = ns === home;
  const resource = annotations[RESOURCE_NAME_ANNOTATION];
  const otherAnnotations = Object.keys(annotations).filter((k) => k !== RESOURCE_NAME_ANNOTATION && !k.startsWith('kubectl.kubernetes.io/'));
  if (otherAnnotations.length > 0) return { fallback: `NAD "${name}" carries annotations no sentence sets (${otherAnnotations.join(', ')})` };
  if (!c) {
    const file = Object.entries(input.nodeCniConfigs).find(([, text]) => (JSON.parse(text) as CniConfig).name === name);
    const fc = file ? (JSON.parse(file[1]) as CniConfig) : undefined;
    const fsub = fc ? subnetOf(fc) : undefined;
    if (!inHome || !fc || !fsub || typeof fc.master !== 'string' || !sameConfig(fc, macvlanConfig(name, fc.master, fsub)) || file?.[0] !== `${name}.conf`) {
      return { fallback: `NAD "${name}" has no config and its node-local config is not a plain macvlan file ${name}.conf` };
    }
    return { given: [`every node has a macvlan network "${name}" on master ${fc.master} with subnet ${fsub} in its Multus config directory`, `a network "${name}" whose configuration comes from the nodes`] };
  }
  const subnet = subnetOf(c);
  const master = typeof c.master === 'string' ? c.master : undefined;
  if (resource === NETDEVSIM_RESOURCE) {
    if (inHome && subnet && sameConfig(c, { cniVersion: '', name, type: 'sriov', ipam: hostLocalIpam(subnet) })) {
      return { given: [`an emulated SR-IOV network "${name}" with subnet ${subnet}`], kernelTag: '@netdevsim' };
    }
    return { fallback: `NAD "${name}" (SR-IOV) has settings beyond a subnet` };
  }
  if (resource !== undefined) return { fallback: `NAD "${name}" asks for resource ${resource}; this suite's nodes offer only ${NETDEVSIM_RESOURCE}` };
  if (c.type === 'macvlan' && master && subnet && sameConfig(c, macvlanConfig(name, master, subnet))) {
    return { given: [inHome ? `a macvlan network "${name}" on master ${master} with subnet ${subnet}` : `a macvlan network "${name}" in namespace "${ns}" on master ${master} with subnet ${subnet}`] };
  }
  if (!inHome) return { fallback: `NAD "${name}" lives in namespace ${ns}, and only a plain macvlan network has a sentence for that` };
  if (c.type === 'bridge' && subnet && sameConfig(c, bridgeConfig(name, subnet))) return { given: [`a bridge network "${name}" with subnet ${subnet}`] };
  if (c.type === 'ipvlan' && master && subnet && (c.mode === 'l2' || c.mode === 'l3' || c.mode === 'l3s') && sameConfig(c, ipvlanConfig(name, master, c.mode, subnet))) {
    return { given: [`an ipvlan network "${name}" in ${c.mode} mode on master ${master} with subnet ${subnet}`], kernelTag: '@ipvlan' };
  }
  if (c.type === 'vlan' && master && subnet && typeof c.vlanId === 'number' && sameConfig(c, vlanConfig(name, master, c.vlanId, subnet))) {
    return { given: [`a vlan network "${name}" with VLAN id ${c.vlanId} on master ${master} with subnet ${subnet}`], kernelTag: '@vlan' };
  }
  const plugins = Array.isArray(c.plugins) ? (c.plugins as CniConfig[]) : undefined;
  const first = plugins?.[0];
  const pm = typeof first?.master === 'string' ? first.master : undefined;
  const psub = first ? subnetOf(first) : undefined;
  const mtu = (plugins?.[1] as { mtu?: unknown } | undefined)?.mtu;
  if (pm && psub && typeof mtu === 'number' && sameConfig(c, macvlanTuningConflist(name, pm, psub, mtu))) {
    return { given: [`a macvlan network "${name}" on master ${pm} with subnet ${psub}, tuned to MTU ${mtu}`] };
  }
  if (pm && sameConfig(c, staticMacvlanConflist(name, pm))) return { given: [`a macvlan network "${name}" on master ${pm} whose addresses and MAC each pod chooses`] };
  return { fallback: `NAD "${name}" (${String(c.type ?? 'configlist')}) is not a shape the suite's network sentences create` };
}

const TABLE_KEYS = ['name', 'namespace', 'interface', 'ips', 'mac', 'default-route'] as const;

interface PodPlan {
  name: string;
  node: string;
  /** The "attached to …" / "with networks:" part, or the generic one. */
  attach: { kind: 'comma'; list: string } | { kind: 'table'; rows: NetworkSelection[] } | { kind: 'none' } | { kind: 'default'; network: string };
  vfs?: number;
  selections: NetworkSelection[];
}

function podPlan(m: Manifest, nodeOf: (pod: string) => string): PodPlan | { fallback: string } {
  const name = m.object.metadata.name;
  const annotations = m.object.metadata.annotations ?? {};
  const spec = podSpecOf(m);
  const resources = spec.containers.flatMap((c) => Object.entries({ ...c.resources?.requests, ...c.resources?.limits }));
  const others = resources.filter(([k]) => k !== NETDEVSIM_RESOURCE && k !== 'cpu' && k !== 'memory');
  if (others.length > 0) return { fallback: `pod "${name}" asks for ${others.map(([k]) => k).join(', ')}, which the suite's nodes do not offer` };
  const vfText = resources.find(([k]) => k === NETDEVSIM_RESOURCE)?.[1];
  const vfs = vfText !== undefined ? Number(vfText) : undefined;
  const networks = annotations[NETWORKS_ANNOTATION];
  const defaultNetwork = annotations[DEFAULT_NETWORK_ANNOTATION];
  const node = nodeOf(name);
  const base = { name, node, ...(vfs !== undefined ? { vfs } : {}) };
  if (defaultNetwork !== undefined) {
    if (networks !== undefined || vfs !== undefined) return { fallback: `pod "${name}" sets both ${DEFAULT_NETWORK_ANNOTATION} and more` };
    return { ...base, attach: { kind: 'default', network: defaultNetwork }, selections: [] };
  }
  if (networks === undefined || networks.trim() === '') {
    return vfs !== undefined ? { fallback: `pod "${name}" asks for VFs but no network` } : { ...base, attach: { kind: 'none' }, selections: [] };
  }
  if (networks.trim().startsWith('[')) {
    let rows: NetworkSelection[];
    try {
      rows = JSON.parse(networks) as NetworkSelection[];
    } catch {
      return { fallback: `pod "${name}"'s networks annotation is not JSON` };
    }
    const extra = rows.flatMap((r) => Object.keys(r).filter((k) => !(TABLE_KEYS as readonly string[]).includes(k)));
    if (extra.length > 0) return { fallback: `pod "${name}"'s networks annotation uses ${[...new Set(extra)].join(', ')}, which the networks table has no column for` };
    if (vfs !== undefined) return { fallback: `pod "${name}" asks for VFs with a JSON networks annotation` };
    return { ...base, attach: { kind: 'table', rows }, selections: rows };
  }
  return { ...base, attach: { kind: 'comma', list: networks.split(',').map((s) => s.trim()).join(', ') }, selections: parseNetworkList(networks) };
}

function tableText(rows: NetworkSelection[]): string[] {
  const cols = TABLE_KEYS.filter((k) => rows.some((r) => r[k] !== undefined));
  const cell = (r: NetworkSelection, k: (typeof TABLE_KEYS)[number]) => {
    const v = r[k];
    return Array.isArray(v) ? v.join(', ') : (v ?? '');
  };
  const widths = cols.map((k) => Math.max(k.length, ...rows.map((r) => cell(r, k).length)));
  const line = (cells: string[]) => `      | ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line([...cols]), ...rows.map((r) => line(cols.map((k) => cell(r, k))))];
}

/** The sentence that creates the pod: "starts" when it is asserted to run, "is created" when it is not. */
function whenSentence(p: PodPlan, running: boolean): string[] {
  const verb = running ? 'starts' : 'is created';
  switch (p.attach.kind) {
    case 'comma':
      if (p.vfs !== undefined) return [running ? `pod "${p.name}" starts on ${p.node} with ${p.vfs} VF${p.vfs === 1 ? '' : 's'} attached to "${p.attach.list}"` : `pod "${p.name}" is created asking for ${p.vfs} VFs attached to "${p.attach.list}"`];
      return [`pod "${p.name}" ${verb} on ${p.node} attached to "${p.attach.list}"`];
    case 'table':
      return [`pod "${p.name}" ${verb} on ${p.node} with networks:`, ...tableText(p.attach.rows)];
    case 'none':
      return [`pod "${p.name}" ${verb} on ${p.node} with no additional networks`];
    case 'default':
      return [`pod "${p.name}" starts on ${p.node} with "${p.attach.network}" as its default network`];
  }
}

/** Interface names by position (net1, net2, …) unless the selection names one (multi-network spec v1.3 §4.1.2.1.5). */
function interfacesOf(selections: readonly NetworkSelection[]): string[] {
  return selections.map((s, i) => s.interface ?? `net${i + 1}`);
}

function thenSentences(p: PodPlan, subnets: Map<string, string>, home: string): string[] {
  const out: string[] = [];
  const ifaces = interfacesOf(p.selections);
  p.selections.forEach((s, i) => {
    const ref = s.namespace && s.namespace !== home ? `${s.namespace}/${s.name}` : s.name;
    const subnet = subnets.get(ref);
    if (p.vfs !== undefined && i === 0) out.push(`pod "${p.name}" has interface ${ifaces[i]} on an allocated VF of ${p.node}`);
    if (s.ips?.[0] && s.mac) out.push(`pod "${p.name}" has interface ${ifaces[i]} with IP ${s.ips[0].split('/')[0]} and MAC ${s.mac}`);
    else if (subnet) out.push(`pod "${p.name}" has interface ${ifaces[i]} with an IP in ${subnet}`);
    const gw = s['default-route']?.[0];
    if (gw) out.push(`pod "${p.name}" sends its default traffic via ${gw} on ${ifaces[i]}`);
  });
  if (p.selections.length > 0) {
    const rows = [['interface', 'network', 'default'], ['eth0', '(cluster network)', 'yes'],
      ...p.selections.map((s, i) => [ifaces[i]!, s.namespace && s.namespace !== home ? `${s.namespace}/${s.name}` : s.name, 'no'])];
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    out.push(`the network-status of pod "${p.name}" lists, in order, with the addresses the kernel shows:`,
      ...rows.map((r) => `      | ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`));
  }
  if (p.vfs !== undefined) {
    // A VF goes back to the node rather than away: the SR-IOV sentences check it is reset and free again.
    out.push(`the network-status of pod "${p.name}" carries the device-info of its VF`);
    out.push(`WHEN pod "${p.name}" is deleted`, `the VF of pod "${p.name}" is reset and back in ${p.node}'s pool`);
  } else {
    out.push(`deleting pod "${p.name}" leaves no interfaces, addresses or IPAM allocations behind`);
  }
  return out;
}

/** The level a scenario of this repro has unless told: the optional features it uses, else core. */
function derivedLevel(plans: readonly PodPlan[]): string {
  if (plans.some((p) => p.vfs !== undefined)) return 'extended:device-info';
  if (plans.some((p) => p.selections.some((s) => s['default-route'] !== undefined))) return 'extended:default-route';
  return 'core';
}

/** Sentences under one keyword, "And" after the first; a sentence marked "WHEN " switches to When, the next to Then. */
function indentSteps(keyword: 'Given' | 'When' | 'Then', lines: string[][]): string[] {
  let previous: string | undefined;
  return lines.flatMap((sentence) => {
    const [first = '', ...rest] = sentence;
    const own = first.startsWith('WHEN ') ? 'When' : previous === 'When' && keyword === 'Then' ? 'Then' : keyword;
    const text = first.replace(/^WHEN /, '');
    const word = own === previous ? 'And' : own;
    previous = own;
    return [`    ${word} ${text}`, ...rest];
  });
}

export function generateFeature(input: ReproInput, opts: FeatureOptions): GeneratedFeature {
  const notes: string[] = [];
  const pods = manifestsOf(input, 'Pod');
  const homes = [...new Set(pods.map((m) => m.object.metadata.namespace ?? 'default'))];
  const home = homes[0] ?? 'default';
  if (homes.length > 1) notes.push(`pods live in several namespaces (${homes.join(', ')})`);
  if (input.multusSettings) notes.push('the repro sets Multus settings (multus-config.json), which no sentence carries over');
  if (input.daemonConfig) notes.push('the repro sets a daemon config (daemon-config.json), which no sentence carries over');
  if (manifestsOf(input, 'ConfigMap').length + manifestsOf(input, 'Secret').length > 0) notes.push('the repro has ConfigMaps or Secrets, which no sentence creates');
  const nodeNames = new Map((opts.observations ?? []).map((o) => [o.name, o.node]));
  const nodeOf = (pod: string) => {
    const observed = nodeNames.get(pod);
    return observed && /^node-\d+$/.test(observed) ? observed : 'node-1';
  };
  const kernelTags = new Set<string>();
  const given: string[][] = [];
  for (const ns of manifestsOf(input, 'Namespace').map((m) => m.object.metadata.name).filter((n) => n !== home)) given.push([`a namespace "${ns}"`]);
  const extraNs = new Set(input.manifests.map((m) => m.object.metadata.namespace).filter((n): n is string => n !== undefined && n !== home));
  for (const ns of extraNs) if (!given.some((g) => g[0] === `a namespace "${ns}"`)) given.push([`a namespace "${ns}"`]);
  const subnets = new Map<string, string>();
  if (input.nodeNeeds['netdevsim VFs'] !== undefined) given.unshift([`every node offers ${input.nodeNeeds['netdevsim VFs']} emulated SR-IOV VFs as netdevsim.io/vf`]);
  for (const m of manifestsOf(input, 'NetworkAttachmentDefinition')) {
    const s = nadSentence(m, home, input);
    if ('fallback' in s) {
      notes.push(s.fallback);
      continue;
    }
    given.push(...s.given.map((g) => [g]));
    if (s.kernelTag) kernelTags.add(s.kernelTag);
    const c = configOf(m);
    const subnet = c ? subnetOf(c) ?? subnetOf(((c.plugins as CniConfig[] | undefined) ?? [])[0] ?? {}) : undefined;
    const ns = m.object.metadata.namespace ?? 'default';
    if (subnet) subnets.set(ns === home ? m.object.metadata.name : `${ns}/${m.object.metadata.name}`, subnet);
  }
  const plans: PodPlan[] = [];
  for (const m of pods) {
    const p = podPlan(m, nodeOf);
    if ('fallback' in p) notes.push(p.fallback);
    else plans.push(p);
  }
  const observedRunning = (pod: string) => opts.observations?.find((o) => o.name === pod)?.running;
  const expectFor = (pod: string): Expectation => opts.expect ?? (observedRunning(pod) === false ? { running: false } : { running: true });
  const level = opts.level ?? derivedLevel(plans);
  const tags = ['@repro', ...(input.nodeNeeds['netdevsim VFs'] !== undefined ? ['@netdevsim'] : []), ...kernelTags, `@${level}`];
  const uniqueTags = [...new Set(tags)];
  const header = [
    uniqueTags.join(' '),
    `Feature: Regression: ${opts.title}`,
    `  Generated by \`multus-e2e repro ${opts.reproPath} --to-feature\` from the manifests in ${opts.reproPath}.`,
  ];
  const scenario: string[] = [`  Scenario: ${opts.title}`];
  if (notes.length > 0) {
    // The generic step applies the repro as it is; the outcome sentences still say what must hold.
    header.push('  The repro\'s objects are applied as they are (the generic step), because:', ...notes.map((n) => `    - ${n}`));
    scenario.push(`    When the manifests of the repro "${opts.reproPath}" are applied`);
    const then = pods.map((m) => {
      const name = m.object.metadata.name;
      const e = expectFor(name);
      return e.running ? [`pod "${name}" is running`] : [e.names ? `pod "${name}" does not start, and the reason given names "${e.names}"` : `pod "${name}" does not start`];
    });
    scenario.push(...indentSteps('Then', then));
  } else {
    scenario.push(...indentSteps('Given', given));
    scenario.push(...indentSteps('When', plans.map((p) => whenSentence(p, expectFor(p.name).running))));
    const then = plans.flatMap((p) => {
      const e = expectFor(p.name);
      if (e.running) return thenSentences(p, subnets, home).reduce<string[][]>((acc, line) => {
        if (line.startsWith('      |')) acc[acc.length - 1]!.push(line);
        else acc.push([line]);
        return acc;
      }, []);
      return [[e.names ? `pod "${p.name}" does not start, and the reason given names "${e.names}"` : `pod "${p.name}" does not start`]];
    });
    scenario.push(...indentSteps('Then', then));
  }
  return { text: `${[...header, '', ...scenario].join('\n')}\n`, notes, tags: uniqueTags };
}
