// The V8 code cache of the bundled thin plugin (loader.ts): one file in the call's cache directory,
// its V8 data behind a check value. A missing, unreadable or corrupt file, or one made for another
// bundle, reads as no cache; V8 itself refuses data of another V8 version or flag set.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export const CODE_CACHE_FILE = '.code-cache';

/** The file's check value: a hash of the bundle it was made for and of its V8 data. */
function check(bundleHash: string, data: Buffer): Buffer {
  return createHash('sha256').update(bundleHash).update(data).digest();
}

/** V8 data of a cache file, when it is whole and was made for this bundle. */
export function readCodeCache(file: string, bundleHash: string): Buffer | undefined {
  try {
    const bytes = readFileSync(file);
    const data = bytes.subarray(32);
    return bytes.length > 32 && check(bundleHash, data).equals(bytes.subarray(0, 32)) ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort, atomically, readable by root only (it is code the plugin runs). */
export function writeCodeCache(file: string, bundleHash: string, data: Buffer): void {
  try {
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, Buffer.concat([check(bundleHash, data), data]), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // An unwritable directory: every call compiles the bundle, as without a cache.
  }
}
