// The V8 code cache of the bundled thin plugin (loader.ts): one file in the call's cache directory,
// its V8 data behind a check value. A missing, unreadable or corrupt file, one made for another bundle
// or one this user cannot be sure it wrote itself (private-file.ts) reads as no cache; V8 itself
// refuses data of another V8 version or flag set.
import { createHash } from 'node:crypto';
import { readPrivateFile, writePrivateFile } from './private-file.ts';

export const CODE_CACHE_FILE = '.code-cache';

/** The file's check value: a hash of the bundle it was made for and of its V8 data. */
function check(bundleHash: string, data: Buffer): Buffer {
  return createHash('sha256').update(bundleHash).update(data).digest();
}

/** V8 data of a cache file, when it is whole and was made for this bundle. */
export function readCodeCache(file: string, bundleHash: string): Buffer | undefined {
  const bytes = readPrivateFile(file);
  if (!bytes || bytes.length <= 32) return undefined;
  const data = bytes.subarray(32);
  return check(bundleHash, data).equals(bytes.subarray(0, 32)) ? data : undefined;
}

/** Best effort: in a directory it cannot write to, every call compiles the bundle, as without a cache. */
export function writeCodeCache(file: string, bundleHash: string, data: Buffer): void {
  writePrivateFile(file, Buffer.concat([check(bundleHash, data), data]));
}
