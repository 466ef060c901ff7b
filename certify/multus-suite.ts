// Part 2 of certification (profile full): the delegate as a Multus delegate. A one-node local cluster with
// the plugin under test, the delegate installed on the node as its type, its network as a
// NetworkAttachmentDefinition (the certification config with the placeholders filled for the cluster:
// master eth1, a /24 of 198.18.0.0/15, host-local state under /var/lib/cni/networks where the leak checks
// look), two pods on the node each attached to it twice (net1, net2); then what the kernel shows in the pods, the
// network-status annotation against it, traffic between the pods' net1 addresses, deletion leaving
// nothing (clusters/leak-checks.ts), and the delegate's ADD/DEL times from the CNI call records. An IPAM
// delegate (--ipam-only) is the IPAM of a macvlan network.
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { localProvider } from '../clusters/local/index.ts';
import { addressKeys, CNI_STATE_DIR, ipamAllocations, leftoversOnNode, readNodeLinks, readPodLinks } from '../clusters/leak-checks.ts';
import { createPodObject, kubeClients, NAD_GROUP, NAD_PLURAL, NAD_VERSION, waitForPodRunning, waitForPodsGone } from '../clusters/pod-lifecycle.ts';
import type { IpLink } from '../clusters/ip-state.ts';
import { pluginArgument, type Cluster, type CniCallRecord, type PluginUnderTest } from '../clusters/provider.ts';
import { commaNetworks, jsonNetworks, nad, NETWORK_STATUS_ANNOTATION, NETWORKS_ANNOTATION, pod, type NetworkSelection } from '../fixtures/templates.ts';
import { summarizeOp } from '../reports/latency.ts';
import { renderConfig, subnetValues, type CertifyConfig, type JsonObject, type PlaceholderValues } from './config.ts';
import { MULTUS_REQUIREMENTS } from './requirements.ts';
import { judged, type RequirementResult } from './results.ts';

export interface MultusSuiteOptions {
  delegate: string;
  config: CertifyConfig;
  ipamOnly: boolean;
  /** Cluster name (its netns, links and processes derive from it). */
  name: string;
  plugin: PluginUnderTest;
  workDir: string;
  progress: (line: string) => void;
}

export type DelegateLatency = Record<string, { n: number; p50: number; p95: number }>;

export interface MultusOutcome {
  results: RequirementResult[];
  latency?: DelegateLatency;
  calls: CniCallRecord[];
}

const NAMESPACE = 'certify';
/** The local provider's per-node link to the shared fabric: the master of macvlan, ipvlan and vlan. */
const MASTER = 'eth1';
/** Part 1 uses 198.18.199–205.0/24; Part 2 runs in a cluster of its own, but a distinct /24 keeps evidence unambiguous. */
const SUBNET_OCTET = 190;
const IFNAMES = ['net1', 'net2'] as const;
/**
 * Types whose two pods on one node reach each other: macvlan and ipvlan children of one master (in modes
 * that pass traffic between siblings), veths on one bridge. Both pods are on one node because host-local,
 * the usual IPAM, allocates per node: on two nodes both pods got 198.18.190.10 and each "reached" itself.
 */
const SIBLINGS_TALK = new Set(['macvlan', 'ipvlan', 'bridge']);
const ISOLATING_MODES: Record<string, string[]> = { macvlan: ['private', 'vepa', 'source'], ipvlan: ['private', 'vepa'] };

/** The placeholder values on the cluster: {{dataDir}} is host-local's default, so the leak checks' /var/lib/cni search covers it. */
export function clusterValues(networkName: string): PlaceholderValues {
  return { name: networkName, master: MASTER, dataDir: `${CNI_STATE_DIR}/networks`, device: '', ...subnetValues(SUBNET_OCTET) };
}

/**
 * The NAD's CNI config: the certification config filled in, with its declared capabilities kept (Multus
 * passes runtimeConfig only for those); for an IPAM delegate, a macvlan network on eth1 whose "ipam" is the
 * config's, typed as the delegate.
 */
export function nadConfig(cfg: CertifyConfig, ipamOnly: boolean, values: PlaceholderValues): JsonObject {
  const filled = renderConfig(cfg, values, String(cfg.template.cniVersion));
  const capabilities: JsonObject = cfg.capabilities.length > 0 ? { capabilities: Object.fromEntries(cfg.capabilities.map((c) => [c, true])) } : {};
  if (!ipamOnly) return { ...filled, ...capabilities };
  const ipam = typeof filled.ipam === 'object' && filled.ipam !== null && !Array.isArray(filled.ipam) ? filled.ipam : {};
  return { cniVersion: filled.cniVersion ?? null, name: filled.name ?? null, type: 'macvlan', master: MASTER, mode: 'bridge', ...capabilities, ipam: { ...ipam, type: String(filled.type) } };
}

/** Whether traffic between the two pods is judged, with the reason when it is not. */
export function trafficApplies(cfg: CertifyConfig, ipamOnly: boolean): { applies: true } | { applies: false; why: string } {
  const type = String(cfg.template.type);
  if (ipamOnly) return { applies: true };
  if (cfg.uses.has('device')) return { applies: false, why: `type ${type} moves one host device ({{device}}) into the pod; the harness makes no path between two such devices` };
  if (!SIBLINGS_TALK.has(type)) return { applies: false, why: `the harness knows no path between two pods of one node for type ${type} (it knows ${[...SIBLINGS_TALK].join(', ')}, and IPAM delegates under macvlan)` };
  const mode = cfg.template.mode;
  if (typeof mode === 'string' && (ISOLATING_MODES[type] ?? []).includes(mode)) return { applies: false, why: `${type} mode ${mode} passes no traffic between two children of one master on one node` };
  return { applies: true };
}

/** The networks annotation: the network twice, with per-attachment ips/mac when the config declares those capabilities. */
export function selections(cfg: CertifyConfig, network: string, podIndex: number): string {
  const caps = cfg.capabilities;
  if (!caps.includes('ips') && !caps.includes('mac')) return commaNetworks(IFNAMES.map(() => ({ name: network })));
  const list: NetworkSelection[] = IFNAMES.map((_, i) => {
    const n = 100 + podIndex * 10 + i;
    return {
      name: network,
      ...(caps.includes('ips') ? { ips: [`198.18.${SUBNET_OCTET}.${n}/24`] } : {}),
      ...(caps.includes('mac') ? { mac: `0a:58:c6:12:${SUBNET_OCTET.toString(16)}:${n.toString(16)}` } : {}),
    };
  });
  return jsonNetworks(list);
}

interface StatusEntry {
  name?: unknown;
  interface?: unknown;
  ips?: unknown;
  mac?: unknown;
  default?: unknown;
}

/** Whether a name in network-status or a delegate record is the network's ("namespace/name", or the bare name). */
const namesNetwork = (name: unknown, network: { namespace: string; name: string }): boolean =>
  name === `${network.namespace}/${network.name}` || name === network.name;

/** Global addresses of a link as network-status lists them (no prefix length). */
const kernelIps = (link: IpLink): string[] => (link.addr_info ?? []).filter((a) => a.scope !== 'link' && a.scope !== 'host').map((a) => a.local).sort();

/**
 * What is wrong with a pod's network-status against its kernel links (empty when it matches): a default entry
 * (§5.2), one entry per attachment naming the network and its interface (§4.2, §5.3.1, §5.3.2), and for
 * every entry naming an interface, that interface's MAC and addresses (§5.3.3, §5.3.4).
 */
export function networkStatusProblems(annotation: string | undefined, links: readonly IpLink[], network: { namespace: string; name: string }): string[] {
  if (annotation === undefined) return [`no ${NETWORK_STATUS_ANNOTATION} annotation`];
  let entries: StatusEntry[];
  try {
    const parsed = JSON.parse(annotation) as unknown;
    if (!Array.isArray(parsed)) return [`${NETWORK_STATUS_ANNOTATION} is not a JSON list: ${annotation.slice(0, 200)}`];
    entries = parsed as StatusEntry[];
  } catch (err) {
    return [`${NETWORK_STATUS_ANNOTATION} is not JSON (${(err as Error).message})`];
  }
  const problems: string[] = [];
  const defaults = entries.filter((e) => e.default === true);
  if (defaults.length !== 1) problems.push(`${defaults.length} entries have "default": true, expected exactly one (the cluster network)`);
  for (const ifname of IFNAMES) {
    const own = entries.filter((e) => e.interface === ifname);
    if (own.length !== 1) problems.push(`${own.length} entries for interface ${ifname}, expected one`);
    else if (!namesNetwork(own[0]!.name, network)) problems.push(`the ${ifname} entry names network "${String(own[0]!.name)}", expected "${network.namespace}/${network.name}"`);
  }
  entries.forEach((e, i) => {
    if (typeof e.interface !== 'string') return;
    const link = links.find((l) => l.ifname === e.interface);
    if (!link) return problems.push(`entry ${i} (${e.interface}): no such interface in the pod (kernel: ${links.map((l) => l.ifname).join(', ')})`);
    if (typeof e.mac === 'string' && e.mac.toLowerCase() !== link.address?.toLowerCase()) problems.push(`entry ${i} (${e.interface}): mac ${e.mac}, the kernel shows ${link.address}`);
    if (e.mac === undefined) problems.push(`entry ${i} (${e.interface}): no mac (the kernel shows ${link.address})`);
    const listed = (Array.isArray(e.ips) ? e.ips.map(String) : []).sort();
    const kernel = kernelIps(link);
    if (listed.join(',') !== kernel.join(',')) problems.push(`entry ${i} (${e.interface}): ips [${listed.join(', ')}], the kernel shows [${kernel.join(', ')}]`);
    return undefined;
  });
  return problems;
}

/** The delegate's own times for the network's attachments, per op, from the CNI call records (the plugin's per-delegate log). */
export function delegateLatency(calls: readonly CniCallRecord[], network: { namespace: string; name: string }): { latency: DelegateLatency; timed: Record<string, number> } {
  const latency: DelegateLatency = {};
  const timed: Record<string, number> = {};
  for (const op of ['ADD', 'DEL'] as const) {
    const times = calls.filter((c) => c.op === op).flatMap((c) => c.delegates.filter((d) => namesNetwork(d.network, network)).map((d) => d.ms));
    const s = summarizeOp(times);
    latency[op] = { n: s.n, p50: s.p50, p95: s.p95 };
    timed[op] = times.length;
  }
  return { latency, timed };
}

const describeCall = (c: CniCallRecord): string =>
  `${c.op} ${c.namespace}/${c.pod} on ${c.node}: exit ${c.exitCode}${c.errorCode !== undefined ? ` (CNI code ${c.errorCode})` : ''}, ${c.ms} ms` +
  `${c.delegates.length > 0 ? `; delegates ${c.delegates.map((d) => `${d.network} (${d.type}) ${d.ms} ms`).join(', ')}` : ''}`;

const linkLine = (pod: string, links: readonly IpLink[]): string =>
  `kernel (ip -j addr in pod ${pod}): ${links.filter((l) => l.ifname !== 'lo').map((l) => `${l.ifname} ${l.address ?? ''} ${kernelIps(l).join(' ')}`.trim()).join('; ')}`;

/** Puts the delegate on the node as /opt/cni/bin/TYPE (an exec wrapper; a file already identical is left alone, so its times are its own). */
async function installDelegate(cluster: Cluster, node: string, type: string, delegate: string): Promise<void> {
  // rm first: the node's plugins may be hard links of the host's /usr/lib/cni files, which must stay untouched.
  const script = 'cmp -s "$2" "$1" && exit 0; rm -f "$1" && printf \'#!/bin/sh\\nexec "%s" "$@"\\n\' "$2" >"$1" && chmod 755 "$1"';
  const res = await cluster.nodeExec(node, ['sh', '-c', script, 'sh', `/opt/cni/bin/${type}`, delegate]);
  if (res.code !== 0) throw new Error(`could not install ${delegate} as /opt/cni/bin/${type} on ${node}: ${(res.stderr || res.stdout).trim()}`);
}

interface PodState {
  name: string;
  node: string;
  started: boolean;
  why?: string;
  links: IpLink[];
  status?: string;
}

async function startPod(core: CoreV1Api, cluster: Cluster, name: string, node: string, annotations: Record<string, string>): Promise<PodState> {
  await createPodObject(core, NAMESPACE, pod({ namespace: NAMESPACE, name, node, annotations }));
  try {
    const p = await waitForPodRunning(core, NAMESPACE, name);
    const links = await readPodLinks(cluster, NAMESPACE, name, node);
    const status = p.metadata?.annotations?.[NETWORK_STATUS_ANNOTATION];
    return { name, node, started: true, links, ...(status !== undefined ? { status } : {}) };
  } catch (err) {
    return { name, node, started: false, why: (err as Error).message.slice(0, 600), links: [] };
  }
}

/** ping -c 3 from one net1 address to another, bound to the source address (not the device: with net1 and net2 on one segment, a reply may come in on net2). */
async function ping(cluster: Cluster, from: PodState, src: string, dst: string): Promise<{ ok: boolean; line: string }> {
  const argv = ['ping', '-c', '3', '-i', '0.2', '-W', '2', '-I', src, dst];
  const res = await cluster.podExec(NAMESPACE, from.name, argv);
  const summary = (res.stdout.split('\n').find((l) => l.includes('packets transmitted')) ?? res.stderr.trim()).slice(0, 200);
  return { ok: res.code === 0, line: `pod ${from.name}: ${argv.join(' ')} → exit ${res.code}: ${summary}` };
}

const firstIpv4 = (p: PodState, ifname: string): string | undefined =>
  p.links.find((l) => l.ifname === ifname)?.addr_info?.find((a) => a.family === 'inet')?.local;

async function judgeRunningPods(cluster: Cluster, pods: PodState[], cfg: CertifyConfig, ipamOnly: boolean, network: { namespace: string; name: string }, calls: CniCallRecord[]): Promise<RequirementResult[]> {
  const results: RequirementResult[] = [];
  const evidence = [...calls.filter((c) => c.op === 'ADD').map(describeCall), ...pods.filter((p) => p.started).map((p) => linkLine(p.name, p.links))];
  const notStarted = pods.filter((p) => !p.started);
  const attachProblems = notStarted.map((p) => `pod ${p.name} on ${p.node} did not start: ${p.why ?? ''}`);
  const addresses: string[] = [];
  for (const p of pods.filter((x) => x.started)) {
    for (const ifname of IFNAMES) {
      const link = p.links.find((l) => l.ifname === ifname);
      if (!link) { attachProblems.push(`pod ${p.name}: no ${ifname} (kernel: ${p.links.map((l) => l.ifname).join(', ')})`); continue; }
      if (link.operstate === 'DOWN') attachProblems.push(`pod ${p.name}: ${ifname} is DOWN`);
      const ips = kernelIps(link);
      if (ipamOnly && ips.length === 0) attachProblems.push(`pod ${p.name}: ${ifname} has no address from the IPAM delegate`);
      addresses.push(...ips.map((ip) => `${ip} (${p.name} ${ifname})`));
    }
    const delegated = calls.filter((c) => c.op === 'ADD' && c.pod === p.name && c.exitCode === 0)
      .flatMap((c) => c.delegates.filter((d) => namesNetwork(d.network, network)));
    // Separate operations (§4.2): the delegate ran once per attachment; checked when the plugin logs per-delegate times.
    if (calls.some((c) => c.delegates.length > 0) && delegated.length !== IFNAMES.length) attachProblems.push(`pod ${p.name}: the delegate ran ${delegated.length} times for its network in the successful ADD, expected ${IFNAMES.length}`);
  }
  const bare = addresses.map((a) => a.split(' ')[0]);
  const dupes = addresses.filter((a, i) => bare.indexOf(a.split(' ')[0]) !== i);
  attachProblems.push(...dupes.map((d) => `address handed out twice: ${d}`));
  results.push(judged('multus.attach-twice', undefined, attachProblems.length === 0 ? 'passed' : 'failed',
    `each pod Running with net1 and net2 from network ${network.namespace}/${network.name}${ipamOnly ? ', each with an address from the IPAM delegate' : ''}; no address twice`,
    attachProblems.length === 0 ? `pods ${pods.map((p) => p.name).join(', ')} have net1 and net2; addresses ${addresses.join(', ') || 'none'}` : attachProblems.join('; '), evidence));

  const couldNotRun = notStarted.length > 0 ? `could not run: ${notStarted.map((p) => `pod ${p.name} did not start`).join(', ')} (see multus.attach-twice)` : undefined;
  if (couldNotRun) {
    results.push(judged('multus.network-status', undefined, 'skipped', 'network-status as the kernel shows it', couldNotRun));
  } else {
    const statusProblems = pods.flatMap((p) => networkStatusProblems(p.status, p.links, network).map((x) => `pod ${p.name}: ${x}`));
    results.push(judged('multus.network-status', undefined, statusProblems.length === 0 ? 'passed' : 'failed',
      'one default entry; net1 and net2 each once, naming the network; every entry\'s MAC and IPs as the kernel shows them (ip -j addr in the pod)',
      statusProblems.length === 0 ? 'every entry matches the kernel' : statusProblems.join('; '),
      [...pods.map((p) => `pod ${p.name} ${NETWORK_STATUS_ANNOTATION}: ${(p.status ?? '(none)').replace(/\s+/g, ' ')}`), ...pods.map((p) => linkLine(p.name, p.links))]));
  }

  const traffic = trafficApplies(cfg, ipamOnly);
  if (!traffic.applies) {
    results.push(judged('multus.pod-to-pod', undefined, 'not-applicable', traffic.why, '—'));
  } else if (couldNotRun) {
    results.push(judged('multus.pod-to-pod', undefined, 'skipped', 'ping between the pods\' net1 addresses', couldNotRun));
  } else {
    const [a, b] = pods as [PodState, PodState];
    const [ipA, ipB] = [firstIpv4(a, 'net1'), firstIpv4(b, 'net1')];
    if (!ipA || !ipB || ipA === ipB) {
      // With one address on both, a ping would only reach the pod itself.
      results.push(judged('multus.pod-to-pod', undefined, 'failed', 'a distinct IPv4 address on each pod\'s net1', `net1 addresses: ${a.name} ${ipA ?? 'none'}, ${b.name} ${ipB ?? 'none'}`));
    } else {
      const there = await ping(cluster, a, ipA, ipB);
      const back = await ping(cluster, b, ipB, ipA);
      results.push(judged('multus.pod-to-pod', undefined, there.ok && back.ok ? 'passed' : 'failed', `ping ${ipA} ⇄ ${ipB} (both pods on ${a.node}) gets replies both ways`,
        there.ok && back.ok ? 'replies both ways' : [there, back].filter((x) => !x.ok).map((x) => x.line).join('; '), [there.line, back.line]));
    }
  }
  return results;
}

async function deleteAndCheck(core: CoreV1Api, cluster: Cluster, pods: PodState[], baseline: Map<string, { links: Set<string>; addresses: Set<string> }>, since: string): Promise<{ result: RequirementResult; calls: CniCallRecord[] }> {
  const deletedAt = new Date().toISOString();
  for (const p of pods) await core.deleteNamespacedPod({ name: p.name, namespace: NAMESPACE });
  let gone: string | undefined;
  await waitForPodsGone(core, cluster, NAMESPACE, pods.map((p) => p.name), deletedAt).catch((err: Error) => { gone = err.message; });
  const calls = (await cluster.cniCalls(since)).filter((c) => c.namespace === NAMESPACE);
  const problems: string[] = gone ? [gone] : [];
  for (const [node, before] of baseline) {
    const own = calls.filter((c) => c.node === node);
    const leaks = await leftoversOnNode(cluster, node, {
      linksBefore: before.links, addressesBefore: before.addresses, podsStillOnNode: gone !== undefined,
      containerIds: [...new Set(own.map((c) => c.containerId))], netnsPaths: [...new Set(own.map((c) => c.netns).filter((n): n is string => Boolean(n)))],
    });
    // No pod is left on the cluster, so whatever host-local still holds is leaked, whichever container it names.
    const named = new Set(leaks.map((l) => l.object));
    if (gone === undefined) for (const file of await ipamAllocations(cluster, node)) if (!named.has(file)) problems.push(`${file} on ${node} is still allocated with no pod left`);
    problems.push(...leaks.map((l) => l.what));
  }
  const dels = calls.filter((c) => c.op === 'DEL' && c.startedAt >= deletedAt);
  return {
    calls,
    result: judged('multus.delete-clean', undefined, problems.length === 0 ? 'passed' : 'failed',
      'the pods are gone; no link, address, network namespace, IPAM allocation or cache entry of theirs is left on any node',
      problems.length === 0 ? `pods gone, ${dels.length} DEL call(s), nothing left on ${[...baseline.keys()].join(', ')}` : problems.join('; '), dels.map(describeCall)),
  };
}

function judgeLatency(calls: CniCallRecord[], network: { namespace: string; name: string }, plugin: PluginUnderTest, podsStarted: boolean): { result: RequirementResult; latency?: DelegateLatency } {
  const { latency, timed } = delegateLatency(calls, network);
  const failedCalls = calls.filter((c) => (c.op === 'ADD' || c.op === 'DEL') && c.exitCode !== 0);
  const evidence = calls.filter((c) => c.op === 'ADD' || c.op === 'DEL').map(describeCall);
  const numbers = Object.entries(latency).map(([op, l]) => `${op} n=${l.n} p50 ${l.p50} ms p95 ${l.p95} ms`).join('; ');
  if (!calls.some((c) => c.delegates.length > 0)) {
    return { result: judged('multus.latency', undefined, 'skipped', 'per-delegate times in the CNI call records', `could not run: the plugin under test (${pluginArgument(plugin)}) logs no per-delegate times; ${podsStarted ? '' : 'and the pods did not start'}`.replace(/; $/, ''), evidence) };
  }
  const problems = [
    ...failedCalls.map((c) => `${c.op} of pod ${c.pod} exited ${c.exitCode}`),
    ...(['ADD', 'DEL'] as const).filter((op) => (timed[op] ?? 0) === 0).map((op) => `no ${op} of the network's attachments was timed`),
  ];
  return {
    latency,
    result: judged('multus.latency', undefined, problems.length === 0 ? 'passed' : 'failed', 'every ADD and DEL through Multus exits 0 and times the delegate per attachment', problems.length === 0 ? numbers : `${problems.join('; ')} (${numbers})`, evidence),
  };
}

/** Every Part 2 requirement as could-not-run with one reason (the cluster did not come up, or the config cannot be attached twice). */
export function multusNotRun(why: string): RequirementResult[] {
  return MULTUS_REQUIREMENTS.map((id) => judged(id, undefined, 'skipped', '—', `could not run: ${why}`));
}

export async function runMultusSuite(opts: MultusSuiteOptions): Promise<MultusOutcome> {
  if (opts.config.uses.has('device')) return { results: multusNotRun('the config moves one host device ({{device}}) into the pod, and Part 2 attaches the network twice to each pod'), calls: [] };
  const networkName = `${opts.name}-net`;
  const network = { namespace: NAMESPACE, name: networkName };
  const type = String(opts.config.template.type);
  const t0 = Date.now();
  opts.progress(`certify (full): bringing up local cluster "${opts.name}" with the ${pluginArgument(opts.plugin)} plugin …`);
  let cluster: Cluster | undefined;
  try {
    cluster = await localProvider.create({ name: opts.name, nodes: 1, plugin: opts.plugin, workDir: opts.workDir, progress: () => undefined });
    const since = new Date().toISOString();
    const { core, custom }: { core: CoreV1Api; custom: CustomObjectsApi } = kubeClients(cluster.kubeconfigPath);
    const nodes = await cluster.nodeNames();
    for (const node of nodes) await installDelegate(cluster, node, type, opts.delegate);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'multus-e2e' } } } });
    const config = nadConfig(opts.config, opts.ipamOnly, clusterValues(networkName));
    await custom.createNamespacedCustomObject({ group: NAD_GROUP, version: NAD_VERSION, namespace: NAMESPACE, plural: NAD_PLURAL, body: nad(NAMESPACE, networkName, config) });
    const baseline = new Map<string, { links: Set<string>; addresses: Set<string> }>();
    for (const node of nodes) {
      const links = await readNodeLinks(cluster, node);
      baseline.set(node, { links: new Set(links.map((l) => l.ifname)), addresses: addressKeys(links) });
    }
    opts.progress(`certify (full): cluster up in ${Math.round((Date.now() - t0) / 1000)} s; two pods attached twice to ${NAMESPACE}/${networkName} …`);
    const node = nodes[0]!;
    const pods = await Promise.all(['a', 'b'].map((name, i) => startPod(core, cluster!, name, node, { [NETWORKS_ANNOTATION]: selections(opts.config, networkName, i) })));
    opts.progress(`certify (full): pods ${pods.map((p) => `${p.name} ${p.started ? 'Running' : 'not running'}`).join(', ')} after ${Math.round((Date.now() - t0) / 1000)} s`);
    const addCalls = (await cluster.cniCalls(since)).filter((c) => c.namespace === NAMESPACE);
    const results = await judgeRunningPods(cluster, pods, opts.config, opts.ipamOnly, network, addCalls);
    const deletion = await deleteAndCheck(core, cluster, pods, baseline, since);
    results.push(deletion.result);
    const lat = judgeLatency(deletion.calls, network, opts.plugin, pods.every((p) => p.started));
    results.push(lat.result);
    opts.progress(`certify (full): Part 2 judged in ${Math.round((Date.now() - t0) / 1000)} s`);
    return { results, calls: deletion.calls, ...(lat.latency ? { latency: lat.latency } : {}) };
  } catch (err) {
    return { results: multusNotRun(`the cluster run failed: ${(err as Error).message.slice(0, 500)}`), calls: [] };
  } finally {
    await (cluster ? cluster.destroy() : localProvider.destroy(opts.name, opts.workDir)).catch((err: Error) => opts.progress(`certify (full): tearing the cluster down failed: ${err.message}`));
  }
}
