// What dist/multus runs first: the thin plugin's code (main.ts, which build.mjs embeds here as a
// string) is compiled with a V8 code cache kept in the call's cache directory (code-cache.ts), so a
// call does not parse and compile the bundle, and the functions a call runs, again. Node 20 has no
// module.enableCompileCache. Without a usable cache the bundle is compiled as it always was, and the
// cache is written anew after the call.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { CODE_CACHE_FILE, readCodeCache, writeCodeCache } from './code-cache.ts';

/** main.ts's bundle (CommonJS) and a hash of it, set by build.mjs. */
declare const BUNDLE_SOURCE: string;
declare const BUNDLE_HASH: string;

/** config.ts's default cniDir. */
const DEFAULT_CNI_DIR = '/var/lib/cni/multus';

/** The cache directory the call's config names (its `cniDir`), or undefined when stdin is no config. */
function cniDirOf(stdin: string | undefined): string | undefined {
  try {
    const raw = JSON.parse(stdin ?? '') as { cniDir?: unknown } | null;
    if (typeof raw !== 'object' || raw === null) return undefined;
    return typeof raw.cniDir === 'string' && raw.cniDir ? raw.cniDir : DEFAULT_CNI_DIR;
  } catch {
    return undefined;
  }
}

async function load(): Promise<number> {
  let stdin: string | undefined;
  try {
    stdin = readFileSync(0, 'utf8');
  } catch {
    // main.ts reads it again and reports the failure as it always has.
  }
  const dir = cniDirOf(stdin);
  const file = dir === undefined ? undefined : join(dir, CODE_CACHE_FILE);
  const cachedData = file === undefined ? undefined : readCodeCache(file, BUNDLE_HASH);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${BUNDLE_SOURCE}\n})`, {
    filename: __filename,
    ...(cachedData ? { cachedData } : {}),
  });
  const bundle: { exports: { runThin?: (stdin: string | undefined) => Promise<number> } } = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(bundle.exports, require, bundle, __filename, __dirname);
  const code = await bundle.exports.runThin!(stdin);
  // Made after a successful ADD, so it holds the functions the hot path compiled too (a cache made by
  // a STATUS, which runtimes call often, would hold next to none of them); a cache directory that does
  // not exist is not created here.
  if (dir && file && (!cachedData || script.cachedDataRejected) && process.env['CNI_COMMAND'] === 'ADD' && code === 0 && existsSync(dir)) {
    writeCodeCache(file, BUNDLE_HASH, script.createCachedData());
  }
  return code;
}

void load().then((code) => process.exit(code));
