// What the guest runs, bundled on the host with esbuild before boot: the multus-e2e CLI, the local
// cluster's daemon and fabric listener, and cucumber's support code (world, parameters, hooks, steps)
// as one file each. Under TCG, Node pays for every module it resolves and transforms (tsx alone costs
// ~9 s per process there); a bundle is one file read over 9p with no TypeScript loader.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { SUPPORT_BUNDLE, bundledName } from '../local/node-script.ts';

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Holds one directory per run (removed after it), so concurrent runs never share a half-written bundle. */
export const GUEST_BUNDLE_ROOT = join(projectDir, 'clusters', 'vm', 'dist');

/** Entry scripts started as their own Node process; each becomes <dir>/<name>.mjs (bundledName). */
const ENTRY_SCRIPTS = ['cli/main.ts', 'clusters/local/daemon.ts', 'clusters/local/fabric-listener.ts'];
export const CLI_BUNDLE = bundledName('cli/main.ts');

/**
 * Left to node_modules: cucumber-js (the support bundle must register on the very instance that runs
 * it), packages with native parts (esbuild's binary, testcontainers' ssh2) and the Allure renderer
 * (not used by `run`).
 */
const EXTERNAL = ['@cucumber/cucumber', '@cucumber/cucumber/*', 'esbuild', 'testcontainers', 'allure', 'allure-cucumberjs', 'allure-cucumberjs/*'];

/** The files of cucumber.mjs's `import` list, in its order (its globs use only `**` and `*`). */
export async function supportModules(): Promise<string[]> {
  const config = (await import(pathToFileURL(join(projectDir, 'cucumber.mjs')).href) as { default: { import: string[] } }).default;
  const files: string[] = [];
  for (const pattern of config.import) {
    if (!pattern.includes('*')) {
      files.push(pattern);
      continue;
    }
    const base = pattern.slice(0, pattern.indexOf('*')).replace(/\/[^/]*$/, '');
    const re = new RegExp(`^${pattern.split(/(\*\*\/|\*)/).map((p: string) => (p === '**/' ? '(?:.*/)?' : p === '*' ? '[^/]*' : p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
    const found = (readdirSync(join(projectDir, base), { recursive: true }) as string[]).map((f) => `${base}/${f}`).filter((f) => re.test(f)).sort();
    files.push(...found.filter((f) => !files.includes(f)));
  }
  return files;
}

/**
 * Sources locate files next to themselves through import.meta.url; in a bundle that would be the
 * bundle's URL, so each source's own URL is put back (relative to the bundle, which lives in the same tree).
 */
function ownImportMetaUrl(outdir: string): Plugin {
  return {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (/import\.meta\.(dirname|filename)/.test(text)) throw new Error(`${args.path}: use import.meta.url (the bundler rewrites only that)`);
        const own = `new URL(${JSON.stringify(relative(outdir, args.path))}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', own), loader: 'ts' };
      });
    },
  };
}

/** cucumber-js's support code as one entry point: an import of each file, in cucumber.mjs's order. */
function supportEntry(): Plugin {
  return {
    name: 'support-entry',
    setup(b) {
      b.onResolve({ filter: /^support-entry$/ }, () => ({ path: 'support-entry', namespace: 'support-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'support-entry' }, async () => ({
        contents: (await supportModules()).map((m) => `import ${JSON.stringify(join(projectDir, m))};`).join('\n'),
        resolveDir: projectDir,
        loader: 'ts',
      }));
    },
  };
}

/** Builds the bundles into a fresh directory under GUEST_BUNDLE_ROOT and returns it; the caller removes it. */
export async function buildGuestBundle(): Promise<string> {
  mkdirSync(GUEST_BUNDLE_ROOT, { recursive: true });
  const outdir = await mkdtemp(join(GUEST_BUNDLE_ROOT, 'run-'));
  try {
    await build({
      entryPoints: [
        ...ENTRY_SCRIPTS.map((e) => ({ in: join(projectDir, e), out: bundledName(e).replace(/\.mjs$/, '') })),
        { in: 'support-entry', out: SUPPORT_BUNDLE.replace(/\.mjs$/, '') },
      ],
      outdir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      // Code shared by the entries, and what is only imported on demand (the kind provider, the
      // Kubernetes client in the CLI), goes to chunks read when first needed.
      splitting: true,
      minifyWhitespace: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      external: EXTERNAL,
      // Bundled CommonJS packages call require() for Node's own modules; ESM output has none of its own.
      // (Spelt so that the import.meta.url rewrite of this very file leaves it alone.)
      banner: { js: `import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta${'.url'});` },
      plugins: [supportEntry(), ownImportMetaUrl(outdir)],
      logLevel: 'error',
    });
    return outdir;
  } catch (err) {
    await rm(outdir, { recursive: true, force: true });
    throw err;
  }
}
