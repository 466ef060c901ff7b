// Nodes bind-mount their private dirs over paths such as /etc/cni/net.d; where those paths do not exist
// on the host, `mkdir -p` creates them on the shared root filesystem. This module remembers which dirs
// the provider created and removes them again once no local cluster is left on the host, so a run
// leaves the machine as it found it. Removal waits for the last cluster: rmdir of a dir that is a
// mount point in another cluster's node would detach that node's mount.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ANY_CLUSTER_NETNS } from './names.ts';

/** On /run (tmpfs), so a reboot forgets it together with the mounts it is about. */
export const CREATED_DIRS_FILE = '/run/multus-e2e/created-mountpoints';

/** Records the components of `target` that do not exist yet; call before creating it. */
export function recordMissingDirs(target: string, file = CREATED_DIRS_FILE): void {
  const missing: string[] = [];
  for (let dir = target; dir !== '/' && !existsSync(dir); dir = dirname(dir)) missing.push(dir);
  if (missing.length === 0) return;
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, missing.map((d) => `${d}\n`).join(''));
}

/** Removes the recorded dirs (deepest first, only when empty) if no local cluster remains. */
export function removeCreatedDirsIfLastCluster(file = CREATED_DIRS_FILE, netnsDir = '/run/netns'): string[] {
  if (!existsSync(file)) return [];
  if (existsSync(netnsDir) && readdirSync(netnsDir).some((n) => ANY_CLUSTER_NETNS.test(n))) return [];
  const dirs = [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))];
  dirs.sort((a, b) => b.split('/').length - a.split('/').length);
  const removed: string[] = [];
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
      removed.push(dir);
    } catch {
      // not empty (someone else put files there) or already gone: leave it
    }
  }
  rmSync(file, { force: true });
  try {
    rmdirSync(dirname(file));
  } catch {
    // holds something else
  }
  return removed;
}
