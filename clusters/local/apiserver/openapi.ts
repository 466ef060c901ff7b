// OpenAPI v3 documents, only as much as kubectl reads: per group-version paths whose PATCH
// operations declare the `fieldValidation` query parameter (so `kubectl create/apply` with the
// default --validate=strict leaves validation to the server instead of downloading schemas),
// tagged with x-kubernetes-group-version-kind. No component schemas are published, so
// `kubectl apply` computes strategic patches from its compiled-in types.

import { createHash } from 'node:crypto';
import type { JsonObject } from './errors.ts';
import type { ResourceRegistry } from './registry.ts';
import type { ResourceType } from './resource-types.ts';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'];

function operation(t: ResourceType, version: string, action: string): JsonObject {
  return {
    operationId: `${action}${t.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: t.group, version, kind: t.kind },
    parameters: QUERY_PARAMS.map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } })),
    responses: { 200: { description: 'OK' } },
  };
}

function paths(types: ResourceType[], group: string, version: string): JsonObject {
  const out: JsonObject = {};
  for (const t of types) {
    const base = `/${gvPath(group, version)}/${t.namespaced ? 'namespaces/{namespace}/' : ''}${t.plural}`;
    out[base] = { get: operation(t, version, 'list'), post: operation(t, version, 'post') };
    out[`${base}/{name}`] = {
      get: operation(t, version, 'get'), put: operation(t, version, 'put'),
      patch: operation(t, version, 'patch'), delete: operation(t, version, 'delete'),
    };
    if (t.statusSubresource) {
      out[`${base}/{name}/status`] = { get: operation(t, version, 'get'), put: operation(t, version, 'put'), patch: operation(t, version, 'patch') };
    }
  }
  return out;
}

function groupVersions(registry: ResourceRegistry): { group: string; version: string; types: ResourceType[] }[] {
  const out = new Map<string, { group: string; version: string; types: ResourceType[] }>();
  for (const t of registry.all()) {
    for (const version of t.versions) {
      const key = gvPath(t.group, version);
      const entry = out.get(key) ?? { group: t.group, version, types: [] };
      entry.types.push(t);
      out.set(key, entry);
    }
  }
  return [...out.values()];
}

export function openApiV3Document(registry: ResourceRegistry, path: string): JsonObject | undefined {
  const gv = groupVersions(registry).find((g) => gvPath(g.group, g.version) === path);
  if (!gv) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths: paths(gv.types, gv.group, gv.version),
    components: { schemas: {} },
  };
}

/** The /openapi/v3 index; each entry's hash changes with the document, so clients refetch. */
export function openApiV3Index(registry: ResourceRegistry): JsonObject {
  const index: JsonObject = {};
  for (const gv of groupVersions(registry)) {
    const path = gvPath(gv.group, gv.version);
    const hash = createHash('sha512').update(JSON.stringify(openApiV3Document(registry, path))).digest('hex').slice(0, 64).toUpperCase();
    index[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths: index };
}
