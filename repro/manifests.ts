// A bug report's files, read and validated before any cluster comes up: Kubernetes manifests as users
// paste them (multi-document YAML, any order), the Multus settings or thick daemon config the reporter
// ran, node-local CNI configs, and what the nodes need. Every problem names the file, the document and
// the field, so a bad paste is fixed in one go.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/** Layout of a repro directory (the README of repro/ documents it). */
export const NODES_FILE = 'nodes.yaml';
export const MULTUS_SETTINGS_FILE = 'multus-config.json';
export const DAEMON_CONFIG_FILE = 'daemon-config.json';
export const NODE_CNI_DIR = 'net.d';

export const SUPPORTED_KINDS = ['Namespace', 'NetworkAttachmentDefinition', 'Pod', 'ConfigMap', 'Secret'] as const;
export type ManifestKind = (typeof SUPPORTED_KINDS)[number];

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: 'must be a DNS label: lowercase letters, digits and "-", at most 63' });
const dnsSubdomain = z.string().max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'must be a DNS subdomain: lowercase letters, digits, "-" and "."' });
const stringMap = z.record(z.string(), z.string({ message: 'every value must be a string (quote numbers and booleans)' }));

const metadata = (name: z.ZodType<string>) => z.looseObject({
  name,
  namespace: dnsLabel.optional(),
  annotations: stringMap.optional(),
  labels: stringMap.optional(),
});

/** spec.config of a NAD: a CNI config or configlist as a JSON string (multi-network spec v1.3 §3.2), or empty. */
const cniConfigText = z.string().superRefine((text, ctx) => {
  if (text.trim() === '') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `is not JSON: ${(err as Error).message}` });
    return;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object (a CNI config or configlist)' });
    return;
  }
  const c = parsed as Record<string, unknown>;
  if (c.type === undefined && !Array.isArray(c.plugins)) ctx.addIssue({ code: 'custom', message: 'has neither "type" (a config) nor "plugins" (a configlist)' });
});

const schemas = {
  Namespace: z.looseObject({ apiVersion: z.literal('v1'), kind: z.literal('Namespace'), metadata: metadata(dnsLabel) }),
  NetworkAttachmentDefinition: z.looseObject({
    apiVersion: z.literal('k8s.cni.cncf.io/v1'),
    kind: z.literal('NetworkAttachmentDefinition'),
    metadata: metadata(dnsSubdomain),
    spec: z.looseObject({ config: cniConfigText.optional() }).optional(),
  }),
  Pod: z.looseObject({
    apiVersion: z.literal('v1'),
    kind: z.literal('Pod'),
    metadata: metadata(dnsSubdomain),
    spec: z.looseObject({
      nodeName: z.string().optional(),
      containers: z.array(z.looseObject({ name: dnsLabel, image: z.string().min(1) })).min(1, { message: 'needs at least one container' }),
    }),
  }),
  ConfigMap: z.looseObject({ apiVersion: z.literal('v1'), kind: z.literal('ConfigMap'), metadata: metadata(dnsSubdomain) }),
  Secret: z.looseObject({ apiVersion: z.literal('v1'), kind: z.literal('Secret'), metadata: metadata(dnsSubdomain) }),
} satisfies Record<ManifestKind, z.ZodType>;

export interface Manifest {
  kind: ManifestKind;
  /** Where it came from, for messages: "pods.yaml document 2". */
  source: string;
  /** The object as written (validated), namespace filled in for namespaced kinds. */
  object: Record<string, unknown> & { metadata: { name: string; namespace?: string; annotations?: Record<string, string> } };
}

const nodesSchema = z.strictObject({
  nodes: z.number().int().min(1).max(16).optional(),
  /** Emulated SR-IOV VFs per node (netdevsim): the local provider offers them as netdevsim.io/vf. */
  'netdevsim VFs': z.number().int().min(1).max(64).optional(),
});
export type NodeNeeds = z.infer<typeof nodesSchema>;

const jsonObject = z.record(z.string(), z.unknown());

export interface ReproInput {
  /** The directory or file given. */
  source: string;
  manifests: Manifest[];
  nodeNeeds: NodeNeeds;
  /** Multus settings keys to put into every node's Multus config. */
  multusSettings?: Record<string, unknown>;
  /** Keys to put into the thick daemon's daemon-config.json. */
  daemonConfig?: Record<string, unknown>;
  /** File name → content, written to every node's Multus confDir. */
  nodeCniConfigs: Record<string, string>;
}

export class ReproInputError extends Error {
  constructor(readonly problems: string[]) {
    super(`the repro's files have ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** ['spec', 'containers', 0, 'image'] → "spec.containers[0].image". */
export function fieldPath(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? String(part) : `${acc}.${String(part)}`), '') || '(top level)';
}

function issueText(issue: z.core.$ZodIssue): string {
  const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
  return `${fieldPath(issue.path)}: ${missing ? 'missing (required)' : issue.message}`;
}

const NAMESPACED: ReadonlySet<ManifestKind> = new Set(['NetworkAttachmentDefinition', 'Pod', 'ConfigMap', 'Secret']);

/** Parses one YAML text holding any number of documents; problems are pushed, valid manifests returned. */
export function parseManifests(text: string, file: string, problems: string[]): Manifest[] {
  const out: Manifest[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const where = `${file} document ${i + 1}`;
    if (doc.errors.length > 0) {
      problems.push(`${where}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
      return;
    }
    const raw: unknown = doc.toJS();
    if (raw === null || raw === undefined) return; // an empty document (a stray "---")
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${where}: expected a Kubernetes object (a mapping with apiVersion, kind, metadata), got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
      return;
    }
    const kind = (raw as { kind?: unknown }).kind;
    if (kind === 'List' && Array.isArray((raw as { items?: unknown }).items)) {
      problems.push(`${where}: a List; paste its items as separate documents ("---" between them)`);
      return;
    }
    if (typeof kind !== 'string' || !(SUPPORTED_KINDS as readonly string[]).includes(kind)) {
      problems.push(`${where}: kind: ${typeof kind === 'string' ? `"${kind}" is not supported` : 'missing (required)'}; a repro holds ${SUPPORTED_KINDS.join(', ')}`);
      return;
    }
    const parsed = schemas[kind as ManifestKind].safeParse(raw);
    const name = (raw as { metadata?: { name?: unknown } }).metadata?.name;
    const label = `${where} (${kind}${typeof name === 'string' ? ` "${name}"` : ''})`;
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label}: ${issueText(issue)}`);
      return;
    }
    const object = parsed.data as Manifest['object'];
    if (NAMESPACED.has(kind as ManifestKind)) object.metadata.namespace ??= 'default';
    out.push({ kind: kind as ManifestKind, source: where, object });
  });
  return out;
}

function readJsonObject(file: string, label: string, problems: string[]): Record<string, unknown> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(`${label}: not JSON: ${(err as Error).message}`);
    return undefined;
  }
  const parsed = jsonObject.safeParse(raw);
  if (!parsed.success) {
    problems.push(`${label}: must be a JSON object`);
    return undefined;
  }
  return parsed.data;
}

export interface NodeFilePaths {
  multusSettings?: string;
  daemonConfig?: string;
  nodeCniDir?: string;
}

export type NodeFiles = Pick<ReproInput, 'multusSettings' | 'daemonConfig' | 'nodeCniConfigs'>;

/** A path as messages print it: relative to the working directory when below it, else absolute. */
const rel = (f: string) => {
  const r = path.relative(process.cwd(), f);
  return r === '' || r.startsWith('..') ? path.resolve(f) : r;
};

/** Reads the Multus settings, daemon config and node-local CNI configs a repro directory or `cluster up` names. */
function nodeFiles(paths: NodeFilePaths, problems: string[]): NodeFiles {
  const out: NodeFiles = { nodeCniConfigs: {} };
  if (paths.multusSettings) {
    const obj = readJsonObject(paths.multusSettings, rel(paths.multusSettings), problems);
    if (obj) out.multusSettings = obj;
  }
  if (paths.daemonConfig) {
    const obj = readJsonObject(paths.daemonConfig, rel(paths.daemonConfig), problems);
    if (obj) out.daemonConfig = obj;
  }
  if (paths.nodeCniDir) {
    for (const conf of readdirSync(paths.nodeCniDir).sort()) {
      const file = path.join(paths.nodeCniDir, conf);
      if (!/\.(conf|conflist|json)$/.test(conf)) {
        problems.push(`${rel(file)}: a node-local CNI config must end in .conf, .conflist or .json`);
        continue;
      }
      const obj = readJsonObject(file, rel(file), problems);
      if (!obj) continue;
      if (typeof obj.name !== 'string' || (obj.type === undefined && !Array.isArray(obj.plugins))) problems.push(`${rel(file)}: a CNI config needs "name" and "type" (or "plugins")`);
      else out.nodeCniConfigs[conf] = `${JSON.stringify(obj, null, 2)}\n`;
    }
  }
  return out;
}

/** nodeFiles for `cluster up`: throws ReproInputError naming every problem. */
export function loadNodeFiles(paths: NodeFilePaths): NodeFiles {
  const problems: string[] = [];
  for (const [option, file] of Object.entries(paths)) if (typeof file === 'string' && !existsSync(file)) problems.push(`${option}: ${file} does not exist`);
  if (problems.length > 0) throw new ReproInputError(problems);
  const out = nodeFiles(paths, problems);
  if (problems.length > 0) throw new ReproInputError(problems);
  return out;
}

/** Cross-document checks: unique objects, pods' networks refer to NADs the repro or the nodes provide. */
function consistencyProblems(input: ReproInput, problems: string[]): void {
  const seen = new Map<string, string>();
  for (const m of input.manifests) {
    const key = `${m.kind} ${m.object.metadata.namespace ? `${m.object.metadata.namespace}/` : ''}${m.object.metadata.name}`;
    const earlier = seen.get(key);
    if (earlier) problems.push(`${m.source}: ${key} is already defined in ${earlier}`);
    else seen.set(key, m.source);
  }
  if (input.nodeNeeds['netdevsim VFs'] === undefined) {
    for (const m of input.manifests.filter((x) => x.kind === 'Pod')) {
      const wants = JSON.stringify((m.object as { spec?: unknown }).spec ?? {}).includes('netdevsim.io/vf');
      if (wants) problems.push(`${m.source} (Pod "${m.object.metadata.name}"): asks for netdevsim.io/vf, but ${NODES_FILE} does not say "netdevsim VFs: N"`);
    }
  }
}

/** Reads a repro directory (or one YAML file of manifests) and validates all of it; throws ReproInputError listing every problem. */
export function loadRepro(source: string): ReproInput {
  const problems: string[] = [];
  if (!existsSync(source)) throw new ReproInputError([`${source} does not exist`]);
  const input: ReproInput = { source, manifests: [], nodeNeeds: {}, nodeCniConfigs: {} };
  if (statSync(source).isFile()) {
    input.manifests = parseManifests(readFileSync(source, 'utf8'), rel(source), problems);
  } else {
    const entries = readdirSync(source).sort();
    const has = (f: string) => entries.includes(f);
    Object.assign(input, nodeFiles({
      ...(has(MULTUS_SETTINGS_FILE) ? { multusSettings: path.join(source, MULTUS_SETTINGS_FILE) } : {}),
      ...(has(DAEMON_CONFIG_FILE) ? { daemonConfig: path.join(source, DAEMON_CONFIG_FILE) } : {}),
      ...(has(NODE_CNI_DIR) && statSync(path.join(source, NODE_CNI_DIR)).isDirectory() ? { nodeCniDir: path.join(source, NODE_CNI_DIR) } : {}),
    }, problems));
    for (const entry of entries) {
      const file = path.join(source, entry);
      if (entry === NODES_FILE) {
        const docs = parseAllDocuments(readFileSync(file, 'utf8'));
        const parsed = nodesSchema.safeParse(docs[0]?.toJS() ?? {});
        if (!parsed.success) for (const issue of parsed.error.issues) problems.push(`${rel(file)}: ${issue.code === 'unrecognized_keys' ? `${issue.message}; it may say "nodes: N" and "netdevsim VFs: N"` : issueText(issue)}`);
        else input.nodeNeeds = parsed.data;
      } else if (/\.ya?ml$/.test(entry)) {
        input.manifests.push(...parseManifests(readFileSync(file, 'utf8'), rel(file), problems));
      }
    }
  }
  if (input.manifests.filter((m) => m.kind === 'Pod').length === 0 && problems.length === 0) {
    problems.push(`${rel(source)}: no Pod in any manifest; a repro needs at least one pod to observe`);
  }
  consistencyProblems(input, problems);
  if (problems.length > 0) throw new ReproInputError(problems);
  return input;
}

export interface PodSpecOfRepro {
  nodeName?: string;
  containers: { name: string; resources?: { limits?: Record<string, string>; requests?: Record<string, string> } }[];
}

/** A Pod manifest's spec (validated by the Pod schema). */
export const podSpecOf = (m: Manifest): PodSpecOfRepro => (m.object as unknown as { spec: PodSpecOfRepro }).spec;

export const manifestsOf = <K extends ManifestKind>(input: ReproInput, kind: K): Manifest[] => input.manifests.filter((m) => m.kind === kind);

/** Namespaces the objects live in that no Namespace document creates (and that a fresh cluster lacks). */
export function impliedNamespaces(input: ReproInput, existing: readonly string[]): string[] {
  const declared = new Set(manifestsOf(input, 'Namespace').map((m) => m.object.metadata.name));
  const used = new Set(input.manifests.map((m) => m.object.metadata.namespace).filter((n): n is string => n !== undefined));
  return [...used].filter((n) => !declared.has(n) && !existing.includes(n)).sort();
}
