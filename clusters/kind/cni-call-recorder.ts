// CNI call records on kind for any plugin under test. containerd does not time the CNI calls it makes,
// and only the bundled plugin writes JSON call lines, so a small recorder takes the plugin's name in
// /opt/cni/bin: containerd runs it, it runs the real plugin with the same argv, stdin, stdout and
// environment, and appends one JSON line per call (op, container, netns, CNI_ARGS, start/end in µs,
// exit code) to a file on the node. The bundled plugin's own log adds per-delegate times.
import type { CniCallRecord } from '../provider.ts';
import { callsFromPluginLog } from './plugin-log.ts';

/** Where the recorder appends its lines inside every node. */
export const CNI_CALLS_FILE = '/var/log/multus-e2e/cni-calls.jsonl';

type Op = CniCallRecord['op'];
const OPS: readonly string[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'] satisfies readonly Op[];

/**
 * The recorder: a POSIX sh script (every node image has sh and GNU date). It runs the plugin as a
 * child so it can time it, and passes the plugin's output and exit code on unchanged. The values it writes unquoted
 * come from the runtime (hex container ids, paths, CNI_ARGS key=value pairs); a line that does not
 * parse is skipped by the reader rather than trusted.
 */
export function recorderScript(realPlugin: string, callsFile = CNI_CALLS_FILE): string {
  return `#!/bin/sh
# multus-e2e CNI call recorder: runs ${realPlugin} and records the call in ${callsFile}.
start=$(( $(date +%s%N) / 1000 ))
${shellQuote(realPlugin)} "$@"
code=$?
end=$(( $(date +%s%N) / 1000 ))
mkdir -p ${shellQuote(callsFile.replace(/\/[^/]*$/, ''))}
printf '{"op":"%s","containerId":"%s","netns":"%s","ifname":"%s","args":"%s","startUs":%s,"endUs":%s,"exitCode":%d}\\n' \\
  "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_ARGS" "$start" "$end" "$code" >> ${shellQuote(callsFile)}
exit $code
`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

interface RecorderLine {
  op: string;
  containerId: string;
  netns: string;
  args: string;
  startUs: number;
  endUs: number;
  exitCode: number;
}

function parseRecorderLine(line: string): RecorderLine | undefined {
  try {
    const v = JSON.parse(line) as Partial<RecorderLine>;
    if (typeof v.op !== 'string' || typeof v.startUs !== 'number' || typeof v.endUs !== 'number' || typeof v.exitCode !== 'number') return undefined;
    return { op: v.op, containerId: v.containerId ?? '', netns: v.netns ?? '', args: v.args ?? '', startUs: v.startUs, endUs: v.endUs, exitCode: v.exitCode };
  } catch {
    return undefined;
  }
}

/** K8S_POD_NAMESPACE / K8S_POD_NAME from CNI_ARGS ("IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;…"). */
function cniArg(args: string, key: string): string {
  for (const pair of args.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq) === key) return pair.slice(eq + 1);
  }
  return '';
}

/**
 * One node's CNI calls: the recorder's lines, with per-delegate times from the plugin's JSON log (the
 * bundled plugin writes them; other plugins give none). `ms` is the wall time containerd waited,
 * Node.js or Go start-up included, as on the local provider.
 */
export function callsFromRecorder(node: string, recorderText: string, pluginLogText = ''): CniCallRecord[] {
  const delegates = new Map<string, CniCallRecord['delegates'][]>();
  for (const call of callsFromPluginLog(node, pluginLogText)) {
    const key = `${call.op}|${call.containerId}`;
    delegates.set(key, [...(delegates.get(key) ?? []), call.delegates]);
  }
  const calls: CniCallRecord[] = [];
  for (const raw of recorderText.split('\n')) {
    const line = raw.trim() === '' ? undefined : parseRecorderLine(raw.trim());
    if (!line || !OPS.includes(line.op)) continue;
    const key = `${line.op}|${line.containerId}`;
    const fromLog = delegates.get(key)?.shift() ?? [];
    calls.push({
      op: line.op as Op,
      node,
      namespace: cniArg(line.args, 'K8S_POD_NAMESPACE'),
      pod: cniArg(line.args, 'K8S_POD_NAME'),
      containerId: line.containerId,
      netns: line.netns,
      ms: Math.round((line.endUs - line.startUs) / 10) / 100,
      exitCode: line.exitCode,
      delegates: fromLog,
      startedAt: new Date(Math.floor(line.startUs / 1000)).toISOString(),
    });
  }
  return calls;
}
