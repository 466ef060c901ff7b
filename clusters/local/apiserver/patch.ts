// The three patch formats of PATCH requests: JSON merge patch (RFC 7386), strategic merge patch
// (for the list merge keys of the core types we serve) and JSON patch (RFC 6902).

import { isDeepStrictEqual } from 'node:util';
import { ApiError, badRequest, type JsonObject } from './errors.ts';

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// patchMergeKey of the list fields in the core/v1 types we serve (from the Go struct tags);
// other lists are replaced, as for types without a merge strategy.
const MERGE_KEYS: Record<string, string> = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name', volumes: 'name', env: 'name',
  volumeMounts: 'mountPath', volumeDevices: 'devicePath', ports: 'containerPort', conditions: 'type',
  imagePullSecrets: 'name', hostAliases: 'ip', ownerReferences: 'uid', resourceClaims: 'name',
  topologySpreadConstraints: 'topologyKey', addresses: 'type', taints: 'key',
};
// Primitive lists with the `merge` strategy (union of values).
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function strategicList(field: string, target: unknown, patch: unknown[]): unknown[] {
  const key = MERGE_KEYS[field];
  const base = Array.isArray(target) ? [...target] : [];
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p.$patch === 'replace')).map((p) => structuredClone(p));
  }
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    for (const v of patch) if (!base.some((b) => isDeepStrictEqual(b, v))) base.push(v);
    return base;
  }
  if (!key) return structuredClone(patch);
  for (const item of patch) {
    if (!isObject(item)) throw badRequest(`strategic merge patch: list "${field}" merges by "${key}" and needs objects`);
    const idx = base.findIndex((b) => isObject(b) && isDeepStrictEqual(b[key], item[key]));
    if (item.$patch === 'delete') {
      if (idx >= 0) base.splice(idx, 1);
    } else if (idx >= 0) {
      base[idx] = strategicMergePatch(base[idx], item);
    } else {
      base.push(strategicMergePatch({}, item));
    }
  }
  return base;
}

function orderBy(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const pos = (v: unknown): number => order.findIndex((o) => (key && isObject(o) && isObject(v) ? isDeepStrictEqual(o[key], v[key]) : isDeepStrictEqual(o, v)));
  return [...list].sort((a, b) => {
    const pa = pos(a);
    const pb = pos(b);
    return (pa < 0 ? Infinity : pa) - (pb < 0 ? Infinity : pb);
  });
}

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  const retain = Array.isArray(patch.$retainKeys) ? patch.$retainKeys.map(String) : undefined;
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(v)) orders.push([k.slice('$setElementOrder/'.length), v]);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as unknown[]).filter((x) => !v.some((d) => isDeepStrictEqual(d, x)));
      continue;
    }
    if (v === null) { delete out[k]; continue; }
    const merged = Array.isArray(v) ? strategicList(k, out[k], v) : strategicMergePatch(out[k], v);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  for (const [field, order] of orders) {
    if (Array.isArray(out[field])) out[field] = orderBy(out[field] as unknown[], order, MERGE_KEYS[field]);
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

// --- RFC 6902 -------------------------------------------------------------------------------

/** A well-formed patch that does not apply to the object: 422, as kube-apiserver answers. */
function cannotApply(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function parsePointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw badRequest(`json patch: invalid path ${JSON.stringify(path)}`);
  return path === '' ? [] : path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr: unknown[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw badRequest(`json patch: invalid array index "${token}"`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw cannotApply(`json patch: array index ${i} out of bounds`);
  return i;
}

function parentOf(doc: unknown, tokens: string[], op: string): [JsonObject | unknown[], string] {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)];
    else if (isObject(cur) && t in cur) cur = cur[t];
    else throw cannotApply(`json patch ${op}: path /${tokens.join('/')} does not exist (missing "${t}")`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw cannotApply(`json patch ${op}: parent of /${tokens.join('/')} is not a container`);
  return [cur, tokens[tokens.length - 1]!];
}

function getAt(doc: unknown, tokens: string[], op: string): unknown {
  if (tokens.length === 0) return doc;
  const [parent, last] = parentOf(doc, tokens, op);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false)];
  if (!(last in parent)) throw cannotApply(`json patch ${op}: path /${tokens.join('/')} does not exist`);
  return parent[last];
}

function removeAt(doc: unknown, tokens: string[], op: string): unknown {
  if (tokens.length === 0) throw badRequest(`json patch ${op}: cannot remove the whole document`);
  const [parent, last] = parentOf(doc, tokens, op);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false), 1)[0];
  if (!(last in parent)) throw cannotApply(`json patch ${op}: path /${tokens.join('/')} does not exist`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: unknown, tokens: string[], value: unknown, op: string, replace: boolean): unknown {
  if (tokens.length === 0) return value;
  const [parent, last] = parentOf(doc, tokens, op);
  if (Array.isArray(parent)) {
    if (replace) parent[arrayIndex(parent, last, false)] = value;
    else parent.splice(arrayIndex(parent, last, true), 0, value);
  } else {
    if (replace && !(last in parent)) throw cannotApply(`json patch replace: path /${tokens.join('/')} does not exist`);
    parent[last] = value;
  }
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch: the body must be a JSON array of operations');
  let doc = structuredClone(target);
  for (const raw of ops) {
    if (!isObject(raw)) throw badRequest('json patch: every operation must be an object');
    const op = String(raw.op);
    const path = parsePointer(raw.path);
    const needValue = (): unknown => {
      if (!('value' in raw)) throw badRequest(`json patch ${op}: missing "value"`);
      return structuredClone(raw.value);
    };
    switch (op) {
      case 'add': doc = addAt(doc, path, needValue(), op, false); break;
      case 'replace': doc = addAt(doc, path, needValue(), op, true); break;
      case 'remove': removeAt(doc, path, op); break;
      case 'move': {
        const from = parsePointer(raw.from);
        const v = removeAt(doc, from, op);
        doc = addAt(doc, path, v, op, false);
        break;
      }
      case 'copy': doc = addAt(doc, path, structuredClone(getAt(doc, parsePointer(raw.from), op)), op, false); break;
      case 'test':
        if (!isDeepStrictEqual(getAt(doc, path, op), raw.value)) throw cannotApply(`json patch test: value at ${String(raw.path)} differs`);
        break;
      default: throw badRequest(`json patch: unknown operation "${op}"`);
    }
  }
  return doc;
}
