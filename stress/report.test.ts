import { describe, expect, it } from 'vitest';
import type { Leak } from '../clusters/leak-checks.ts';
import type { CniCallRecord } from '../clusters/provider.ts';
import { formatStressSummary, formatWave, stressReport, waveLatencyRuns, waveReport } from './report.ts';
import { stressNetworks, type WaveOutcome } from './waves.ts';

const t = (ms: number) => new Date(Date.UTC(2026, 11, 1, 3, 0, 0) + ms).toISOString();
const call = (op: 'ADD' | 'DEL', pod: string, startMs: number, ms: number, node = 'node-1', exitCode = 0): CniCallRecord =>
  ({ op, node, namespace: 'stress', pod, containerId: `id-${pod}`, ms, exitCode, delegates: [], startedAt: t(startMs) });

/** Wave 1: three pods on node-1, each ADD 10 ms slower than the one before (one more pod on the node), then their DELs. */
const outcome: WaveOutcome = {
  wave: 1, started: 2, seconds: 12.3, carriedLeaks: 0,
  failures: [{ pod: 'w1-p3', phase: 'start', reason: 'ADD failed (exit 1, CNI error code 11 on node-1)' }],
  leaks: [
    { kind: 'ipam', node: 'node-1', object: '/var/lib/cni/networks/stress-net1/198.18.16.4', what: '/var/lib/cni/networks/stress-net1/198.18.16.4 on node-1 is still allocated (host-local) with no pod left' },
    { kind: 'link', node: 'node-2', object: 'veth1', what: 'link veth1 (veth) appeared on node-2 and is still there' },
  ],
  calls: [call('ADD', 'w1-p1', 0, 100), call('ADD', 'w1-p2', 200, 110), call('ADD', 'w1-p3', 400, 120, 'node-1', 1),
    call('DEL', 'w1-p1', 1000, 40), call('DEL', 'w1-p2', 1100, 30), call('DEL', 'w1-p3', 1200, 20)],
};

describe('stress report shaping', () => {
  const runs = waveLatencyRuns(outcome, 'bundled', 'host');

  it('marks each call with its wave and the pods on its node when it started', () => {
    expect(runs.map((r) => [r.op, r.pod, r.wave, r.podsOnNode, r.scenario])).toEqual([
      ['ADD', 'stress/w1-p1', 1, 0, 'stress wave 1'], ['ADD', 'stress/w1-p2', 1, 1, 'stress wave 1'], ['ADD', 'stress/w1-p3', 1, 2, 'stress wave 1'],
      ['DEL', 'stress/w1-p1', 1, 2, 'stress wave 1'], ['DEL', 'stress/w1-p2', 1, 1, 'stress wave 1'], ['DEL', 'stress/w1-p3', 1, 0, 'stress wave 1'],
    ]);
  });

  it('gives a wave its counts, leaks by kind, percentiles and growth per pod', () => {
    const w = waveReport(outcome, runs, 3);
    expect(w).toMatchObject({
      wave: 1, pods: 3, started: 2, failed: 1, carriedLeaks: 0, seconds: 12.3,
      leaksByKind: { link: 1, address: 0, netns: 0, ipam: 1, cache: 0 },
      latency: { ADD: { n: 3, p50: 110, p95: 120, p99: 120, max: 120 }, DEL: { n: 3, p50: 30, p95: 40, p99: 40, max: 40 } },
      msPerPod: { ADD: 10, DEL: 10 },
    });
    expect(w.leaks).toHaveLength(2);
  });

  it('prints a wave with its failures and leaks, and a summary whose verdict fails on either', () => {
    const w = waveReport(outcome, runs, 3);
    expect(formatWave(w, 5).split('\n')).toEqual([
      'wave 1/5: 2/3 pods started, 1 failed to start, 0 failed to delete; leaks: 2 new (1 link, 1 ipam); 12.3 s',
      '  ADD p50/p95/p99 110/120/120 ms (n 3), +10 ms per pod on the node',
      '  DEL p50/p95/p99 30/40/40 ms (n 3), +10 ms per pod on the node',
      '  failed to start: w1-p3: ADD failed (exit 1, CNI error code 11 on node-1)',
      '  leak (link): link veth1 (veth) appeared on node-2 and is still there',
      '  leak (ipam): /var/lib/cni/networks/stress-net1/198.18.16.4 on node-1 is still allocated (host-local) with no pod left',
    ]);
    const plan = { pods: 3, networks: 2, waves: 1, parallel: 2 };
    const failed = stressReport({ plugin: 'bundled', provider: 'local', environment: 'host', nodes: 2, plan, startedAt: t(0), waves: [w] });
    expect(failed).toMatchObject({ totals: { started: 2, failed: 1, leaks: 2 }, ok: false });
    const summary = formatStressSummary(failed).split('\n');
    expect(summary[0]).toBe('stress: 3 pods × 2 networks, 1 waves, parallel 2, 2 nodes; plugin bundled (host)');
    expect(summary[2]).toBe('1     2/3      1         2      110/120/120         30/40/40            10/10               12.3');
    expect(summary.at(-1)).toBe('FAILED: 1 pod failures (start or delete), 2 leaks (every one in stress.json)');

    const clean = { ...w, started: 3, failed: 0, failures: [], leaks: [] as Leak[] };
    const ok = stressReport({ plugin: 'bundled', provider: 'local', environment: 'host', nodes: 2, plan, startedAt: t(0), waves: [clean] });
    expect(ok.ok).toBe(true);
    expect(formatStressSummary(ok).split('\n').at(-1)).toBe('OK: 3 pods started, 0 failed, no leaks');
  });

  it('lists at most five leaks of a kind on the terminal and says how many more', () => {
    const many = Array.from({ length: 7 }, (_, i): Leak => ({ kind: 'cache', node: 'node-1', object: `f${i}`, what: `f${i} on node-1 …` }));
    const text = formatWave(waveReport({ ...outcome, failures: [], leaks: many }, runs, 3), 1);
    expect(text.match(/leak \(cache\)/g)).toHaveLength(5);
    expect(text).toContain('  … and 2 more cache leaks');
  });
});

describe('stressNetworks', () => {
  it('alternates macvlan on eth1 and bridge, each with host-local in its own /20 of 198.18.0.0/15', () => {
    const nets = stressNetworks(3);
    expect(nets.map((n) => [n.name, n.config.type, (n.config.ipam as { ranges: { subnet: string }[][] }).ranges[0]![0]!.subnet])).toEqual([
      ['stress-net1', 'macvlan', '198.18.16.0/20'], ['stress-net2', 'bridge', '198.18.32.0/20'], ['stress-net3', 'macvlan', '198.18.48.0/20']]);
    expect(nets[0]!.config.master).toBe('eth1');
    expect((stressNetworks(8).at(-1)!.config.ipam as { ranges: { subnet: string }[][] }).ranges[0]![0]!.subnet).toBe('198.18.128.0/20');
    expect(() => stressNetworks(9)).toThrow('networks must be 1 to 8, got 9');
  });
});
