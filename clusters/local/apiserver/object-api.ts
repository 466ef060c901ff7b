// The verbs on stored objects with kube-apiserver's semantics: defaults, validation, status
// subresources, resourceVersion preconditions, finalizers, graceful pod deletion, namespace
// termination and CRD registration.

import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  alreadyExists, ApiError, badRequest, conflict, forbidden, invalid, notFound, STALE_OBJECT, unsupportedMediaType,
  type JsonObject, type StatusCause,
} from './errors.ts';
import { pruneUnknownBuiltinFields } from './builtin-fields.ts';
import { checkCustomResource, versionSchema } from './crd-schema.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { defaultPodSpec, podSpecUpdateCauses } from './pod-rules.ts';
import { ResourceRegistry, resourceKey } from './registry.ts';
import { apiVersionOf, BUILTIN_TYPES, typeFromCrd, type ResourceType } from './resource-types.ts';
import type { Selector } from './selectors.ts';
import { ObjectStore } from './store.ts';
import { crdCauses, metadataCauses, nameCauses, podCauses, type NameRule } from './validation.ts';

export interface Target {
  type: ResourceType;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** How to treat fields a CRD schema does not know: drop with a warning (default), reject, drop silently. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Filled with warnings for the client (sent as `Warning` headers). */
  warnings?: string[];
  /** The body carried only metadata (a partially decoded protobuf Pod); everything else stays as stored. */
  metadataOnly?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListPage {
  items: JsonObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

const builtin = (plural: string, group = ''): ResourceType => BUILTIN_TYPES.find((t) => t.plural === plural && t.group === group)!;
const NAMESPACES = builtin('namespaces');
const PODS = builtin('pods');
const SERVICE_ACCOUNTS = builtin('serviceaccounts');
const SERVICES = builtin('services');
const SECRETS = builtin('secrets');
const CRDS = builtin('customresourcedefinitions', 'apiextensions.k8s.io');

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function meta(o: JsonObject): JsonObject {
  if (!isObject(o.metadata)) o.metadata = {};
  return o.metadata as JsonObject;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function nameRule(t: ResourceType): NameRule {
  return t === NAMESPACES ? 'label' : 'subdomain';
}

function finalizers(o: JsonObject): unknown[] {
  const f = meta(o).finalizers;
  return Array.isArray(f) ? f : [];
}

/** Spec-like content, whose change bumps metadata.generation. */
function specOf(o: JsonObject): JsonObject {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

function withoutVersion(o: JsonObject): JsonObject {
  const c = structuredClone(o);
  delete meta(c).resourceVersion;
  return c;
}

export class ObjectApi {
  readonly store = new ObjectStore();
  readonly registry = new ResourceRegistry();

  constructor() {
    for (const name of INITIAL_NAMESPACES) this.create({ type: NAMESPACES, version: 'v1' }, { metadata: { name } });
  }

  // ----- reading ------------------------------------------------------------------------------

  /** The object as served at the requested version (apiVersion/kind filled in). */
  present(t: ResourceType, version: string, o: JsonObject): JsonObject {
    const { apiVersion: _a, kind: _k, ...rest } = o;
    return { apiVersion: apiVersionOf(t, version), kind: t.kind, ...rest };
  }

  private mustGet(t: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const o = this.store.get(resourceKey(t), t.namespaced ? namespace : undefined, name);
    if (!o) throw notFound(t, name);
    return o;
  }

  get(target: Target): JsonObject {
    return this.present(target.type, target.version, this.mustGet(target.type, target.namespace, target.name!));
  }

  /**
   * Objects in namespace/name order. With a limit, a page and a continue token naming where the
   * next page starts (pages are read from the current state, not from a snapshot).
   */
  list(target: Target, select: Selector, page: { limit?: number; continue?: string } = {}): ListPage {
    const rv = String(this.store.currentRv());
    let items = this.store.list(resourceKey(target.type), target.type.namespaced ? target.namespace : undefined)
      .map((o) => this.present(target.type, target.version, o))
      .filter(select);
    const keyOf = (o: JsonObject): string => `${String(meta(o).namespace ?? '')}/${String(meta(o).name)}`;
    if (page.continue) {
      let after: unknown;
      try {
        after = (JSON.parse(Buffer.from(page.continue, 'base64url').toString('utf8')) as JsonObject).after;
      } catch {
        after = undefined;
      }
      if (typeof after !== 'string') throw badRequest(`invalid continue token ${JSON.stringify(page.continue)}`);
      items = items.filter((o) => keyOf(o) > after);
    }
    if (page.limit && page.limit > 0 && items.length > page.limit) {
      const shown = items.slice(0, page.limit);
      const token = Buffer.from(JSON.stringify({ after: keyOf(shown[shown.length - 1]!) })).toString('base64url');
      return { items: shown, resourceVersion: rv, continue: token, remainingItemCount: items.length - shown.length };
    }
    return { items, resourceVersion: rv };
  }

  // ----- create -------------------------------------------------------------------------------

  private checkNamespace(t: ResourceType, namespace: string | undefined, name: string): void {
    if (!t.namespaced) return;
    const ns = this.store.get(resourceKey(NAMESPACES), undefined, namespace ?? '');
    if (!ns) throw notFound(NAMESPACES, namespace ?? '');
    if (meta(ns).deletionTimestamp) {
      throw forbidden(t, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private validate(t: ResourceType, o: JsonObject, name: string, main: boolean): void {
    const causes: StatusCause[] = [...nameCauses(name, nameRule(t)), ...metadataCauses(o)];
    if (main && t === PODS) causes.push(...podCauses(o));
    if (t === CRDS) causes.push(...crdCauses(o));
    if (causes.length) throw invalid(t.kind, t.group, name, causes);
  }

  /**
   * Fields the kind does not have: custom resources against their CRD's schema (422 for wrong
   * values), built-in kinds at their top level and metadata. Unknown fields are pruned with a
   * warning, or rejected under fieldValidation=Strict.
   */
  private checkSchema(target: Target, o: JsonObject, name: string, opts: WriteOptions): void {
    const t = target.type;
    let unknown: string[];
    if (t.custom) {
      const crd = this.store.get(resourceKey(CRDS), undefined, `${t.plural}.${t.group}`);
      const check = checkCustomResource(o, versionSchema(crd, target.version));
      if (check.causes.length) throw invalid(t.kind, t.group, name, check.causes);
      unknown = check.unknown;
    } else {
      unknown = pruneUnknownBuiltinFields(t.kind, o);
    }
    if (unknown.length === 0 || opts.fieldValidation === 'Ignore') return;
    const messages = unknown.map((f) => `unknown field "${f}"`);
    if (opts.fieldValidation === 'Strict') throw badRequest(`strict decoding error: ${messages.join(', ')}`);
    opts.warnings?.push(...messages);
  }

  create(target: Target, body: unknown, opts: WriteOptions = {}): JsonObject {
    const dryRun = opts.dryRun === true;
    if (opts.metadataOnly) throw unsupportedMediaType(`protobuf ${target.type.kind} bodies are only accepted for updates; send application/json`);
    const t = target.type;
    if (!isObject(body)) throw badRequest(`the body of the request must be a JSON object (${t.kind})`);
    if (body.kind !== undefined && body.kind !== t.kind) {
      throw badRequest(`the kind in the body (${String(body.kind)}) does not match the resource ${t.plural} (kind ${t.kind})`);
    }
    const o = structuredClone(body);
    const m = meta(o);
    if (t.namespaced) {
      if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== target.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m.namespace = target.namespace;
    } else {
      delete m.namespace;
    }
    if ((m.name === undefined || m.name === '') && typeof m.generateName === 'string' && m.generateName) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
      m.name = `${m.generateName}${suffix}`;
    }
    if (typeof m.name !== 'string' || m.name === '') {
      throw invalid(t.kind, t.group, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    }
    const name = m.name;
    this.validate(t, o, name, true);
    this.checkSchema(target, o, name, opts);
    this.checkNamespace(t, target.namespace, name);
    const key = resourceKey(t);
    if (this.store.get(key, t.namespaced ? target.namespace : undefined, name)) throw alreadyExists(t, name);

    m.uid = randomUUID();
    m.creationTimestamp = now();
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    if (t.custom || t.group) m.generation = 1;
    o.apiVersion = apiVersionOf(t, target.version);
    o.kind = t.kind;
    if (t.statusSubresource && t.custom) delete o.status;
    this.defaultOnCreate(t, o);
    if (t === CRDS) this.establishCrd(o, undefined, !dryRun);
    if (dryRun) return this.present(t, target.version, o);
    const stored = this.store.put(key, o);
    if (t === NAMESPACES) this.create({ type: SERVICE_ACCOUNTS, version: 'v1', namespace: name }, { metadata: { name: 'default' } });
    return this.present(t, target.version, stored);
  }

  private defaultOnCreate(t: ResourceType, o: JsonObject): void {
    if (t === NAMESPACES) {
      o.spec = { finalizers: ['kubernetes'] };
      o.status = { phase: 'Active' };
    } else if (t === PODS) {
      defaultPodSpec(o.spec as JsonObject);
      o.status = { phase: 'Pending', qosClass: 'BestEffort' };
    } else if (t === SERVICES) {
      o.spec = { type: 'ClusterIP', sessionAffinity: 'None', ...(isObject(o.spec) ? o.spec : {}) };
      o.status = { loadBalancer: {} };
    } else if (t === SECRETS) {
      o.type ??= 'Opaque';
    }
  }

  // ----- CRDs ---------------------------------------------------------------------------------

  /** Check a CRD against the served types and fill in its status; with `serve`, route its resource. */
  private establishCrd(crd: JsonObject, previousStatus: unknown, serve: boolean): void {
    const name = String(meta(crd).name);
    const t = typeFromCrd(crd);
    const taken = this.registry.owner(t.group, t.plural, name);
    if (taken) {
      throw invalid(CRDS.kind, CRDS.group, name, [{ reason: 'FieldValueInvalid', field: 'spec.names.plural', message: `Invalid value: "${t.plural}": already served by ${taken}` }]);
    }
    const previous = this.registry.custom(name);
    if (previous && previous.namespaced !== t.namespaced) {
      throw invalid(CRDS.kind, CRDS.group, name, [{ reason: 'FieldValueInvalid', field: 'spec.scope', message: 'Invalid value: field is immutable' }]);
    }
    const spec = crd.spec as JsonObject;
    const before = isObject(previousStatus) ? previousStatus : {};
    const time = now();
    const storage = String((spec.versions as JsonObject[]).find((v) => v.storage === true)?.name);
    const stored = Array.isArray(before.storedVersions) ? before.storedVersions.map(String) : [];
    crd.status = {
      acceptedNames: { ...(spec.names as JsonObject), singular: t.singular, listKind: t.listKind },
      conditions: Array.isArray(before.conditions) ? before.conditions : [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: time },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: time },
      ],
      storedVersions: stored.includes(storage) ? stored : [...stored, storage],
    };
    if (serve) this.registry.setCustom(name, t);
  }

  // ----- update / patch -----------------------------------------------------------------------

  update(target: Target, body: unknown, opts: WriteOptions = {}): JsonObject {
    const t = target.type;
    if (!isObject(body)) throw badRequest(`the body of the request must be a JSON object (${t.kind})`);
    const name = target.name!;
    const m = meta(body);
    if (m.name !== undefined && m.name !== name) {
      throw badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
    }
    if (t.namespaced && m.namespace !== undefined && m.namespace !== '' && m.namespace !== target.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const old = this.mustGet(t, target.namespace, name);
    const rv = m.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== meta(old).resourceVersion) throw conflict(t, name, STALE_OBJECT);
    const incoming = opts.metadataOnly ? { ...structuredClone(old), metadata: structuredClone(m) } : structuredClone(body);
    return this.commit(target, old, incoming, opts);
  }

  patch(target: Target, contentType: string, body: unknown, opts: WriteOptions = {}): JsonObject {
    const t = target.type;
    const name = target.name!;
    const old = this.mustGet(t, target.namespace, name);
    const current = this.present(t, target.version, old);
    let next: unknown;
    switch (contentType) {
      case 'application/merge-patch+json':
        if (!isObject(body)) throw badRequest('merge patch: the body must be a JSON object');
        next = mergePatch(current, body);
        break;
      case 'application/strategic-merge-patch+json':
        if (t.custom) throw unsupportedMediaType(`${contentType} is not supported for custom resources`);
        if (!isObject(body)) throw badRequest('strategic merge patch: the body must be a JSON object');
        next = strategicMergePatch(current, body);
        break;
      case 'application/json-patch+json':
        next = jsonPatch(current, body);
        break;
      default:
        throw unsupportedMediaType(contentType);
    }
    if (!isObject(next)) throw badRequest('the patched object is not a JSON object');
    const m = meta(next);
    if (m.name !== name) throw invalid(t.kind, t.group, name, [{ reason: 'FieldValueInvalid', field: 'metadata.name', message: 'Invalid value: field is immutable' }]);
    if (t.namespaced && m.namespace !== target.namespace) throw invalid(t.kind, t.group, name, [{ reason: 'FieldValueInvalid', field: 'metadata.namespace', message: 'Invalid value: field is immutable' }]);
    // A resourceVersion in the patch is a precondition, like in an update.
    if (m.resourceVersion !== meta(old).resourceVersion) throw conflict(t, name, STALE_OBJECT);
    return this.commit(target, old, next, opts);
  }

  /** Apply the update rules for main resource vs. status subresource, then store (or finish a deletion). */
  private commit(target: Target, old: JsonObject, incoming: JsonObject, opts: WriteOptions): JsonObject {
    const dryRun = opts.dryRun === true;
    const t = target.type;
    const name = target.name!;
    const oldMeta = meta(old);
    let next: JsonObject;
    if (target.subresource === 'status') {
      next = structuredClone(old);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
      if (!t.custom) {
        // Built-in status strategies keep spec but let labels/annotations through (Multus writes
        // network-status this way).
        const inMeta = meta(incoming);
        for (const f of ['labels', 'annotations'] as const) {
          if (inMeta[f] === undefined || inMeta[f] === null) delete meta(next)[f];
          else meta(next)[f] = inMeta[f];
        }
      }
    } else {
      next = incoming;
      if (t.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
    }
    const m = meta(next);
    for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'namespace', 'name'] as const) {
      if (oldMeta[f] === undefined) delete m[f];
      else m[f] = oldMeta[f];
    }
    m.resourceVersion = oldMeta.resourceVersion;
    delete m.selfLink;
    next.apiVersion = apiVersionOf(t, target.version);
    next.kind = t.kind;
    this.validate(t, next, name, target.subresource !== 'status');
    this.checkSchema(target, next, name, opts);
    if (t === PODS && target.subresource !== 'status') {
      defaultPodSpec(next.spec as JsonObject);
      const causes = podSpecUpdateCauses(old.spec as JsonObject, next.spec as JsonObject);
      if (causes.length) throw invalid(t.kind, t.group, name, causes);
    }
    if ((t.custom || t.group) && !isDeepStrictEqual(specOf(next), specOf(old))) m.generation = Number(oldMeta.generation ?? 1) + 1;
    if (t === CRDS) this.establishCrd(next, old.status, !dryRun);
    if (t === NAMESPACES && target.subresource !== 'status') next.spec = old.spec;

    if (isDeepStrictEqual(withoutVersion(next), withoutVersion(old))) return this.present(t, target.version, old);
    if (dryRun) return this.present(t, target.version, next);
    if (this.deletionComplete(t, next)) return this.present(t, target.version, this.removeNow(t, next));
    return this.present(t, target.version, this.store.put(resourceKey(t), next));
  }

  // ----- delete -------------------------------------------------------------------------------

  /** Deletion is over when it was requested, no finalizer remains and no grace period is pending. */
  private deletionComplete(t: ResourceType, o: JsonObject): boolean {
    const m = meta(o);
    if (!m.deletionTimestamp || finalizers(o).length > 0) return false;
    if (t === PODS) return Number(m.deletionGracePeriodSeconds ?? 0) === 0;
    if (t === NAMESPACES) return this.namespaceEmpty(String(m.name));
    return true;
  }

  private namespaceEmpty(ns: string): boolean {
    return this.registry.all().every((t) => !t.namespaced || this.store.count(resourceKey(t), ns) === 0);
  }

  private removeNow(t: ResourceType, o: JsonObject): JsonObject {
    const m = meta(o);
    const ns = t.namespaced ? String(m.namespace) : undefined;
    const removed = this.store.remove(resourceKey(t), ns, String(m.name)) ?? o;
    if (t === CRDS) {
      const custom = this.registry.removeCustom(String(m.name));
      const dropped = custom ? this.store.dropResource(resourceKey(custom)) : [];
      for (const n of new Set(dropped.map((o) => meta(o).namespace).filter((x): x is string => typeof x === 'string'))) this.finishNamespaceIfDone(n);
    }
    if (ns !== undefined) this.finishNamespaceIfDone(ns);
    return removed;
  }

  private finishNamespaceIfDone(ns: string): void {
    const nsObj = this.store.get(resourceKey(NAMESPACES), undefined, ns);
    if (nsObj && this.deletionComplete(NAMESPACES, nsObj)) this.store.remove(resourceKey(NAMESPACES), undefined, ns);
  }

  /** Returns the object as deleted or as marked for deletion (`pending`: it still exists). */
  delete(target: Target, opts: DeleteOptions, dryRun = false): { object: JsonObject; pending: boolean } {
    const t = target.type;
    const name = target.name!;
    const o = this.mustGet(t, target.namespace, name);
    const m = meta(o);
    const pre = opts.preconditions ?? {};
    if (pre.uid !== undefined && pre.uid !== m.uid) {
      throw conflict(t, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(m.uid)}`);
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== m.resourceVersion) {
      throw conflict(t, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(m.resourceVersion)}`);
    }
    if (t === NAMESPACES && INITIAL_NAMESPACES.includes(name)) throw forbidden(t, name, 'this namespace may not be deleted');

    const grace = this.gracePeriod(t, o, opts.gracePeriodSeconds);
    if (grace === 0 && finalizers(o).length === 0 && t !== NAMESPACES) {
      return { object: this.present(t, target.version, dryRun ? o : this.removeNow(t, o)), pending: false };
    }
    // Graceful or finalizer-held deletion: mark it, keep the object.
    if (m.deletionTimestamp && Number(m.deletionGracePeriodSeconds ?? 0) <= grace) return { object: this.present(t, target.version, o), pending: true };
    m.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    m.deletionGracePeriodSeconds = grace;
    if (t === NAMESPACES) o.status = { ...(o.status as JsonObject), phase: 'Terminating' };
    if (dryRun) return { object: this.present(t, target.version, o), pending: true };
    const marked = this.store.put(resourceKey(t), o);
    if (t === NAMESPACES) {
      this.deleteNamespaceContents(name);
      const still = this.store.get(resourceKey(NAMESPACES), undefined, name);
      return { object: this.present(t, target.version, still ?? marked), pending: still !== undefined };
    }
    return { object: this.present(t, target.version, marked), pending: true };
  }

  /** Seconds of grace a delete gets: pods bound to a node and still running wait for the node agent. */
  private gracePeriod(t: ResourceType, o: JsonObject, requested: number | undefined): number {
    if (t !== PODS) return 0;
    const spec = isObject(o.spec) ? o.spec : {};
    const phase = isObject(o.status) ? o.status.phase : undefined;
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    const g = requested ?? Number(spec.terminationGracePeriodSeconds ?? 30);
    return Math.max(0, g);
  }

  private deleteNamespaceContents(ns: string): void {
    for (const t of this.registry.all()) {
      if (!t.namespaced) continue;
      for (const o of this.store.list(resourceKey(t), ns)) {
        try {
          this.delete({ type: t, version: t.versions[0]!, namespace: ns, name: String(meta(o).name) }, {});
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
    }
    this.finishNamespaceIfDone(ns);
  }

  deleteCollection(target: Target, select: Selector, opts: DeleteOptions): JsonObject[] {
    const { items } = this.list(target, select);
    return items.map((o) => this.delete({ ...target, namespace: String(meta(o).namespace ?? ''), name: String(meta(o).name) }, opts).object);
  }

  // ----- pods/binding -------------------------------------------------------------------------

  bind(target: Target, body: unknown): void {
    const name = target.name!;
    const pod = this.mustGet(PODS, target.namespace, name);
    const node = isObject(body) && isObject(body.target) ? body.target.name : undefined;
    if (typeof node !== 'string' || node === '') {
      throw invalid('Binding', '', name, [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
    }
    const spec = pod.spec as JsonObject;
    if (spec.nodeName) throw conflict(PODS, name, `pod ${name} is already assigned to node "${String(spec.nodeName)}"`);
    spec.nodeName = node;
    const status = (isObject(pod.status) ? pod.status : {}) as JsonObject;
    const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter((c) => !(isObject(c) && c.type === 'PodScheduled'));
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() });
    status.conditions = conditions;
    pod.status = status;
    this.store.put(resourceKey(PODS), pod);
  }
}
