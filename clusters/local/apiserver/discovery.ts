// Legacy (non-aggregated) discovery documents: /version, /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>.
// client-go falls back to these when the response is not the aggregated discovery media type.

import type { JsonObject } from './errors.ts';
import type { ResourceRegistry } from './registry.ts';
import { ALL_VERBS, type ResourceType } from './resource-types.ts';

export const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-multus-e2e' };

export function versionInfo(): JsonObject {
  return {
    ...SERVER_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'node',
    compiler: 'tsx',
    platform: `${process.platform}/${process.arch}`,
  };
}

export function apiVersions(serverAddress: string): JsonObject {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(name: string, versions: string[]): JsonObject {
  const gvs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gvs, preferredVersion: gvs[0] };
}

export function apiGroupList(registry: ResourceRegistry): JsonObject {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map((g) => groupDoc(g.name, g.versions)) };
}

export function apiGroup(registry: ResourceRegistry, group: string): JsonObject | undefined {
  const g = registry.groups().find((x) => x.name === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.name, g.versions) } : undefined;
}

function entries(t: ResourceType): JsonObject[] {
  const main: JsonObject = {
    name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: ALL_VERBS,
  };
  if (t.shortNames.length) main.shortNames = t.shortNames;
  if (t.categories.length) main.categories = t.categories;
  const out = [main];
  if (t.statusSubresource) {
    out.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
  }
  if (t.plural === 'pods' && !t.group) {
    out.push({ name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] });
  }
  return out;
}

/** APIResourceList of a group version, or undefined when nothing is served there. */
export function apiResourceList(registry: ResourceRegistry, group: string, version: string): JsonObject | undefined {
  const types = registry.all().filter((t) => t.group === group && t.versions.includes(version));
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: types.flatMap(entries),
  };
}
