// Files the plugin keeps for its next call beside the cache entries (the TLS session, the V8 code
// cache): what they hold is trusted (a session is resumed without verifying the server again, a code
// cache is run), so a file is used only when this user alone can have written it. cniDir is normally
// root's own, but a config may name a directory others can write to, such as a shared /tmp.

import { closeSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/** The file's bytes, when it is owned by this user and writable by no one else; otherwise (or on any error) undefined. */
export function readPrivateFile(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const st = fstatSync(fd);
    return st.uid === process.getuid?.() && (st.mode & 0o022) === 0 ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Best effort: written to a temp file created new (never through a link someone placed there), mode
 * 0600, then renamed over `file`. False when that failed (e.g. the directory is not writable).
 */
export function writePrivateFile(file: string, data: Buffer | string): boolean {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  } catch {
    return false; // not ours to remove: it may be a file someone else placed there
  }
  try {
    renameSync(tmp, file);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}
