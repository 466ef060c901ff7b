// workDir/cni-calls.jsonl: one CniCallRecord per CNI call the node agents made, with per-delegate
// times taken from the plugin's JSON log lines of that container (msg "delegate").
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { CniCallRecord } from '../provider.ts';

export function appendCniCall(file: string, rec: CniCallRecord): void {
  appendFileSync(file, `${JSON.stringify(rec)}\n`);
}

export function readCniCalls(file: string, since?: string): CniCallRecord[] {
  if (!existsSync(file)) return [];
  const all = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CniCallRecord);
  return since ? all.filter((r) => r.startedAt >= since) : all;
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Reads what was appended to a log since byte offset `from`. */
export function readFrom(file: string, from: number): string {
  const size = fileSize(file);
  if (size <= from) return '';
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - from);
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

interface DelegateLine {
  msg?: string;
  verb?: string;
  containerId?: string;
  network?: string;
  type?: string;
  ms?: number;
}

export function delegateTimes(logText: string, containerId: string, verb: string): CniCallRecord['delegates'] {
  const out: CniCallRecord['delegates'] = [];
  for (const line of logText.split('\n')) {
    if (!line.includes(containerId)) continue;
    let l: DelegateLine;
    try {
      l = JSON.parse(line) as DelegateLine;
    } catch {
      continue;
    }
    if (l.msg === 'delegate' && l.containerId === containerId && l.verb === verb && typeof l.ms === 'number') {
      out.push({ network: String(l.network ?? ''), type: String(l.type ?? ''), ms: l.ms });
    }
  }
  return out;
}
