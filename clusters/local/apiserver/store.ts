// In-memory object storage with one resourceVersion counter for everything (like etcd's revision),
// and a bounded event log so that watches can resume from a resourceVersion.

import { expired, type JsonObject } from './errors.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  resource: string;
  type: EventType;
  object: JsonObject;
  /** The object before a MODIFIED/DELETED, so watchers with selectors can tell enter/leave. */
  previous?: JsonObject;
}

type Listener = (e: StoreEvent) => void;

const LOG_LIMIT = 20_000;

function metaOf(obj: JsonObject): JsonObject {
  if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
  return obj.metadata as JsonObject;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class ObjectStore {
  private rv = 0;
  private readonly data = new Map<string, Map<string, JsonObject>>();
  private readonly log: StoreEvent[] = [];
  /** Highest resourceVersion no longer in the log; watches from before it get 410 Expired. */
  private compactedRv = 0;
  private readonly listeners = new Map<string, Set<Listener>>();

  currentRv(): number {
    return this.rv;
  }

  private bucket(resource: string): Map<string, JsonObject> {
    let b = this.data.get(resource);
    if (!b) {
      b = new Map();
      this.data.set(resource, b);
    }
    return b;
  }

  get(resource: string, namespace: string | undefined, name: string): JsonObject | undefined {
    const o = this.data.get(resource)?.get(objectKey(namespace, name));
    return o ? structuredClone(o) : undefined;
  }

  /** Objects of a resource (in one namespace, or all), ordered by namespace/name like etcd keys. */
  list(resource: string, namespace?: string): JsonObject[] {
    const b = this.data.get(resource);
    if (!b) return [];
    const keys = [...b.keys()].filter((k) => namespace === undefined || k.startsWith(`${namespace}/`)).sort();
    return keys.map((k) => structuredClone(b.get(k)!));
  }

  /** Number of objects of a resource in a namespace. */
  count(resource: string, namespace: string): number {
    let n = 0;
    for (const k of this.data.get(resource)?.keys() ?? []) if (k.startsWith(`${namespace}/`)) n++;
    return n;
  }

  private record(resource: string, type: EventType, object: JsonObject, previous?: JsonObject): void {
    const e: StoreEvent = { rv: this.rv, resource, type, object, previous };
    this.log.push(e);
    if (this.log.length > LOG_LIMIT) this.compactedRv = this.log.splice(0, this.log.length - LOG_LIMIT).pop()!.rv;
    for (const l of [...(this.listeners.get(resource) ?? [])]) l(e);
  }

  /** Store a new or changed object under a fresh resourceVersion; returns the stored copy. */
  put(resource: string, obj: JsonObject): JsonObject {
    const meta = metaOf(obj);
    const key = objectKey(meta.namespace as string | undefined, String(meta.name));
    const b = this.bucket(resource);
    const previous = b.get(key);
    this.rv++;
    meta.resourceVersion = String(this.rv);
    const stored = structuredClone(obj);
    b.set(key, stored);
    this.record(resource, previous ? 'MODIFIED' : 'ADDED', stored, previous);
    return structuredClone(stored);
  }

  /** Remove an object; the DELETED event carries it with the deletion's resourceVersion. */
  remove(resource: string, namespace: string | undefined, name: string): JsonObject | undefined {
    const b = this.data.get(resource);
    const key = objectKey(namespace, name);
    const previous = b?.get(key);
    if (!b || !previous) return undefined;
    b.delete(key);
    this.rv++;
    const gone = structuredClone(previous);
    metaOf(gone).resourceVersion = String(this.rv);
    this.record(resource, 'DELETED', gone, previous);
    return structuredClone(gone);
  }

  /** Drop a whole resource (its CRD went away); returns what was removed. Watchers see DELETED for each. */
  dropResource(resource: string): JsonObject[] {
    const removed = this.list(resource);
    for (const o of removed) {
      const meta = metaOf(o);
      this.remove(resource, meta.namespace as string | undefined, String(meta.name));
    }
    this.data.delete(resource);
    return removed;
  }

  /**
   * Subscribe to changes of a resource. With sinceRv, events after it are replayed first
   * (410 Expired when they are no longer in the log). Returns the unsubscribe function.
   */
  subscribe(resource: string, sinceRv: number | undefined, listener: Listener): () => void {
    if (sinceRv !== undefined) {
      if (sinceRv < this.compactedRv) throw expired(`too old resource version: ${sinceRv} (${this.compactedRv + 1})`);
      for (const e of this.log) if (e.rv > sinceRv && e.resource === resource) listener(e);
    }
    let set = this.listeners.get(resource);
    if (!set) {
      set = new Set();
      this.listeners.set(resource, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }
}
