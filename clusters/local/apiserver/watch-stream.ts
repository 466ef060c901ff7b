// Watch responses: a chunked stream of newline-delimited {"type","object"} events. Without a
// resourceVersion (or with "0") the current objects come first as ADDED; with one, events after it
// are replayed. With selectors, objects that start or stop matching arrive as ADDED/DELETED.
// BOOKMARKs: periodically with allowWatchBookmarks, and after the initial events of a watch-list.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, type JsonObject } from './errors.ts';
import type { ObjectApi, Target } from './object-api.ts';
import { resourceKey } from './registry.ts';
import type { StoreEvent } from './store.ts';
import { toTable, type IncludeObject } from './tables.ts';

export interface WatchRequest {
  target: Target;
  select: (o: JsonObject) => boolean;
  resourceVersion?: string;
  timeoutSeconds?: number;
  /** Send each object as a one-row meta.k8s.io Table (kubectl get --watch). */
  table?: IncludeObject;
  /** allowWatchBookmarks: a BOOKMARK with the current resourceVersion every bookmarkSeconds. */
  bookmarks?: boolean;
  /** sendInitialEvents (watch-list): current objects as ADDED, then a BOOKMARK marking their end. */
  sendInitialEvents?: boolean;
}

const BOOKMARK_SECONDS = 60;

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR' | 'BOOKMARK';

/** What a watcher with a selector sees for a store event, or undefined for nothing. */
function visibleAs(e: StoreEvent, inScope: (o: JsonObject) => boolean): WatchEventType | undefined {
  const now = inScope(e.object);
  const before = e.previous !== undefined && inScope(e.previous);
  switch (e.type) {
    case 'ADDED': return now ? 'ADDED' : undefined;
    case 'DELETED': return before || now ? 'DELETED' : undefined;
    case 'MODIFIED':
      if (now && before) return 'MODIFIED';
      if (now) return 'ADDED';
      return before ? 'DELETED' : undefined;
  }
}

export class WatchHub {
  private readonly open = new Set<ServerResponse>();
  /** Each stored event is serialized once per served version, however many watchers get it. */
  private readonly encoded = new WeakMap<JsonObject, Map<string, string>>();

  constructor(private readonly api: ObjectApi) {}

  closeAll(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }

  serve(req: IncomingMessage, res: ServerResponse, w: WatchRequest): void {
    const { type, version, namespace } = w.target;
    let sinceRv: number | undefined;
    if (w.resourceVersion !== undefined && w.resourceVersion !== '' && w.resourceVersion !== '0') {
      sinceRv = Number(w.resourceVersion);
      if (!Number.isInteger(sinceRv) || sinceRv < 0) throw badRequest(`invalid resourceVersion ${JSON.stringify(w.resourceVersion)}`);
    }
    const inScope = (o: JsonObject): boolean =>
      (namespace === undefined || (o.metadata as JsonObject | undefined)?.namespace === namespace) && w.select(this.api.present(type, version, o));
    const render = (o: JsonObject): JsonObject => {
      const presented = this.api.present(type, version, o);
      return w.table ? toTable(type, [presented], w.table) : presented;
    };

    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    this.open.add(res);
    const send = (t: WatchEventType, object: JsonObject): void => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type: t, object })}\n`);
    };
    const sendStored = (t: WatchEventType, stored: JsonObject): void => {
      if (w.table) return send(t, render(stored));
      let byVersion = this.encoded.get(stored);
      if (!byVersion) {
        byVersion = new Map();
        this.encoded.set(stored, byVersion);
      }
      const key = `${t} ${version}`;
      let line = byVersion.get(key);
      if (line === undefined) {
        line = `${JSON.stringify({ type: t, object: render(stored) })}\n`;
        byVersion.set(key, line);
      }
      if (!res.writableEnded) res.write(line);
    };

    const bookmark = (annotations?: Record<string, string>): void => send('BOOKMARK', {
      kind: type.kind, apiVersion: this.api.present(type, version, {}).apiVersion,
      metadata: { resourceVersion: String(this.api.store.currentRv()), ...(annotations ? { annotations } : {}) },
    });

    let unsubscribe = (): void => {};
    let timer: NodeJS.Timeout | undefined;
    let ticker: NodeJS.Timeout | undefined;
    const finish = (): void => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      this.open.delete(res);
      if (!res.writableEnded) res.end();
    };
    req.on('close', finish);
    res.on('close', finish);
    // A client that vanishes mid-write must end only its own stream, never the server.
    res.on('error', finish);

    const key = resourceKey(type);
    if (sinceRv === undefined || w.sendInitialEvents) {
      for (const o of this.api.store.list(key, type.namespaced ? namespace : undefined)) if (inScope(o)) send('ADDED', render(o));
      sinceRv = undefined;
      if (w.sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
    }
    try {
      unsubscribe = this.api.store.subscribe(key, sinceRv, (e) => {
        const as = visibleAs(e, inScope);
        if (as) sendStored(as, e.object);
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      send('ERROR', err.toStatus());
      finish();
      return;
    }
    if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) timer = setTimeout(finish, w.timeoutSeconds * 1000);
    if (w.bookmarks) ticker = setInterval(() => bookmark(), BOOKMARK_SECONDS * 1000);
  }
}
