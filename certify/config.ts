// The delegate's network configuration as a vendor writes it for certification: a CNI network config
// (or a conflist holding the delegate) whose string values may hold placeholders the harness fills per
// attachment, e.g. "master": "{{master}}". Placeholders are filled inside parsed JSON strings only, so a
// filled value can never break the JSON around it.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Every placeholder the harness fills, with what it stands for (README: *Certifying a delegate*). */
export const PLACEHOLDERS = {
  name: 'the network name (unique per certification run)',
  master: 'a host-side link that exists and is up, for plugins that need a parent (macvlan, ipvlan, vlan)',
  subnet: 'an IPv4 /24 from 198.18.0.0/15 for the network, e.g. 198.18.200.0/24',
  gateway: 'the first address of {{subnet}}',
  rangeStart: 'the 10th address of {{subnet}} (first address IPAM may hand out)',
  rangeEnd: 'the 200th address of {{subnet}} (last address IPAM may hand out)',
  dataDir: 'a directory the harness watches: put the delegate\'s (or its IPAM\'s) state there so leaks are seen',
  device: 'a host-side link made for this one attachment, for plugins that move a device (host-device)',
} as const;

export type PlaceholderName = keyof typeof PLACEHOLDERS;
export type PlaceholderValues = Record<PlaceholderName, string>;

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A loaded certification config: the delegate's plugin config with placeholders still in it. */
export interface CertifyConfig {
  file: string;
  template: JsonObject;
  /** Placeholders the template uses, so the harness makes only what is asked for (e.g. a device per attachment). */
  uses: Set<PlaceholderName>;
  /** Capabilities the config declares (`"capabilities": {"ips": true}`), passed as runtimeConfig. */
  capabilities: string[];
}

function placeholdersIn(value: JsonValue, where: string, found: Set<PlaceholderName>): void {
  if (typeof value === 'string') {
    for (const m of value.matchAll(PLACEHOLDER)) {
      const key = m[1] ?? '';
      if (!(key in PLACEHOLDERS)) {
        throw new Error(`${where}: unknown placeholder {{${key}}}; known: ${Object.keys(PLACEHOLDERS).map((k) => `{{${k}}}`).join(', ')}`);
      }
      found.add(key as PlaceholderName);
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => placeholdersIn(v, `${where}[${i}]`, found));
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) placeholdersIn(v, `${where}.${k}`, found);
  }
}

/**
 * Reads FILE: a plugin config ({"type": ...}) or a conflist ({"plugins": [...]}) from which the entry whose
 * type is the delegate's file name is taken, with the list's name and cniVersion (CNI spec §3, deriving a
 * request configuration from plugin configuration).
 */
export function loadCertifyConfig(file: string, delegatePath: string): CertifyConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--config ${file}: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new Error(`--config ${file}: must be a JSON object (a network config or conflist)`);
  let template: JsonObject = parsed;
  if (Array.isArray(parsed.plugins)) {
    const type = path.basename(delegatePath);
    const entry = parsed.plugins.find((p) => isObject(p) && p.type === type);
    if (!isObject(entry)) throw new Error(`--config ${file}: plugins has no entry with "type": "${type}" (the delegate's file name)`);
    template = { ...entry, cniVersion: parsed.cniVersion ?? null, name: parsed.name ?? null };
  }
  for (const key of ['cniVersion', 'name', 'type'] as const) {
    if (typeof template[key] !== 'string' || template[key] === '') throw new Error(`--config ${file}: "${key}" must be a non-empty string`);
  }
  const uses = new Set<PlaceholderName>();
  placeholdersIn(template, path.basename(file), uses);
  const caps = template.capabilities;
  if (caps !== undefined && !isObject(caps)) throw new Error(`--config ${file}: "capabilities" must be an object of name: true`);
  const capabilities = Object.entries(caps ?? {}).filter(([, on]) => on === true).map(([k]) => k);
  // The capabilities map tells the runtime what to pass; the plugin never sees it (CNI spec §3).
  const { capabilities: _dropped, ...rest } = template;
  return { file, template: rest, uses, capabilities };
}

function fill(value: JsonValue, values: PlaceholderValues): JsonValue {
  if (typeof value === 'string') return value.replace(PLACEHOLDER, (_m, key: string) => values[key as PlaceholderName]);
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  return value;
}

/** The config one call gets: placeholders filled, cniVersion set to the version under test, extra keys merged in. */
export function renderConfig(cfg: CertifyConfig, values: PlaceholderValues, cniVersion: string, extra: JsonObject = {}): JsonObject {
  return { ...(fill(cfg.template, values) as JsonObject), cniVersion, ...extra };
}

/** {{subnet}} and the addresses derived from it, for a /24 whose third octet is `octet`. */
export function subnetValues(octet: number): Pick<PlaceholderValues, 'subnet' | 'gateway' | 'rangeStart' | 'rangeEnd'> {
  const base = `198.18.${octet}`;
  return { subnet: `${base}.0/24`, gateway: `${base}.1`, rangeStart: `${base}.10`, rangeEnd: `${base}.200` };
}
