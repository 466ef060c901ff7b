// Label and field selectors in the syntax kubectl and client libraries send
// (`app=x,tier!=db,env in (a,b),!legacy`; `spec.nodeName=node-1,metadata.name!=x`).

import { badRequest, type JsonObject } from './errors.ts';

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type Selector = (obj: JsonObject) => boolean;

/** Split on commas that are not inside parentheses or escaped. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) { cur += c + s[i + 1]; i++; continue; }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function parseLabelTerm(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (set) {
    const values = set[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '');
    return { op: set[2] as 'in' | 'notin', key: set[1]!, values };
  }
  const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (cmp) return { op: cmp[2] === '!=' ? 'neq' : 'eq', key: cmp[1]!, value: cmp[3]! };
  const neg = /^!\s*(\S+)$/.exec(term);
  if (neg) return { op: 'notexists', key: neg[1]! };
  if (/^[^\s=!(),]+$/.test(term)) return { op: 'exists', key: term };
  throw badRequest(`unable to parse requirement: invalid label selector term "${term}"`);
}

function matches(r: Requirement, value: string | undefined): boolean {
  switch (r.op) {
    case 'eq': return value === r.value;
    case 'neq': return value !== r.value;
    case 'in': return value !== undefined && r.values.includes(value);
    case 'notin': return value === undefined || !r.values.includes(value);
    case 'exists': return value !== undefined;
    case 'notexists': return value === undefined;
  }
}

function labelsOf(obj: JsonObject): Record<string, string> {
  const meta = obj.metadata as JsonObject | undefined;
  return (meta?.labels ?? {}) as Record<string, string>;
}

export function parseLabelSelector(s: string | null): Selector {
  if (!s) return () => true;
  const reqs = splitTerms(s).map(parseLabelTerm);
  return (obj) => {
    const labels = labelsOf(obj);
    return reqs.every((r) => matches(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined));
  };
}

function unescapeField(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

/** A field's value as a field selector compares it: by dotted path, missing fields are "". */
export function fieldValue(obj: JsonObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as JsonObject)[part];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function parseFieldSelector(s: string | null): Selector {
  if (!s) return () => true;
  const reqs = splitTerms(s).map((term) => {
    const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid field selector term "${term}": expected field=value, field==value or field!=value`);
    return { key: m[1]!, neq: m[2] === '!=', value: unescapeField(m[3]!) };
  });
  return (obj) => reqs.every((r) => (fieldValue(obj, r.key) === r.value) !== r.neq);
}
