// Part 1 of certification: the CNI spec on the delegate alone, in network namespaces the harness owns.
// The delegate runs inside a "host" namespace of its own (its host-side links, routes and the macvlan
// master live there), each attachment gets a fresh container namespace, and what is left behind is
// judged by diffing snapshots of that host namespace and of the {{dataDir}} the config points at.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../clusters/local/run-command.ts';
import { renderConfig, subnetValues, type CertifyConfig, type JsonObject, type PlaceholderValues } from './config.ts';
import { Delegate, describeCall, stdoutJson, type CallRecord } from './delegate.ts';
import {
  addNetns, addVethPair, containerLinks, deleteNetns, deleteNetnsAll, deleteNetnsAndWait, diffSnapshots, filesUnder, ipIn, linksIn, netnsPath, netnsWithPrefix, routesIn, snapshot, type Snapshot,
} from './kernel.ts';
import { REQUIREMENTS, versionAtLeast } from './requirements.ts';
import { judged, type RequirementResult } from './results.ts';
import { addResultProblems, errorObjectProblems, KNOWN_VERSIONS, normalizeResult, versionResultProblems } from './schema.ts';

export interface SpecSuiteOptions {
  delegate: string;
  config: CertifyConfig;
  ipamOnly: boolean;
  /** Prefix of every namespace and network name of this run. */
  name: string;
  progress: (line: string) => void;
}

export interface SpecOutcome {
  /** supportedVersions from VERSION (empty when VERSION gave none). */
  claimed: string[];
  results: RequirementResult[];
  /** What was still in the host namespace after the last DEL of each version (shared state such as a bridge). */
  residue: Record<string, string[]>;
  calls: CallRecord[];
}

const IFNAME = 'cert1';
const TOO_LONG_IFNAME = 'certify-name-too-long';
const CONCURRENT = 8;

/** Link kinds a known plugin type needs from the kernel, probed before its requirements run. */
const KERNEL_NEEDS: Record<string, { kind: string; args: string[] }> = {
  macvlan: { kind: 'macvlan', args: ['type', 'macvlan', 'mode', 'bridge'] },
  ipvlan: { kind: 'ipvlan', args: ['type', 'ipvlan', 'mode', 'l2'] },
  vlan: { kind: 'vlan (8021q)', args: ['type', 'vlan', 'id', '10'] },
  bridge: { kind: 'bridge', args: ['type', 'bridge'] },
};

/** Why this kernel cannot run the delegate's type, or undefined when it can (or the type is unknown). */
export async function kernelGap(type: string, probeNs: string): Promise<string | undefined> {
  const need = KERNEL_NEEDS[type];
  if (!need) return undefined;
  await addNetns(probeNs);
  try {
    await addVethPair(probeNs, 'probe0', 'probe1');
    const args = need.kind === 'bridge' ? ['link', 'add', 'probe2', ...need.args] : ['link', 'add', 'link', 'probe0', 'name', 'probe2', ...need.args];
    const res = await runCommand(['ip', '-n', probeNs, ...args]);
    return res.code === 0 ? undefined : `this kernel (${os.release()}) cannot create ${need.kind} links (\`ip link add … ${need.args.join(' ')}\`: ${res.stderr.trim()})`;
  } finally {
    await deleteNetns(probeNs);
  }
}

interface Attachment {
  label: string;
  containerId: string;
  netnsName: string;
  netns: string;
  ifname: string;
  config: JsonObject;
  add: CallRecord;
  result?: unknown;
  /** Host-side links the harness made for this attachment ({{device}}), which DEL must give back. */
  devices: string[];
  requested: { ip?: string; mac?: string };
}

const evidenceOf = (calls: (CallRecord | undefined)[]): string[] => calls.filter((c): c is CallRecord => c !== undefined).map(describeCall);

class VersionRun {
  readonly results: RequirementResult[] = [];
  private counter = 0;
  private readonly netnsNames = new Set<string>();
  /** Every link the harness made for attachments ({{device}}): never counted as left behind. */
  private readonly harnessLinks = new Set<string>();
  /** Those of them expected back on the host side (host-device gives them back on DEL). */
  private readonly expectedBack = new Set<string>();

  constructor(
    private readonly opts: SpecSuiteOptions, readonly delegate: Delegate, readonly version: string,
    private readonly tag: string, private readonly hostNs: string, readonly values: Omit<PlaceholderValues, 'device'>, private readonly octet: number,
  ) {}

  judge(id: string, ok: boolean | 'skip', expected: string, seen: string, calls: (CallRecord | undefined)[] = [], extra: string[] = []): void {
    this.results.push(judged(id, this.version, ok === 'skip' ? 'skipped' : ok ? 'passed' : 'failed', expected, seen, [...evidenceOf(calls), ...extra]));
  }

  applies(id: string): boolean {
    const r = REQUIREMENTS.find((x) => x.id === id)!;
    const kind = this.opts.ipamOnly ? 'ipam' : 'interface';
    return (r.applies === 'both' || r.applies === kind) && (r.since === undefined || versionAtLeast(this.version, r.since));
  }

  notApplicable(id: string, why: string): void {
    this.results.push(judged(id, this.version, 'not-applicable', why, '—'));
  }

  private get withPrevResult(): boolean {
    return versionAtLeast(this.version, '0.4.0');
  }

  async attach(label: string, opts: { ifname?: string; netns?: 'fresh' | 'missing' } = {}): Promise<Attachment> {
    const n = ++this.counter;
    const netnsName = `${this.opts.name}-${this.tag}-${label}`;
    if (opts.netns !== 'missing') {
      await addNetns(netnsName);
      this.netnsNames.add(netnsName);
    }
    const devices: string[] = [];
    let device = '';
    if (this.opts.config.uses.has('device')) {
      device = `certd${this.tag}x${n}`.slice(0, 15);
      await addVethPair(this.hostNs, device, `${device}p`.slice(0, 15));
      devices.push(device, `${device}p`.slice(0, 15));
      devices.forEach((d) => { this.harnessLinks.add(d); this.expectedBack.add(d); });
    }
    const caps = this.opts.config.capabilities;
    const requested = {
      ...(caps.includes('ips') ? { ip: `198.18.${this.octet}.${100 + n}/24` } : {}),
      ...(caps.includes('mac') ? { mac: `0a:58:c6:12:${this.octet.toString(16).padStart(2, '0')}:${n.toString(16).padStart(2, '0')}` } : {}),
    };
    const runtimeConfig = { ...(requested.ip ? { ips: [requested.ip] } : {}), ...(requested.mac ? { mac: requested.mac } : {}) };
    const config = renderConfig(this.opts.config, { ...this.values, device }, this.version, Object.keys(runtimeConfig).length > 0 ? { runtimeConfig } : {});
    const containerId = `${this.opts.name}-${this.tag}-${label}`;
    const ifname = opts.ifname ?? IFNAME;
    const netns = netnsPath(netnsName);
    const add = await this.delegate.call({ command: 'ADD', containerId, netns, ifname, stdin: config, purpose: `ADD ${label} (CNI ${this.version})` });
    return { label, containerId, netnsName, netns, ifname, config, add, ...(add.code === 0 ? { result: stdoutJson(add) } : {}), devices, requested };
  }

  del(a: Attachment, opts: { prevResult?: boolean; purpose?: string } = {}): Promise<CallRecord> {
    const withPrev = (opts.prevResult ?? true) && this.withPrevResult && a.result !== undefined;
    return this.delegate.call({
      command: 'DEL', containerId: a.containerId, netns: a.netns, ifname: a.ifname,
      stdin: withPrev ? { ...a.config, prevResult: a.result as JsonObject } : a.config,
      purpose: opts.purpose ?? `DEL ${a.label} (CNI ${this.version})${withPrev ? '' : ' without prevResult'}`,
    });
  }

  check(a: Attachment, purpose: string): Promise<CallRecord> {
    return this.delegate.call({
      command: 'CHECK', containerId: a.containerId, netns: a.netns, ifname: a.ifname,
      stdin: { ...a.config, prevResult: a.result as JsonObject }, purpose,
    });
  }

  /** Whether a snapshot item is one of the links the harness made ({{device}}), or sits on one. */
  harnessMade(item: string): boolean {
    return [...this.harnessLinks].some((d) => item.startsWith(`link ${d} `) || item.endsWith(` on ${d}`));
  }

  /** Links the harness made for attachments whose device is gone with their namespace (removed by hand, or the netns deleted). */
  forget(a: Attachment): void {
    a.devices.forEach((d) => this.expectedBack.delete(d));
  }

  /** What DEL of `a` left behind compared with `before`, counting the harness's own links as expected back. */
  async leftovers(a: Attachment, before: Snapshot, containerGone = false): Promise<{ host: string[]; lost: string[]; container: string[] }> {
    const now = await snapshot(this.hostNs, this.values.dataDir);
    const { added, removed } = diffSnapshots(before, now);
    const owned = (item: string) => this.harnessMade(item);
    const host = added.filter((x) => !owned(x));
    const lost = a.devices.filter((d) => this.expectedBack.has(d) && !now.links.some((l) => l.startsWith(`link ${d} `)));
    const container = containerGone ? [] : await containerLinks(a.netnsName);
    return { host, lost: [...removed.filter((x) => !owned(x)), ...lost.map((d) => `link ${d} (made by the harness for this attachment) is gone from the host side`)], container };
  }

  async removeNetns(a: Attachment): Promise<void> {
    await deleteNetnsAndWait(a.netnsName, this.hostNs);
    this.netnsNames.delete(a.netnsName);
  }

  async cleanup(): Promise<void> {
    await deleteNetnsAll([...this.netnsNames]);
    this.netnsNames.clear();
  }

  /** Kernel truth of an ADD result: every listed interface, MAC, MTU, address and route is really there. */
  async truth(a: Attachment): Promise<string[]> {
    const res = normalizeResult(a.result);
    const problems: string[] = [];
    const nsLinks = await linksIn(a.netnsName);
    const hostLinks = await linksIn(this.hostNs);
    const where = (sandbox: string | undefined) => (sandbox === a.netns ? { links: nsLinks, name: `netns ${a.netnsName}` } : !sandbox ? { links: hostLinks, name: 'the host side' } : undefined);
    res.interfaces.forEach((i, idx) => {
      const place = where(i.sandbox);
      if (!place) return problems.push(`interfaces[${idx}] ${i.name}: sandbox "${i.sandbox}" is neither CNI_NETNS (${a.netns}) nor empty`);
      const link = place.links.find((l) => l.ifname === i.name);
      if (!link) return problems.push(`interfaces[${idx}] ${i.name}: no such link in ${place.name} (links there: ${place.links.map((l) => l.ifname).join(', ')})`);
      if (i.mac && link.address?.toLowerCase() !== i.mac.toLowerCase()) problems.push(`interfaces[${idx}] ${i.name}: mac ${i.mac} in the result, ${link.address} in the kernel`);
      if (i.mtu !== undefined && link.mtu !== i.mtu) problems.push(`interfaces[${idx}] ${i.name}: mtu ${i.mtu} in the result, ${link.mtu} in the kernel`);
      return undefined;
    });
    res.ips.forEach((ip, idx) => {
      const iface = ip.interface !== undefined ? res.interfaces[ip.interface] : undefined;
      if (ip.interface !== undefined && !iface) return problems.push(`ips[${idx}] ${ip.address}: interface index ${ip.interface} is not in interfaces`);
      const links = iface ? (where(iface.sandbox)?.links ?? []).filter((l) => l.ifname === iface.name) : nsLinks;
      const has = links.some((l) => (l.addr_info ?? []).some((x) => `${x.local}/${x.prefixlen}` === ip.address));
      if (!has) problems.push(`ips[${idx}] ${ip.address}: not configured on ${iface ? iface.name : `any link of netns ${a.netnsName}`} (kernel: ${links.flatMap((l) => (l.addr_info ?? []).map((x) => `${x.local}/${x.prefixlen} on ${l.ifname}`)).join(', ') || 'no addresses'})`);
      return undefined;
    });
    if (res.routes.length > 0) {
      const routes = await routesIn(a.netnsName);
      const norm = (dst: string) => (dst === '0.0.0.0/0' ? 'default' : dst.endsWith('/32') ? dst.slice(0, -3) : dst);
      for (const r of res.routes) {
        if (r.dst.includes(':')) continue;
        const gw = r.gw ?? undefined;
        const found = routes.some((k) => norm(k.dst) === norm(r.dst) && (!gw || k.gateway === gw));
        if (!found) problems.push(`route ${r.dst}${gw ? ` via ${gw}` : ''}: not in netns ${a.netnsName} (kernel: ${routes.map((k) => `${k.dst}${k.gateway ? ` via ${k.gateway}` : ''}`).join(', ')})`);
      }
    }
    return problems;
  }
}

const list = (items: string[]): string => (items.length > 0 ? items.join('; ') : 'nothing');

/** "exit N" with the error's msg when the call printed one, so the certificate says why without opening the evidence. */
function outcome(c: CallRecord): string {
  if (c.timedOut) return `no answer within ${Math.round(c.ms / 1000)} s`;
  const msg = (stdoutJson(c) as { msg?: unknown } | undefined)?.msg;
  return `exit ${c.code}${c.code !== 0 && typeof msg === 'string' ? `: ${msg}` : ''}`;
}

async function runVersion(run: VersionRun, opts: SpecSuiteOptions, residue: Record<string, string[]>, hostNs: string): Promise<void> {
  const v = run.version;
  const ipam = opts.ipamOnly;
  const dataDir = run.values.dataDir;
  const pristine = await snapshot(hostNs, dataDir);
  const a = await run.attach('a');
  if (a.add.code !== 0) {
    run.judge('add.result-schema', false, 'ADD succeeds and prints a result', `ADD failed: exit ${a.add.code}`, [a.add]);
    for (const r of REQUIREMENTS.filter((x) => x.perVersion && x.id !== 'add.result-schema' && run.applies(x.id))) {
      run.judge(r.id, 'skip', r.title, 'could not run: the first ADD of this version failed (see add.result-schema)');
    }
    await run.del(a, { purpose: `DEL a after its failed ADD (CNI ${v})` });
    await run.cleanup();
    return;
  }
  const s0 = await snapshot(hostNs, dataDir);

  // B: the attachment every ADD/CHECK/DEL requirement looks at.
  const b = await run.attach('b');
  const schemaProblems = [a, b].flatMap((x) => (x.result === undefined ? [`${x.label}: ADD printed no JSON (stdout: ${x.add.stdout.slice(0, 200)})`] : addResultProblems(x.result, v, ipam).map((p) => `${x.label}: ${p}`)));
  if (b.add.code !== 0) schemaProblems.push(`b: ADD failed with exit ${b.add.code}`);
  run.judge('add.result-schema', schemaProblems.length === 0, `a CNI ${v} ${ipam ? 'IPAM ' : ''}result (CNI spec §5), cniVersion "${v}"`, schemaProblems.length === 0 ? 'valid' : list(schemaProblems), [a.add, b.add]);
  if (!ipam) {
    const problems = b.result !== undefined ? await run.truth(b) : ['ADD failed'];
    const bLinks = await linksIn(b.netnsName);
    const kernel = bLinks.map((l) => `${l.ifname} ${l.address ?? ''} ${(l.addr_info ?? []).map((x) => `${x.local}/${x.prefixlen}`).join(' ')}`.trim());
    run.judge('add.result-true', problems.length === 0, 'every interface, MAC, MTU, address and route in the result is in the kernel', problems.length === 0 ? 'all found' : list(problems), [b.add], [`kernel (ip -j addr, netns ${b.netnsName}): ${kernel.join('; ')}`]);
    const nsLinks = bLinks.map((l) => l.ifname).filter((n) => n !== 'lo');
    // Results before 0.3.0 (ip4/ip6) list no interfaces.
    const listed = !versionAtLeast(v, '0.3.0') || normalizeResult(b.result).interfaces.some((i) => i.name === b.ifname && i.sandbox === b.netns);
    const long = await run.attach('long', { ifname: TOO_LONG_IFNAME });
    const ifnameProblems = [
      ...(nsLinks.includes(b.ifname) ? [] : [`CNI_IFNAME=${b.ifname}: netns ${b.netnsName} holds ${nsLinks.join(', ') || 'no link'} instead`]),
      ...(listed ? [] : [`the result lists no interface ${b.ifname} with sandbox ${b.netns}`]),
      ...(long.add.code !== 0 ? [] : [`CNI_IFNAME=${TOO_LONG_IFNAME} (${TOO_LONG_IFNAME.length} characters; Linux allows 15) was not refused: exit 0`]),
    ];
    run.judge('add.ifname', ifnameProblems.length === 0, `a link named ${b.ifname} inside CNI_NETNS and listed with that sandbox; ADD with a ${TOO_LONG_IFNAME.length}-character name fails`, ifnameProblems.length === 0 ? 'as expected' : list(ifnameProblems), [b.add, long.add]);
    await run.del(long, { purpose: `DEL long (CNI ${v}), clean-up` });
  } else {
    run.notApplicable('add.result-true', 'an IPAM plugin configures nothing in the kernel');
    run.notApplicable('add.ifname', 'an IPAM plugin creates no interface');
  }
  if (opts.config.capabilities.some((c) => c === 'ips' || c === 'mac')) {
    const res = normalizeResult(b.result);
    const problems = [
      ...(b.requested.ip && !res.ips.some((x) => x.address === b.requested.ip) ? [`runtimeConfig.ips ${b.requested.ip}: the result lists ${res.ips.map((x) => x.address).join(', ') || 'no address'}`] : []),
      ...(b.requested.mac && !res.interfaces.some((i) => i.mac?.toLowerCase() === b.requested.mac) ? [`runtimeConfig.mac ${b.requested.mac}: the result lists ${res.interfaces.map((i) => `${i.name} ${i.mac ?? '(no mac)'}`).join(', ')}`] : []),
    ];
    run.judge('add.runtime-config', problems.length === 0, `the result carries what runtimeConfig asked for (${JSON.stringify(b.requested)})`, problems.length === 0 ? 'it does' : list(problems), [b.add]);
  } else {
    run.notApplicable('add.runtime-config', 'the config declares no ips or mac capability');
  }

  if (run.applies('check.healthy')) {
    const c = await run.check(b, `CHECK b (CNI ${v})`);
    run.judge('check.healthy', c.code === 0, 'exit 0', outcome(c), [c]);
  } else {
    run.notApplicable('check.healthy', `CHECK exists from CNI 0.4.0; this is ${v}`);
  }

  const delB = await run.del(b);
  const leftB = await run.leftovers(b, s0);
  const plainLeaks = leftB.host.length;
  const removes = delB.code === 0 && leftB.host.length === 0 && leftB.lost.length === 0 && leftB.container.length === 0;
  run.judge('del.removes-everything', removes, 'DEL exits 0; the host side and {{dataDir}} are as before the ADD; the container netns holds only lo',
    delB.code !== 0 ? `DEL exit ${delB.code}` : `left on the host side: ${list(leftB.host)}; taken from the host side: ${list(leftB.lost)}; left in the container: ${list(leftB.container)}`, [b.add, delB]);
  const delB2 = await run.del(b, { purpose: `DEL b again (CNI ${v})` });
  run.judge('del.idempotent', delB2.code === 0, 'the second DEL exits 0', outcome(delB2), [delB, delB2]);

  // Variants are judged by what they leave beyond a plain DEL (a plain DEL's own leaks are del.removes-everything's),
  // each against a snapshot taken just before its own ADD.
  const beyond = (left: { host: string[]; lost: string[]; container: string[] }) => left.host.length > plainLeaks || left.lost.length > 0 || left.container.length > 0;
  const variantSeen = (d: CallRecord, left: { host: string[]; lost: string[]; container: string[] }) =>
    d.code !== 0 ? `DEL ${outcome(d)}` : `left on the host side: ${list(left.host)} (a plain DEL left ${plainLeaks}); taken: ${list(left.lost)}; left in the container: ${list(left.container)}`;
  if (run.applies('del.without-prevresult')) {
    const before = await snapshot(hostNs, dataDir);
    const c = await run.attach('c');
    const d = await run.del(c, { prevResult: false });
    const left = await run.leftovers(c, before);
    run.judge('del.without-prevresult', c.add.code === 0 && d.code === 0 && !beyond(left), 'DEL without prevResult exits 0 and leaves no more than a plain DEL', c.add.code !== 0 ? `ADD failed: exit ${c.add.code}` : variantSeen(d, left), [c.add, d]);
  } else {
    run.notApplicable('del.without-prevresult', `DEL carries no prevResult before CNI 0.4.0; every DEL of ${v} is without one`);
  }

  if (run.applies('check.missing-interface')) {
    const d = await run.attach('d');
    // The interface the result puts in the container (CNI_IFNAME unless the plugin named it otherwise, which add.ifname judges).
    const inside = normalizeResult(d.result).interfaces.find((i) => i.sandbox === d.netns)?.name ?? d.ifname;
    await ipIn(d.netnsName, ['link', 'del', inside]).catch(() => undefined);
    run.forget(d);
    const c = await run.check(d, `CHECK d after \`ip link del ${inside}\` in its netns (CNI ${v})`);
    run.judge('check.missing-interface', d.add.code === 0 && c.code !== 0, 'CHECK exits non-zero', d.add.code !== 0 ? `ADD failed: exit ${d.add.code}` : `exit ${c.code}`, [d.add, c]);
    await run.del(d, { purpose: `DEL d (CNI ${v}), clean-up` });
  } else {
    run.notApplicable('check.missing-interface', ipam ? 'an IPAM plugin creates no interface' : `CHECK exists from CNI 0.4.0; this is ${v}`);
  }

  {
    const before = await snapshot(hostNs, dataDir);
    const e = await run.attach('e');
    await run.removeNetns(e);
    run.forget(e);
    const d = await run.del(e, { purpose: `DEL e after \`ip netns del ${e.netnsName}\` (CNI ${v})` });
    const left = await run.leftovers(e, before, true);
    run.judge('del.netns-gone', e.add.code === 0 && d.code === 0 && !beyond(left), 'DEL exits 0 and leaves no more on the host side than a plain DEL', e.add.code !== 0 ? `ADD failed: exit ${e.add.code}` : variantSeen(d, left), [e.add, d]);
  }

  if (run.applies('del.after-failed-add')) {
    const before = await snapshot(hostNs, dataDir);
    const f = await run.attach('f', { netns: 'missing' });
    const d = await run.del(f, { purpose: `DEL f after its ADD into a missing netns (CNI ${v})` });
    const left = await run.leftovers(f, before, true);
    run.judge('del.after-failed-add', f.add.code !== 0 && d.code === 0 && !beyond(left), `ADD into a netns that does not exist (${f.netns}) fails; the DEL after it exits 0 and leaves no more than a plain DEL`,
      f.add.code === 0 ? 'the ADD into a missing netns succeeded' : variantSeen(d, left), [f.add, d]);
  } else {
    run.notApplicable('del.after-failed-add', 'an IPAM plugin does not open CNI_NETNS, so there is no failed ADD to provoke that leaves its DEL config valid');
  }

  {
    const group = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => run.attach(`g${i}`)));
    const failed = group.filter((g) => g.add.code !== 0);
    const addresses = group.flatMap((g) => normalizeResult(g.result).ips.map((x) => x.address.split('/')[0] ?? ''));
    const dupes = [...new Set(addresses.filter((x, i) => addresses.indexOf(x) !== i))];
    const noAddress = group.filter((g) => g.add.code === 0 && normalizeResult(g.result).ips.length === 0).map((g) => g.label);
    const problems = [
      ...failed.map((g) => `${g.label}: ${g.add.timedOut ? `no answer within ${Math.round(g.add.ms / 1000)} s` : `exit ${g.add.code}`}`), ...dupes.map((x) => `address ${x} handed out more than once`),
      ...noAddress.map((l) => `${l}: the result lists no address`),
    ];
    run.judge('add.concurrent', problems.length === 0, `${CONCURRENT} ADDs at once all exit 0, each with an address, all distinct`, problems.length === 0 ? `addresses ${addresses.join(', ')}` : list(problems), group.map((g) => g.add));
    await Promise.all(group.map((g) => run.del(g, { purpose: `DEL ${g.label} (CNI ${v}), clean-up` })));
  }

  if (run.applies('status.ready')) {
    const s = await run.delegate.call({ command: 'STATUS', stdin: a.config, purpose: `STATUS (CNI ${v})` });
    run.judge('status.ready', s.code === 0, 'STATUS exits 0 (the same plugin served ADD just before)', outcome(s), [s]);
  } else {
    run.notApplicable('status.ready', `STATUS exists from CNI 1.1.0; this is ${v}`);
  }
  if (run.applies('gc.releases-stale')) {
    const f0 = await filesUnder(dataDir);
    const p = await run.attach('p');
    const f1 = await filesUnder(dataDir);
    const q = await run.attach('q');
    const f2 = await filesUnder(dataDir);
    const pFiles = f1.filter((x) => !f0.includes(x));
    const qFiles = f2.filter((x) => !f1.includes(x));
    const valid = [{ containerID: p.containerId, ifname: p.ifname }];
    // The spec names the key cni.dev/attachments; libcni sends cni.dev/valid-attachments. Both are sent.
    const gc = await run.delegate.call({
      command: 'GC', stdin: { ...a.config, 'cni.dev/attachments': valid, 'cni.dev/valid-attachments': valid }, purpose: `GC keeping only p (CNI ${v})`,
    });
    const after = await filesUnder(dataDir);
    const problems = [
      ...(gc.code !== 0 ? [`GC exit ${gc.code}`] : []),
      ...qFiles.filter((x) => after.includes(x)).map((x) => `q's ${x} is still there`),
      ...pFiles.filter((x) => !after.includes(x)).map((x) => `p's ${x} was removed though p is listed`),
    ];
    run.judge('gc.releases-stale', p.add.code === 0 && q.add.code === 0 && problems.length === 0, 'GC exits 0, removes the state q\'s ADD made under {{dataDir}}, keeps p\'s',
      problems.length === 0 ? (qFiles.length === 0 ? 'GC exit 0; q\'s ADD made no files under {{dataDir}}, so only the exit status could be judged' : `q's ${qFiles.join(', ')} gone, p's kept`) : list(problems), [p.add, q.add, gc]);
    await run.del(p, { purpose: `DEL p (CNI ${v}), clean-up` });
    await run.del(q, { purpose: `DEL q (CNI ${v}), clean-up` });
  } else {
    run.notApplicable('gc.releases-stale', `GC exists from CNI 1.1.0; this is ${v}`);
  }

  await run.del(a, { purpose: `DEL a (CNI ${v}), clean-up` });
  await run.cleanup();
  const end = await snapshot(hostNs, dataDir);
  residue[v] = diffSnapshots(pristine, end).added.filter((x) => !run.harnessMade(x));
}

/** Protocol requirements judged once, at the highest version both sides know. */
async function protocolChecks(delegate: Delegate, opts: SpecSuiteOptions, values: PlaceholderValues, claimed: string[], version: string): Promise<RequirementResult[]> {
  const results: RequirementResult[] = [];
  const netnsName = `${opts.name}-proto`;
  await addNetns(netnsName);
  try {
    const base = { containerId: `${opts.name}-proto`, netns: netnsPath(netnsName), ifname: IFNAME };
    const config = renderConfig(opts.config, values, version);
    const cleanupDel = async (c: CallRecord) => {
      if (c.code === 0) await delegate.call({ command: 'DEL', ...base, stdin: config, purpose: 'DEL, clean-up after an ADD that should have failed' });
    };
    const unsupported = KNOWN_VERSIONS.find((k) => !claimed.includes(k)) ?? '99.0.0';
    const u = await delegate.call({ command: 'ADD', ...base, stdin: renderConfig(opts.config, values, unsupported), purpose: `ADD with cniVersion ${unsupported}, which VERSION does not list` });
    const uErr = stdoutJson(u) as { code?: unknown } | undefined;
    results.push(judged('version.unsupported-refused', undefined, u.code !== 0 && uErr?.code === 1 ? 'passed' : 'failed', `exit non-zero with error code 1 for cniVersion ${unsupported}`, `exit ${u.code}, code ${JSON.stringify(uErr?.code)}`, [describeCall(u)]));
    await cleanupDel(u);

    const missing: CallRecord[] = [];
    const problems: string[] = [];
    for (const name of ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME']) {
      const c = await delegate.call({ command: 'ADD', ...base, stdin: config, omit: [name], purpose: `ADD without ${name}` });
      missing.push(c);
      const err = stdoutJson(c) as { code?: unknown; msg?: unknown; details?: unknown } | undefined;
      if (c.code === 0) problems.push(`without ${name}: exit 0`);
      else if (err?.code !== 4) problems.push(`without ${name}: code ${JSON.stringify(err?.code)}`);
      else if (!`${String(err.msg)} ${String(err.details ?? '')}`.includes(name)) problems.push(`without ${name}: the message does not name it ("${String(err.msg)}")`);
      await cleanupDel(c);
    }
    results.push(judged('env.missing', undefined, problems.length === 0 ? 'passed' : 'failed', 'exit non-zero, code 4, msg or details naming the variable', problems.length === 0 ? 'as expected' : list(problems), missing.map(describeCall)));

    const bogus = await delegate.call({ command: 'BOGUS', ...base, stdin: config, purpose: 'CNI_COMMAND=BOGUS' });
    const bErr = stdoutJson(bogus) as { code?: unknown; msg?: unknown; details?: unknown } | undefined;
    const bogusOk = bogus.code !== 0 && bErr?.code === 4 && `${String(bErr.msg)} ${String(bErr.details ?? '')}`.includes('CNI_COMMAND');
    results.push(judged('env.invalid', undefined, bogusOk ? 'passed' : 'failed', 'exit non-zero, code 4, msg or details naming CNI_COMMAND', `exit ${bogus.code}, code ${JSON.stringify(bErr?.code)}, msg ${JSON.stringify(bErr?.msg)}`, [describeCall(bogus)]));

    const bad = await delegate.call({ command: 'ADD', ...base, stdin: '{"cniVersion": "1.0.0", "name": ', purpose: 'ADD with a truncated JSON config' });
    const badErr = stdoutJson(bad) as { code?: unknown } | undefined;
    results.push(judged('stdin.malformed', undefined, bad.code !== 0 && badErr?.code === 6 ? 'passed' : 'failed', 'exit non-zero, code 6', `exit ${bad.code}, code ${JSON.stringify(badErr?.code)}`, [describeCall(bad)]));
    await cleanupDel(bad);
  } finally {
    await deleteNetns(netnsName);
  }
  return results;
}

function errorChecks(calls: CallRecord[]): RequirementResult {
  // A call the harness killed for running too long printed no error of its own; its requirement says so.
  const failing = calls.filter((c) => c.code !== 0 && !c.timedOut);
  const bad = failing.map((c) => ({ c, problems: errorObjectProblems(c.stdout) })).filter((x) => x.problems.length > 0);
  const noVersion = failing.filter((c) => (stdoutJson(c) as { cniVersion?: unknown } | undefined)?.cniVersion === undefined).length;
  return judged('error.well-formed', undefined, failing.length === 0 ? 'skipped' : bad.length === 0 ? 'passed' : 'failed',
    'every failing call prints a JSON object with an integer code and a non-empty msg on stdout',
    failing.length === 0 ? 'could not run: no call failed' : bad.length === 0 ? `all ${failing.length} errors well-formed` : `${bad.length} of ${failing.length} errors malformed: ${list(bad.map((x) => `${x.c.purpose}: ${x.problems.join(', ')}`))}`,
    [...bad.map((x) => describeCall(x.c)), ...(noVersion > 0 ? [`observation, not judged: ${noVersion} of ${failing.length} errors carry no cniVersion (CNI spec §5 lists it among an error's keys)`] : [])]);
}

/** A host namespace of its own for a group of calls (each CNI version gets one, so versions run side by side). */
async function hostNamespace(opts: SpecSuiteOptions, name: string): Promise<string> {
  await addNetns(name);
  if (opts.config.uses.has('master')) await addVethPair(name, 'certm0', 'certm0p');
  return name;
}

export async function runSpecSuite(opts: SpecSuiteOptions): Promise<SpecOutcome> {
  const started = Date.now();
  await deleteNetnsAll(await netnsWithPrefix(`${opts.name}-`));
  const dataRoot = await mkdtemp(path.join(os.tmpdir(), `multus-e2e-certify-${opts.name}-`));
  const calls: CallRecord[] = [];
  const delegate = new Delegate(opts.delegate, await hostNamespace(opts, `${opts.name}-host`), calls);
  const results: RequirementResult[] = [];
  const residue: Record<string, string[]> = {};
  try {
    const asked = String(opts.config.template.cniVersion);
    const ver = await delegate.call({ command: 'VERSION', stdin: { cniVersion: asked }, purpose: `VERSION (asked ${asked})` });
    const verJson = stdoutJson(ver) as { supportedVersions?: unknown } | undefined;
    const claimed = Array.isArray(verJson?.supportedVersions) ? verJson.supportedVersions.filter((x): x is string => typeof x === 'string') : [];
    const verProblems = ver.code !== 0 ? [`exit ${ver.code}`] : versionResultProblems(verJson, asked);
    const verCalls = [ver];
    for (const v of claimed.filter((c) => c !== asked)) {
      const c = await delegate.call({ command: 'VERSION', stdin: { cniVersion: v }, purpose: `VERSION (asked ${v})` });
      verCalls.push(c);
      verProblems.push(...(c.code !== 0 ? [`asked ${v}: exit ${c.code}`] : versionResultProblems(stdoutJson(c), v).map((p) => `asked ${v}: ${p}`)));
    }
    results.push(judged('version.well-formed', undefined, verProblems.length === 0 ? 'passed' : 'failed', 'exit 0, {"cniVersion": <asked>, "supportedVersions": [...]} for the config\'s version and each claimed one',
      verProblems.length === 0 ? `claims ${claimed.join(', ')}` : list(verProblems), verCalls.map(describeCall)));

    const versions = KNOWN_VERSIONS.filter((k) => claimed.includes(k));
    const unknown = claimed.filter((c) => !(KNOWN_VERSIONS as readonly string[]).includes(c));
    const values: PlaceholderValues = { name: `${opts.name}-net`, master: 'certm0', dataDir: path.join(dataRoot, 'proto'), device: '', ...subnetValues(199) };
    const kind = opts.ipamOnly ? 'ipam' : 'interface';
    const gap = opts.ipamOnly ? undefined : await kernelGap(String(opts.config.template.type), `${opts.name}-probe`);
    // Each part's time in the progress lines: the vm guest is slow enough for it to matter where it goes.
    const who = path.basename(opts.delegate);
    const took = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
    if (versions.length > 0 && !gap) {
      const t0 = Date.now();
      results.push(...await protocolChecks(delegate, opts, values, claimed, versions[versions.length - 1]!));
      opts.progress(`certify: ${who}: VERSION and the protocol checks done in ${took(started)}, the protocol checks alone ${took(t0)}`);
    }
    if (gap) {
      for (const v of versions) {
        results.push(...REQUIREMENTS.filter((r) => r.perVersion && (r.applies === 'both' || r.applies === kind)).map((r) => judged(r.id, v, 'skipped', r.title, `could not run: ${gap}`)));
      }
      for (const id of ['version.unsupported-refused', 'env.missing', 'env.invalid', 'stdin.malformed']) results.push(judged(id, undefined, 'skipped', '—', `could not run: ${gap}`));
    } else {
      opts.progress(`certify: ${who}: CNI ${versions.join(', ')}, side by side …`);
      // Each version has its own host namespace, subnet, network name and state dir, so their diffs never mix.
      const perVersion = await Promise.all(versions.map(async (v, i) => {
        const octet = 200 + i;
        const hostNs = await hostNamespace(opts, `${opts.name}-h${i}`);
        const run = new VersionRun(opts, new Delegate(opts.delegate, hostNs, calls), v, `v${i}`, hostNs,
          { ...values, name: `${opts.name}-net${i}`, dataDir: path.join(dataRoot, `v${i}`), ...subnetValues(octet) }, octet);
        const t0 = Date.now();
        try {
          await runVersion(run, opts, residue, hostNs);
        } finally {
          await run.cleanup();
        }
        opts.progress(`certify: ${who}: CNI ${v} done in ${took(t0)}`);
        return run.results;
      }));
      results.push(...perVersion.flat());
    }
    for (const v of unknown) results.push(judged('add.result-schema', v, 'skipped', `a result schema for CNI ${v}`, `could not run: the harness knows the shapes of ${KNOWN_VERSIONS.join(', ')} only`));
    results.push(gap ? judged('error.well-formed', undefined, 'skipped', '—', `could not run: ${gap}`) : errorChecks(calls));
    return { claimed, results, residue, calls };
  } finally {
    await deleteNetnsAll(await netnsWithPrefix(`${opts.name}-`));
    await rm(dataRoot, { recursive: true, force: true });
  }
}
