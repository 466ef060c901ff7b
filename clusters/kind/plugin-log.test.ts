import { describe, expect, it } from 'vitest';
import { callsFromPluginLog, pluginLogLines } from './plugin-log.ts';

const line = (o: Record<string, unknown>): string => JSON.stringify({ time: '2026-11-23T12:00:01.000Z', level: 'info', ...o });

describe('plugin JSON log → CNI calls', () => {
  it('attaches delegate lines to the call of the same verb and container, even when calls interleave', () => {
    const text = [
      line({ msg: 'delegate', verb: 'ADD', containerId: 'a', pod: 'ns/pa', network: 'ns/mv', type: 'macvlan', ms: 5 }),
      line({ msg: 'delegate', verb: 'ADD', containerId: 'b', pod: 'ns/pb', network: 'ns/br', type: 'bridge', ms: 7 }),
      line({ msg: 'delegate', verb: 'ADD', containerId: 'a', pod: 'ns/pa', network: 'ns/iv', type: 'ipvlan', ms: 6 }),
      line({ msg: 'call', verb: 'ADD', containerId: 'b', pod: 'ns/pb', ms: 20, ok: true }),
      line({ msg: 'call', verb: 'ADD', containerId: 'a', pod: 'ns/pa', ms: 1000, ok: false, error: 'delegate ipvlan failed' }),
    ].join('\n');
    const calls = callsFromPluginLog('n1', text);
    expect(calls.map((c) => [c.containerId, c.delegates.map((d) => d.type), c.exitCode])).toEqual([
      ['b', ['bridge'], 0],
      ['a', ['macvlan', 'ipvlan'], 1],
    ]);
    expect(calls[1]?.startedAt).toBe('2026-11-23T12:00:00.000Z');
    expect(calls[1]).toMatchObject({ op: 'ADD', node: 'n1', namespace: 'ns', pod: 'pa', ms: 1000 });
  });

  it('skips non-JSON lines, other messages and verbs that are not calls on a pod', () => {
    const text = ['plain text line', '{broken json', line({ msg: 'start', verb: 'ADD' }), line({ msg: 'call', verb: 'VERSION', ms: 1, ok: true }), ''].join('\n');
    expect(callsFromPluginLog('n1', text)).toEqual([]);
  });

  it('filters log lines by container id', () => {
    const text = [line({ msg: 'call', containerId: 'x' }), line({ msg: 'call', containerId: 'y' }), 'plain y-less line', 'plain about x', ''].join('\n');
    expect(pluginLogLines(text)).toHaveLength(4);
    expect(pluginLogLines(text, 'x')).toEqual([line({ msg: 'call', containerId: 'x' }), 'plain about x']);
  });
});
