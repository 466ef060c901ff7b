// Custom resources checked against their CRD's structural openAPIV3Schema the way
// kube-apiserver does: type/enum/required errors are 422, unknown fields are pruned (with a
// warning) or, under fieldValidation=Strict, rejected with 400.

import type { JsonObject, StatusCause } from './errors.ts';

export interface SchemaCheck {
  causes: StatusCause[];
  /** Paths of fields the schema does not know (already removed from the object). */
  unknown: string[];
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(expected: string, v: unknown): boolean {
  const actual = typeName(v);
  return actual === expected || (expected === 'number' && actual === 'integer');
}

function walk(v: unknown, schema: JsonObject, path: string, out: SchemaCheck, inheritedPreserve = false): void {
  if (v === null) {
    if (schema.nullable !== true) out.causes.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "null": ${path} in body must be of type ${String(schema.type ?? 'object')}: "null"` });
    return;
  }
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (typeof v !== 'string' && !Number.isInteger(v)) out.causes.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "${typeName(v)}": ${path} in body must be of type int-or-string: "${typeName(v)}"` });
    return;
  }
  const type = typeof schema.type === 'string' ? schema.type : undefined;
  if (type && !typeMatches(type, v)) {
    out.causes.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "${typeName(v)}": ${path} in body must be of type ${type}: "${typeName(v)}"` });
    return;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === v)) {
    out.causes.push({ reason: 'FieldValueNotSupported', field: path, message: `Unsupported value: ${JSON.stringify(v)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}` });
  }
  if (Array.isArray(v) && isObject(schema.items)) {
    v.forEach((item, i) => walk(item, schema.items as JsonObject, `${path}[${i}]`, out, inheritedPreserve));
    return;
  }
  if (!isObject(v)) return;
  const props = isObject(schema.properties) ? schema.properties : undefined;
  const additional = schema.additionalProperties;
  // Preserving unknown fields is inherited until a schema spells out properties again.
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || (inheritedPreserve && !props && additional === undefined);
  for (const r of Array.isArray(schema.required) ? schema.required : []) {
    if (typeof r === 'string' && !(r in v)) out.causes.push({ reason: 'FieldValueRequired', field: `${path}.${r}`, message: 'Required value' });
  }
  for (const [k, child] of Object.entries(v)) {
    const childPath = `${path}.${k}`;
    if (props && isObject(props[k])) walk(child, props[k] as JsonObject, childPath, out, preserve);
    else if (isObject(additional)) walk(child, additional, childPath, out, preserve);
    else if (!preserve && additional !== true && (props || type === 'object')) {
      out.unknown.push(childPath);
      delete v[k];
    }
  }
}

/** Check (and prune) a custom resource against the schema of its version; metadata is not checked here. */
export function checkCustomResource(obj: JsonObject, schema: JsonObject | undefined): SchemaCheck {
  const out: SchemaCheck = { causes: [], unknown: [] };
  if (!schema) return out;
  const props = isObject(schema.properties) ? schema.properties : {};
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata') continue;
    if (isObject(props[k])) walk(v, props[k] as JsonObject, k, out);
    else if (!preserve) {
      out.unknown.push(k);
      delete obj[k];
    }
  }
  for (const r of Array.isArray(schema.required) ? schema.required : []) {
    if (typeof r === 'string' && !(r in obj)) out.causes.push({ reason: 'FieldValueRequired', field: r, message: 'Required value' });
  }
  return out;
}

/** The openAPIV3Schema of one version of a CRD object. */
export function versionSchema(crd: JsonObject | undefined, version: string): JsonObject | undefined {
  const spec = isObject(crd?.spec) ? crd.spec : {};
  const v = (Array.isArray(spec.versions) ? spec.versions : []).find((x) => isObject(x) && x.name === version) as JsonObject | undefined;
  const schema = isObject(v?.schema) ? v.schema.openAPIV3Schema : undefined;
  return isObject(schema) ? schema : undefined;
}
