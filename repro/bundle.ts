// The diagnostic bundle (reports/repro-<name>-<time>.tar.gz): everything a person needs to judge a
// Multus bug report without the cluster — the objects as the API holds them, events, network-status,
// ip -j of every pod and node, CNI configs on every node, plugin logs, CNI call records and versions.
// Credentials are redacted (redact.ts) before anything is packed.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { pluginArgument, type Cluster, type PluginUnderTest } from '../clusters/provider.ts';
import { formatObservation, type KubeClients, type PodObservation } from './observe.ts';
import { redactObject, redactTree } from './redact.ts';

const run = promisify(execFile);
const PACKAGE_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export interface BundleInput {
  cluster: Cluster;
  clients: KubeClients;
  /** Namespaces whose objects and events go in (the repro's, or every non-system one for collect). */
  namespaces: string[];
  pods: PodObservation[];
  /** The plugin under test, when known (a kept or hand-made cluster records it only in its provider state). */
  plugin?: PluginUnderTest;
  name: string;
  reportsDir: string;
  /** Lines of context for summary.txt (what was applied, node setup notes). */
  notes: string[];
}

const NAD = { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition' };
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** File-name safe "2026-12-01T03-04-05Z". */
export function bundleTime(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

async function sha256(file: string): Promise<string> {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : '(missing)';
}

async function listObjects(clients: KubeClients, namespace: string): Promise<{ kind: string; items: unknown[] }[]> {
  const out: { kind: string; items: unknown[] }[] = [];
  const safe = async (kind: string, list: () => Promise<{ items: unknown[] }>) => {
    try {
      out.push({ kind, items: (await list()).items });
    } catch (err) {
      out.push({ kind, items: [{ error: (err as Error).message }] });
    }
  };
  await safe('Pod', () => clients.core.listNamespacedPod({ namespace }));
  await safe('NetworkAttachmentDefinition', () => clients.objects.list(NAD.apiVersion, NAD.kind, namespace));
  await safe('ConfigMap', () => clients.core.listNamespacedConfigMap({ namespace }));
  await safe('Secret', () => clients.core.listNamespacedSecret({ namespace }));
  await safe('Event', () => clients.core.listNamespacedEvent({ namespace }));
  return out;
}

async function nodeExecText(cluster: Cluster, node: string, argv: string[]): Promise<string> {
  const r = await cluster.nodeExec(node, argv).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
  return r.code === 0 ? r.stdout : `${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}\n${r.stdout}`;
}

/** Every file under the node's CNI config dirs, with its content (JSON configs, the thick daemon's config). */
async function nodeCniFiles(cluster: Cluster, node: string, dir: string, secrets: Set<string>): Promise<void> {
  const listing = await cluster.nodeExec(node, ['find', '/etc/cni', '-type', 'f']);
  const files = listing.code === 0 ? listing.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '') : [];
  writeFileSync(path.join(dir, 'cni-files.txt'), listing.code === 0 ? `${files.join('\n')}\n` : `find /etc/cni exited ${listing.code}: ${listing.stderr}`);
  for (const f of files) {
    const target = path.join(dir, 'cni', f.replace(/^\/etc\/cni\//, ''));
    mkdirSync(path.dirname(target), { recursive: true });
    const text = await nodeExecText(cluster, node, ['cat', f]);
    // The plugin's kubeconfig (multus.d/multus.kubeconfig) carries its token.
    writeFileSync(target, /kubeconfig$/.test(f) ? redactedKubeconfig(text, secrets) : text);
  }
}

async function versions(input: BundleInput, node: string | undefined): Promise<Record<string, unknown>> {
  const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const commit = await run('git', ['-C', PACKAGE_ROOT, 'rev-parse', 'HEAD']).then((r) => r.stdout.trim(), () => 'unknown');
  const dirty = await run('git', ['-C', PACKAGE_ROOT, 'status', '--porcelain', '--untracked-files=no']).then((r) => r.stdout.trim() !== '', () => false);
  const plugin = input.plugin;
  const binaries = !plugin ? {} : plugin.kind === 'thin' ? { [plugin.path]: await sha256(plugin.path) }
    : plugin.kind === 'thick' ? { [plugin.shim]: await sha256(plugin.shim), [plugin.daemon]: await sha256(plugin.daemon) }
      : { [path.join(PACKAGE_ROOT, 'plugin', 'dist', 'multus')]: await sha256(path.join(PACKAGE_ROOT, 'plugin', 'dist', 'multus')) };
  const debianPlugins = await run('dpkg-query', ['-W', '-f', '${Version}', 'containernetworking-plugins']).then((r) => r.stdout.trim(), () => 'not installed from Debian');
  // Each delegate's answer to CNI VERSION: the spec versions it supports (the reference plugins print no build version).
  const delegates = node ? await nodeExecText(input.cluster, node, ['sh', '-c',
    'for b in /opt/cni/bin/*; do printf "%s: " "${b##*/}"; CNI_COMMAND=VERSION CNI_PATH=/opt/cni/bin "$b" </dev/null 2>&1 | tr -d "\\n" | head -c 300; echo; done']) : '';
  return {
    harness: { name: pkg.name, version: pkg.version, commit, ...(dirty ? { uncommittedChanges: true } : {}) },
    plugin: plugin ? { argument: pluginArgument(plugin), sha256: binaries } : 'unknown (the cluster was not brought up by this command)',
    kernel: { release: os.release(), version: os.version() },
    node: process.version,
    provider: input.cluster.provider,
    delegates: { debianPackage: `containernetworking-plugins ${debianPlugins}`, versionAnswers: delegates.trim().split('\n').filter((l) => l !== '') },
  };
}

/** A kubeconfig with its credentials replaced; they are collected to scrub from every file. */
function redactedKubeconfig(text: string, found: Set<string>): string {
  try {
    return stringifyYaml(redactObject(parseYaml(text), found));
  } catch {
    return '(a kubeconfig that is not YAML: left out)\n';
  }
}

/** Writes the bundle directory, redacts it and packs it; returns the .tar.gz path. */
export async function writeBundle(input: BundleInput): Promise<string> {
  const stem = `repro-${input.name}-${bundleTime()}`;
  mkdirSync(input.reportsDir, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'multus-e2e-bundle-'));
  const root = path.join(work, stem);
  const secrets = new Set<string>();
  try {
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, 'kubeconfig.yaml'), redactedKubeconfig(readFileSync(input.cluster.kubeconfigPath, 'utf8'), secrets));
    writeFileSync(path.join(root, 'summary.txt'), `${[...input.notes, '', ...input.pods.map(formatObservation)].join('\n')}\n`);
    writeFileSync(path.join(root, 'observations.json'), json(input.pods));
    for (const ns of input.namespaces) {
      for (const { kind, items } of await listObjects(input.clients, ns)) {
        const dir = path.join(root, 'objects', ns);
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, `${kind}.json`), json(redactObject({ kind: `${kind}List`, items }, secrets)));
      }
    }
    const nodes = await input.cluster.nodeNames();
    for (const node of nodes) {
      const dir = path.join(root, 'nodes', node);
      mkdirSync(dir, { recursive: true });
      for (const what of ['addr', 'link', 'route', 'rule']) writeFileSync(path.join(dir, `ip-${what}.json`), await nodeExecText(input.cluster, node, ['ip', '-j', ...(what === 'link' ? ['-d'] : []), what]));
      await nodeCniFiles(input.cluster, node, dir, secrets);
      // The node's service-account token is what the plugin authenticates with: never packed, scrubbed wherever repeated.
      const token = await input.cluster.nodeExec(node, ['cat', '/var/run/secrets/kubernetes.io/serviceaccount/token']).catch(() => undefined);
      if (token?.code === 0 && token.stdout.trim()) secrets.add(token.stdout.trim());
      writeFileSync(path.join(dir, 'plugin-log.jsonl'), `${(await input.cluster.pluginLog(node).catch((err: Error) => [`(no plugin log: ${err.message})`])).join('\n')}\n`);
    }
    for (const p of input.pods) {
      const dir = path.join(root, 'pods', p.namespace, p.name);
      mkdirSync(dir, { recursive: true });
      for (const [what, v] of Object.entries(p.ip)) writeFileSync(path.join(dir, `ip-${what}.json`), json(v));
      writeFileSync(path.join(dir, 'network-status.json'), json(p.networkStatus ?? null));
      writeFileSync(path.join(dir, 'cni-calls.json'), json(p.cniCalls));
      const containers = [...new Set(p.cniCalls.map((c) => `${c.node} ${c.containerId}`))];
      const lines: string[] = [];
      for (const c of containers) {
        const [node, id] = c.split(' ') as [string, string];
        lines.push(...await input.cluster.pluginLog(node, id).catch(() => []));
      }
      writeFileSync(path.join(dir, 'plugin-log.jsonl'), `${lines.join('\n')}\n`);
    }
    writeFileSync(path.join(root, 'cni-calls.json'), json(await input.cluster.cniCalls()));
    writeFileSync(path.join(root, 'versions.json'), json(await versions(input, nodes[0])));
    redactTree(root, secrets);
    const out = path.join(input.reportsDir, `${stem}.tar.gz`);
    await run('tar', ['-czf', out, '-C', work, stem]);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
