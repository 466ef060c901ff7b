import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CniCallRecord } from '../clusters/provider.ts';
import {
  latencyGrowth, latencyRunsFrom, percentile, podsOnNodeAtStart, renderLatencyHtml, summarize, summarizeByGroup, summarizeOp, writeLatencyReport, type Environment, type LatencyRun,
} from './latency.ts';

const run = (op: string, ms: number, environment: Environment = 'host'): LatencyRun =>
  ({ scenario: 's', environment, provider: 'local', plugin: 'bundled', op, pod: 'ns/a', node: 'node-1', ms, delegates: [] });

describe('percentile (nearest rank)', () => {
  it('picks the smallest value with at least p% at or below it', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
    expect(percentile([], 50)).toBe(0);
  });
});

describe('summarize', () => {
  it('summarizes per op from unsorted values, rounding to 0.1 ms', () => {
    expect(summarizeOp([30, 10.04, 20])).toEqual({ n: 3, p50: 20, p95: 30, p99: 30, max: 30 });
  });

  it('always reports ADD and DEL, plus any other op that ran', () => {
    const summary = summarize([run('ADD', 100), run('ADD', 300), run('ADD', 200), run('CHECK', 5)]);
    expect(Object.keys(summary)).toEqual(['ADD', 'DEL', 'CHECK']);
    expect(summary.ADD).toEqual({ n: 3, p50: 200, p95: 300, p99: 300, max: 300 });
    expect(summary.DEL).toEqual({ n: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });

  it('never pools environments or plugins: one summary per (environment, plugin, op)', () => {
    const runs = [run('ADD', 10), run('ADD', 30), run('ADD', 400, 'vm'), run('ADD', 600, 'vm'), { ...run('ADD', 20), plugin: 'thin:/bin/multus' }];
    const summaries = summarizeByGroup(runs);
    expect(summaries.map((s) => [s.environment, s.plugin, s.op, s.n, s.p50, s.max])).toEqual([
      ['host', 'bundled', 'ADD', 2, 10, 30], ['host', 'bundled', 'DEL', 0, 0, 0],
      ['host', 'thin:/bin/multus', 'ADD', 1, 20, 20], ['host', 'thin:/bin/multus', 'DEL', 0, 0, 0],
      ['vm', 'bundled', 'ADD', 2, 400, 600], ['vm', 'bundled', 'DEL', 0, 0, 0],
    ]);
  });
});

describe('latencyRunsFrom', () => {
  it('turns the runtime\'s call records into report runs', () => {
    const call: CniCallRecord = {
      op: 'ADD', node: 'node-2', namespace: 'e2e-1', pod: 'a', containerId: 'c1', ms: 123.456, exitCode: 0,
      delegates: [{ network: 'e2e-1/data-net', type: 'macvlan', ms: 12.34 }], startedAt: '2026-01-01T00:00:00Z',
    };
    expect(latencyRunsFrom([call], 'scn', 'local', 'bundled', 'vm')).toEqual([{
      scenario: 'scn', environment: 'vm', provider: 'local', plugin: 'bundled', op: 'ADD', pod: 'e2e-1/a', node: 'node-2', ms: 123.5,
      delegates: [{ network: 'e2e-1/data-net', type: 'macvlan', ms: 12.3 }],
    }]);
    expect(latencyRunsFrom([call], 'scn', 'kind', 'bundled')[0]?.environment).toBe('kind');
  });
});

describe('writeLatencyReport', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'latency-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the documented JSON schema and a self-contained HTML chart', async () => {
    const runs = [run('ADD', 120), run('ADD', 180), run('DEL', 60)];
    const { json, html } = await writeLatencyReport(dir, runs);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.runs).toEqual(runs);
    expect(report.summaries).toEqual([
      { environment: 'host', plugin: 'bundled', op: 'ADD', n: 2, p50: 120, p95: 180, p99: 180, max: 180 },
      { environment: 'host', plugin: 'bundled', op: 'DEL', n: 1, p50: 60, p95: 60, p99: 60, max: 60 },
    ]);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/<script|<link|src="http/); // nothing loaded from elsewhere
    expect((page.match(/<circle/g) ?? []).length).toBe(3); // one dot per call
  });

  it('charts one distribution per environment and plugin', () => {
    const runs = [run('ADD', 10), run('DEL', 5), run('ADD', 400, 'vm')];
    const page = renderLatencyHtml({ runs, summaries: summarizeByGroup(runs) });
    expect(page.match(/<h2>[^<]*<\/h2>/g)).toEqual(['<h2>host · plugin bundled</h2>', '<h2>vm · plugin bundled</h2>', '<h2>Slowest calls</h2>']);
    expect((page.match(/aria-label="CNI call latency distribution per op"/g) ?? []).length).toBe(2);
  });

  it('escapes scenario names and says so when there were no calls', () => {
    const runs = [{ ...run('ADD', 1), scenario: '<b>x</b>' }];
    const page = renderLatencyHtml({ runs, summaries: summarizeByGroup(runs) });
    expect(page).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(renderLatencyHtml({ runs: [], summaries: [] })).toContain('No CNI calls were recorded');
  });
});

describe('pods on the node and latency growth (stress runs)', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 11, 1, 3, 0, s)).toISOString();
  const call = (op: 'ADD' | 'DEL', id: string, startS: number, ms: number, node = 'node-1', exitCode = 0): CniCallRecord =>
    ({ op, node, namespace: 'stress', pod: id, containerId: id, ms, exitCode, delegates: [], startedAt: t(startS) });

  it('counts the pods attached on the call\'s node when it started: ADD done, DEL not yet started (a DEL counts its own pod)', () => {
    const calls = [
      call('ADD', 'a', 0, 1000), // ends at 1 s
      call('ADD', 'b', 2, 1000), // a attached
      call('ADD', 'x', 2, 500, 'node-2'), // other node: nothing there
      call('ADD', 'f', 3, 100, 'node-1', 1), // b still running its ADD at 3 s? it ends at 3 s: attached
      call('ADD', 'c', 4, 1000), // a, b (a failed ADD never attaches)
      call('DEL', 'a', 6, 500), // a, b, c
      call('DEL', 'b', 7, 500), // b, c (a's DEL started before)
    ];
    expect(podsOnNodeAtStart(calls)).toEqual([0, 1, 0, 2, 2, 3, 2]);
  });

  it('gives per wave and op the median per pod-count bucket and the least-squares ms per pod', () => {
    const r = (wave: number, op: string, podsOnNode: number, ms: number): LatencyRun => ({ ...run(op, ms), wave, podsOnNode });
    const runs = [r(1, 'ADD', 0, 100), r(1, 'ADD', 1, 110), r(1, 'ADD', 2, 120), r(1, 'DEL', 2, 50), r(1, 'DEL', 1, 50),
      r(2, 'ADD', 0, 200), r(2, 'ADD', 2, 200), run('ADD', 999)];
    expect(latencyGrowth(runs, 3)).toEqual([
      { wave: 1, op: 'ADD', n: 3, msPerPod: 10, points: [[0, 100], [1, 110], [2, 120]] },
      { wave: 1, op: 'DEL', n: 2, msPerPod: 0, points: [[1, 50], [2, 50]] },
      { wave: 2, op: 'ADD', n: 2, msPerPod: 0, points: [[0, 200], [2, 200]] },
    ]);
  });

  it('draws a line per wave in latency.html, and nothing of the kind for runs without waves', () => {
    const runs = [0, 1, 2, 3].flatMap((n) => [1, 2].map((wave) => ({ ...run('ADD', 100 + n * wave), wave, podsOnNode: n })));
    const html = renderLatencyHtml({ runs, summaries: summarizeByGroup(runs) });
    expect(html).toContain('Latency as pods accumulate on a node');
    expect(html.match(/<polyline /g)).toHaveLength(2);
    expect(html).toContain('<title>wave 2: 2 ms per pod</title>');
    expect(renderLatencyHtml({ runs: [run('ADD', 5)], summaries: [] })).not.toContain('Latency as pods accumulate');
  });
});
