// What the server knows about each resource: names for discovery and URLs, scope, subresources.
// Built-in core/v1 types are fixed; custom resources are derived from their CRD objects.

import type { JsonObject } from './errors.ts';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ResourceType {
  group: string; // '' for the core group
  versions: string[]; // served versions; the first is the preferred one
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Has a `status` subresource: the main resource ignores status, the subresource ignores the rest. */
  statusSubresource: boolean;
  /** Custom resource (from a CRD): no strategic merge patch, columns from additionalPrinterColumns. */
  custom: boolean;
  printerColumns: PrinterColumn[];
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function core(plural: string, kind: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType {
  return {
    group: '', versions: ['v1'], plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, namespaced,
    shortNames: [], categories: [], statusSubresource: false, custom: false, printerColumns: [], ...extra,
  };
}

export const BUILTIN_TYPES: ResourceType[] = [
  core('namespaces', 'Namespace', false, { shortNames: ['ns'], statusSubresource: true }),
  core('pods', 'Pod', true, { shortNames: ['po'], categories: ['all'], statusSubresource: true }),
  core('nodes', 'Node', false, { shortNames: ['no'], statusSubresource: true }),
  core('events', 'Event', true, { shortNames: ['ev'] }),
  core('serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  core('configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  // Stored only (no cluster IPs, endpoints or token controllers): enough for kubectl cluster-info,
  // `get all` and manifests that carry them along.
  core('secrets', 'Secret', true),
  core('services', 'Service', true, { shortNames: ['svc'], categories: ['all'], statusSubresource: true }),
  {
    group: 'apiextensions.k8s.io', versions: ['v1'], plural: 'customresourcedefinitions', singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition', listKind: 'CustomResourceDefinitionList', namespaced: false, shortNames: ['crd', 'crds'],
    categories: ['api-extensions'], statusSubresource: true, custom: false, printerColumns: [],
  },
];

function asObject(v: unknown): JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {};
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** The resource a (validated) CRD object defines. */
export function typeFromCrd(crd: JsonObject): ResourceType {
  const spec = asObject(crd.spec);
  const names = asObject(spec.names);
  const versions = (Array.isArray(spec.versions) ? spec.versions : []).map(asObject).filter((v) => v.served !== false);
  // Discovery lists the storage version first among equals, like kube-apiserver's version priority.
  versions.sort((a, b) => Number(b.storage === true) - Number(a.storage === true));
  const first = versions[0] ?? {};
  const kind = String(names.kind);
  const columns = (Array.isArray(first.additionalPrinterColumns) ? first.additionalPrinterColumns : []).map(asObject).map((c) => ({
    name: String(c.name), type: String(c.type ?? 'string'), jsonPath: String(c.jsonPath ?? ''),
    description: typeof c.description === 'string' ? c.description : undefined,
    priority: typeof c.priority === 'number' ? c.priority : 0,
    format: typeof c.format === 'string' ? c.format : undefined,
  }));
  return {
    group: String(spec.group),
    versions: versions.map((v) => String(v.name)),
    plural: String(names.plural),
    singular: typeof names.singular === 'string' && names.singular ? names.singular : kind.toLowerCase(),
    kind,
    listKind: typeof names.listKind === 'string' && names.listKind ? names.listKind : `${kind}List`,
    namespaced: spec.scope !== 'Cluster',
    shortNames: strings(names.shortNames),
    categories: strings(names.categories),
    statusSubresource: 'status' in asObject(asObject(first.subresources)),
    custom: true,
    printerColumns: columns,
  };
}

export function apiVersionOf(t: ResourceType, version: string): string {
  return t.group ? `${t.group}/${version}` : version;
}
