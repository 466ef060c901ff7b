// Per-container cache in cniDir/<containerID>: what was (or is being) attached, written before the
// first delegate ADD, so DEL and CHECK work without the pod, the NAD or the API server.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isJsonObject, type JsonObject } from '../cni/netconf.ts';

export interface CachedAttachment {
  /** "namespace/name" of the NAD, or the network name of a file config. */
  network: string;
  isDefault: boolean;
  ifname: string;
  /** The delegate config exactly as invoked (name, deviceID, args injected). */
  netConf: JsonObject;
  /** CNI_ARGS given to the delegate. */
  cniArgs: string;
  /** Capability arguments (runtimeConfig) offered to the delegate. */
  capabilityArgs: JsonObject;
  /** The delegate's ADD result, in its own cniVersion; absent until its ADD returned. */
  result?: unknown;
  /** Its ADD failed (and was rolled back): a DEL failure of it is logged, not returned. */
  addFailed?: boolean;
  defaultRoute?: string[];
  resourceName?: string;
  deviceId?: string;
}

export interface CacheEntry {
  version: 1;
  containerId: string;
  netns: string;
  ifname: string;
  cniVersion: string;
  pod?: { namespace: string; name: string; uid?: string };
  /** False while ADD is in progress (a crash mid-ADD leaves an incomplete entry for DEL to finish). */
  complete: boolean;
  attachments: CachedAttachment[];
}

export type CacheRead = { kind: 'entry'; entry: CacheEntry } | { kind: 'missing' } | { kind: 'corrupt'; path: string; reason: string };

export function cachePath(cniDir: string, containerId: string): string {
  return join(cniDir, containerId);
}

export function writeCache(cniDir: string, entry: CacheEntry): void {
  mkdirSync(cniDir, { recursive: true, mode: 0o700 });
  const path = cachePath(cniDir, entry.containerId);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
  renameSync(tmp, path);
}

function validEntry(v: unknown): v is CacheEntry {
  if (!isJsonObject(v) || v['version'] !== 1 || typeof v['containerId'] !== 'string' || !Array.isArray(v['attachments'])) return false;
  return v['attachments'].every(
    (a) => isJsonObject(a) && typeof a['network'] === 'string' && typeof a['ifname'] === 'string' && isJsonObject(a['netConf']) && typeof a['cniArgs'] === 'string',
  );
}

export function readCache(cniDir: string, containerId: string): CacheRead {
  const path = cachePath(cniDir, containerId);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', path, reason: (e as Error).message };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { kind: 'corrupt', path, reason: `invalid JSON: ${(e as Error).message}` };
  }
  if (!validEntry(parsed)) return { kind: 'corrupt', path, reason: 'not a multus cache entry (missing version/containerId/attachments)' };
  return { kind: 'entry', entry: parsed };
}

export function removeCache(cniDir: string, containerId: string): void {
  rmSync(cachePath(cniDir, containerId), { force: true });
}

/** Container IDs that have a cache entry (IDs start alphanumeric: dot files are other state). */
export function listCache(cniDir: string): string[] {
  try {
    return readdirSync(cniDir).filter((f) => !f.includes('.tmp-') && !f.startsWith('.'));
  } catch {
    return [];
  }
}
