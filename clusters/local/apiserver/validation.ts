// Field validation with kube-apiserver's messages: DNS-1123 names, required fields of the types
// we serve, and the CRD rules the server depends on to route custom resources.

import type { JsonObject, StatusCause } from './errors.ts';

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

export type NameRule = 'label' | 'subdomain';

function invalidValue(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` };
}

function required(field: string, detail?: string): StatusCause {
  return { reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' };
}

export function nameCauses(name: string, rule: NameRule, field = 'metadata.name'): StatusCause[] {
  if (rule === 'label') {
    if (name.length > 63) return [invalidValue(field, name, 'must be no more than 63 characters')];
    return DNS1123_LABEL.test(name) ? [] : [invalidValue(field, name, LABEL_MSG)];
  }
  if (name.length > 253) return [invalidValue(field, name, 'must be no more than 253 characters')];
  return DNS1123_SUBDOMAIN.test(name) ? [] : [invalidValue(field, name, SUBDOMAIN_MSG)];
}

function obj(v: unknown): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const NAME_PART_MSG = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
function keyCauses(field: string, key: string): StatusCause[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const causes: StatusCause[] = [];
  if (prefix !== undefined && nameCauses(prefix, 'subdomain').length > 0) causes.push(invalidValue(field, key, `prefix part ${SUBDOMAIN_MSG}`));
  if (name.length === 0 || name.length > 63) causes.push(invalidValue(field, key, 'name part must be non-empty and no more than 63 characters'));
  else if (!QUALIFIED_NAME_PART.test(name)) causes.push(invalidValue(field, key, NAME_PART_MSG));
  return causes;
}

export function metadataCauses(o: JsonObject): StatusCause[] {
  const meta = obj(o.metadata) ?? {};
  const causes: StatusCause[] = [];
  for (const field of ['labels', 'annotations'] as const) {
    const m = meta[field];
    if (m === undefined || m === null) continue;
    const map = obj(m);
    if (!map) { causes.push(invalidValue(`metadata.${field}`, m, 'must be a map of string keys to string values')); continue; }
    for (const [k, v] of Object.entries(map)) {
      causes.push(...keyCauses(`metadata.${field}`, k));
      if (typeof v !== 'string') causes.push(invalidValue(`metadata.${field}`, v, `value of "${k}" must be a string`));
      else if (field === 'labels' && v !== '' && (v.length > 63 || !QUALIFIED_NAME_PART.test(v))) causes.push(invalidValue('metadata.labels', v, LABEL_VALUE_MSG));
    }
  }
  return causes;
}

export function podCauses(pod: JsonObject): StatusCause[] {
  const spec = obj(pod.spec);
  if (!spec) return [required('spec')];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) return [required('spec.containers')];
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  containers.forEach((c, i) => {
    const co = obj(c) ?? {};
    const name = co.name;
    if (typeof name !== 'string' || name === '') causes.push(required(`spec.containers[${i}].name`));
    else {
      causes.push(...nameCauses(name, 'label', `spec.containers[${i}].name`));
      if (seen.has(name)) causes.push({ reason: 'FieldValueDuplicate', field: `spec.containers[${i}].name`, message: `Duplicate value: ${JSON.stringify(name)}` });
      seen.add(name);
    }
    if (typeof co.image !== 'string' || co.image === '') causes.push(required(`spec.containers[${i}].image`));
  });
  return causes;
}

export function crdCauses(crd: JsonObject): StatusCause[] {
  const spec = obj(crd.spec);
  if (!spec) return [required('spec')];
  const causes: StatusCause[] = [];
  const names = obj(spec.names) ?? {};
  const group = spec.group;
  if (typeof group !== 'string' || group === '') causes.push(required('spec.group'));
  else if (!group.includes('.')) causes.push(invalidValue('spec.group', group, 'should be a domain with at least one dot'));
  if (typeof names.plural !== 'string' || names.plural === '') causes.push(required('spec.names.plural'));
  else causes.push(...nameCauses(names.plural, 'label', 'spec.names.plural'));
  if (typeof names.kind !== 'string' || names.kind === '') causes.push(required('spec.names.kind'));
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push({ reason: 'FieldValueNotSupported', field: 'spec.scope', message: `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"` });
  const versions = Array.isArray(spec.versions) ? spec.versions.map((v) => obj(v) ?? {}) : [];
  if (versions.length === 0) causes.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  else {
    if (versions.filter((v) => v.storage === true).length !== 1) causes.push(invalidValue('spec.versions', versions.map((v) => v.name), 'must have exactly one version marked as storage version'));
    versions.forEach((v, i) => {
      if (typeof v.name !== 'string' || v.name === '') causes.push(required(`spec.versions[${i}].name`));
    });
  }
  const name = String(obj(crd.metadata)?.name ?? '');
  if (typeof names.plural === 'string' && typeof group === 'string' && name !== `${names.plural}.${group}`) {
    causes.push(invalidValue('metadata.name', name, `must be spec.names.plural+"."+spec.group`));
  }
  return causes;
}
