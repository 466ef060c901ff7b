// Reading and changing a pod's network namespace with iproute2 (nsenter into CNI_NETNS, which may be
// any netns path, not only a named /run/netns entry).
import { execFile } from 'node:child_process';

export function runInNetns(netns: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('nsenter', [`--net=${netns}`, ...argv], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}

/** Interface names present in the namespace. */
export async function linkNames(netns: string): Promise<string[]> {
  const r = await runInNetns(netns, ['ip', '-j', 'link', 'show']);
  if (r.code !== 0) throw new Error(`cannot list links in ${netns}: ${r.stderr.trim()}`);
  return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname);
}

export interface RouteEntry {
  dst: string;
  dev?: string;
  gateway?: string;
  metric?: number;
  table?: string;
}

export async function defaultRoutes(netns: string, family: 4 | 6): Promise<RouteEntry[]> {
  const r = await runInNetns(netns, ['ip', `-${family}`, '-j', 'route', 'show', 'default']);
  if (r.code !== 0) throw new Error(`cannot list routes in ${netns}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout || '[]') as RouteEntry[];
}
