// Turns the plugin's JSON log into CniCallRecords. On kind the container runtime is
// containerd, which does not time CNI calls for us, so the plugin's own per-call lines are the source.
import type { CniCallRecord } from '../provider.ts';

type Op = CniCallRecord['op'];
const OPS: readonly Op[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'];

type LogLine = Record<string, unknown>;

function parseJsonLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function splitPod(pod: string): { namespace: string; pod: string } {
  const slash = pod.indexOf('/');
  return slash < 0 ? { namespace: '', pod } : { namespace: pod.slice(0, slash), pod: pod.slice(slash + 1) };
}

/**
 * Every ADD/DEL/CHECK/STATUS/GC call in one node's log. Delegate lines belong to the next call line
 * of the same verb and container (calls of different pods may interleave). `exitCode` is 0 for
 * ok:true and 1 otherwise (the log records success, not the exact code); `ms` is the plugin's own
 * measurement, which on kind excludes the Node.js start-up before the plugin's first line runs.
 */
export function callsFromPluginLog(node: string, text: string): CniCallRecord[] {
  const pending = new Map<string, CniCallRecord['delegates']>();
  const calls: CniCallRecord[] = [];
  for (const raw of text.split('\n')) {
    const line = parseJsonLine(raw.trim());
    if (!line) continue;
    const verb = str(line.verb).toUpperCase() as Op;
    if (!OPS.includes(verb)) continue;
    const key = `${verb}|${str(line.containerId)}`;
    if (line.msg === 'delegate') {
      const list = pending.get(key) ?? [];
      list.push({ network: str(line.network), type: str(line.type), ms: num(line.ms) });
      pending.set(key, list);
    } else if (line.msg === 'call') {
      const ms = num(line.ms);
      const endedAt = Date.parse(str(line.time));
      calls.push({
        op: verb,
        node,
        ...splitPod(str(line.pod)),
        containerId: str(line.containerId),
        ms,
        exitCode: line.ok === true ? 0 : 1,
        delegates: pending.get(key) ?? [],
        startedAt: Number.isNaN(endedAt) ? str(line.time) : new Date(endedAt - ms).toISOString(),
      });
      pending.delete(key);
    }
  }
  return calls;
}

/** Log lines as written, or only those about one container (JSON field, or the id in a plain line). */
export function pluginLogLines(text: string, containerId?: string): string[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (!containerId) return lines;
  return lines.filter((l) => {
    const parsed = parseJsonLine(l.trim());
    return parsed ? parsed.containerId === containerId : l.includes(containerId);
  });
}
