// HTTP routing of the API: authentication, discovery and OpenAPI, and the REST verbs on
// /api/v1/... and /apis/<group>/<version>/... with Status bodies for every failure.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest, methodNotAllowed, pathNotFound, unauthorized, type JsonObject } from './errors.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.ts';
import { ObjectApi, type DeleteOptions, type Target, type WriteOptions } from './object-api.ts';
import { openApiV3Document, openApiV3Index } from './openapi.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { decodeProtobufObject } from './protobuf-body.ts';
import { toTable, type IncludeObject } from './tables.ts';
import { WatchHub } from './watch-stream.ts';

const MAX_BODY = 8 * 1024 * 1024;
const UNAUTHENTICATED_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

export interface HandlerOptions {
  token: string;
  /** host:port clients should use, for /api's serverAddressByClientCIDRs. */
  serverAddress: () => string;
  requestLog?: (line: string) => void;
}

function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json', warnings: string[] = []): void {
  const data = JSON.stringify(body);
  const headers: Record<string, string | number | string[]> = { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data), 'Cache-Control': 'no-cache, private' };
  if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(data);
}

function fieldValidation(q: URLSearchParams): WriteOptions['fieldValidation'] {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return undefined;
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation ${JSON.stringify(v)}: must be one of Strict, Warn, Ignore`);
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', `request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`${what}: invalid JSON: ${(err as Error).message}`);
  }
}

/** An object body in JSON, YAML or (for the few kinds kubectl's typed clients send) protobuf. */
async function readObject(req: IncomingMessage, what: string, emptyAs?: JsonObject, write?: WriteOptions): Promise<unknown> {
  const body = await readBody(req);
  if (emptyAs && body.toString('utf8').trim() === '') return emptyAs;
  const contentType = req.headers['content-type'] ?? '';
  if (contentType.startsWith('application/vnd.kubernetes.protobuf')) {
    const decoded = decodeProtobufObject(body);
    if (write) write.metadataOnly = decoded.metadataOnly;
    else if (decoded.metadataOnly) throw badRequest(`${what}: a protobuf ${String(decoded.object.kind)} is only accepted for updates; send JSON`);
    return decoded.object;
  }
  if (contentType.startsWith('application/yaml')) {
    try {
      return parseYaml(body.toString('utf8'));
    } catch (err) {
      throw badRequest(`${what}: invalid YAML: ${(err as Error).message}`);
    }
  }
  return parseJson(body.toString('utf8'), what);
}

function boolParam(v: string | null): boolean {
  return v === 'true' || v === '1';
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid ${name} ${JSON.stringify(v)}: must be an integer`);
  return n;
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

const TABLE_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

interface ResourcePath {
  target: Target;
  watchPrefix: boolean;
}

export class ApiHandler {
  readonly api = new ObjectApi();
  private readonly watches: WatchHub;
  private readonly token: Buffer;
  /** Further bearer tokens accepted now (a service account's); replaced as a whole, so revoking one takes effect at once. */
  private others: Buffer[] = [];

  constructor(private readonly opts: HandlerOptions) {
    this.token = Buffer.from(opts.token);
    this.watches = new WatchHub(this.api);
  }

  acceptAlso(tokens: readonly string[]): void {
    this.others = tokens.map((t) => Buffer.from(t));
  }

  closeWatches(): void {
    this.watches.closeAll();
  }

  private authorized(req: IncomingMessage): boolean {
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]!.trim());
    return [this.token, ...this.others].some((t) => given.length === t.length && timingSafeEqual(given, t));
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = Date.now();
    res.on('finish', () => this.opts.requestLog?.(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
    this.route(req, res).catch((err: unknown) => {
      const apiErr = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `internal error: ${(err as Error).stack ?? String(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, apiErr.code, apiErr.toStatus());
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://apiserver');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (['/healthz', '/livez', '/readyz'].includes(path)) return sendText(res, 200, 'ok');
    if (!UNAUTHENTICATED_PATHS.has(path) && !this.authorized(req)) throw unauthorized();
    const method = req.method ?? 'GET';
    if (path === '/version') return sendJson(res, 200, versionInfo());
    if (path === '/api') return sendJson(res, 200, apiVersions(this.opts.serverAddress()));
    if (path === '/apis') return sendJson(res, 200, apiGroupList(this.api.registry));
    if (path === '/openapi/v3') return sendJson(res, 200, openApiV3Index(this.api.registry));
    if (path.startsWith('/openapi/v3/')) {
      const doc = openApiV3Document(this.api.registry, path.slice('/openapi/v3/'.length));
      if (!doc) throw pathNotFound();
      return sendJson(res, 200, doc);
    }
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) {
      group = '';
      rest = segs.slice(1);
    } else if (segs[0] === 'apis' && segs.length === 2) {
      const doc = apiGroup(this.api.registry, segs[1]!);
      if (!doc) throw pathNotFound();
      return sendJson(res, 200, doc);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1]!;
      rest = segs.slice(2);
    } else {
      throw pathNotFound();
    }
    const version = rest[0]!;
    if (rest.length === 1) {
      const list = apiResourceList(this.api.registry, group, version);
      if (!list) throw pathNotFound();
      return sendJson(res, 200, list);
    }
    const parsed = this.parseResourcePath(group, version, rest.slice(1));
    await this.serveResource(req, res, method, parsed, url.searchParams);
  }

  private parseResourcePath(group: string, version: string, segs: string[]): ResourcePath {
    let watchPrefix = false;
    if (segs[0] === 'watch') {
      watchPrefix = true;
      segs = segs.slice(1);
    }
    let namespace: string | undefined;
    // namespaces/<ns>/<resource>/..., but namespaces/<name>[/status|/finalize] is the namespace itself.
    const namespaceItself = !group && segs.length === 3 && ['status', 'finalize'].includes(segs[2]!);
    if (segs[0] === 'namespaces' && segs.length >= 3 && !namespaceItself) {
      namespace = segs[1];
      segs = segs.slice(2);
    }
    const [plural, name, subresource, ...extra] = segs;
    const type = this.api.registry.find(group, version, plural ?? '');
    if (!type || extra.length > 0) throw pathNotFound();
    if (namespace !== undefined && !type.namespaced) throw pathNotFound();
    if (subresource !== undefined) {
      const allowed = (subresource === 'status' && type.statusSubresource) || (subresource === 'binding' && type.plural === 'pods' && !type.group);
      if (!allowed) throw pathNotFound();
    }
    return { target: { type, version, namespace, name, subresource }, watchPrefix };
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, method: string, p: ResourcePath, q: URLSearchParams): Promise<void> {
    const { target } = p;
    const api = this.api;
    const dryRun = q.getAll('dryRun').includes('All');
    const warnings: string[] = [];
    const write: WriteOptions = { dryRun, fieldValidation: fieldValidation(q), warnings };
    const isWatch = p.watchPrefix || boolParam(q.get('watch'));

    if (method === 'GET' && isWatch) {
      const labels = parseLabelSelector(q.get('labelSelector'));
      const fields = parseFieldSelector(q.get('fieldSelector'));
      const byName = target.name;
      this.watches.serve(req, res, {
        target: { ...target, name: undefined },
        select: (o) => labels(o) && fields(o) && (byName === undefined || (o.metadata as JsonObject).name === byName),
        resourceVersion: q.get('resourceVersion') ?? undefined,
        timeoutSeconds: intParam(q, 'timeoutSeconds'),
        table: wantsTable(req) ? includeObject(q) : undefined,
        bookmarks: boolParam(q.get('allowWatchBookmarks')),
        sendInitialEvents: boolParam(q.get('sendInitialEvents')),
      });
      return;
    }
    if (target.subresource === 'binding') {
      if (method !== 'POST') throw methodNotAllowed(method);
      api.bind(target, await readObject(req, 'binding'));
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }

    if (target.name === undefined) {
      const select = (): ((o: JsonObject) => boolean) => {
        const labels = parseLabelSelector(q.get('labelSelector'));
        const fields = parseFieldSelector(q.get('fieldSelector'));
        return (o) => labels(o) && fields(o);
      };
      switch (method) {
        case 'GET': {
          const page = api.list(target, select(), { limit: intParam(q, 'limit'), continue: q.get('continue') ?? undefined });
          const listMeta: JsonObject = { resourceVersion: page.resourceVersion };
          if (page.continue) Object.assign(listMeta, { continue: page.continue, remainingItemCount: page.remainingItemCount });
          if (wantsTable(req)) return sendJson(res, 200, { ...toTable(target.type, page.items, includeObject(q)), metadata: listMeta }, TABLE_TYPE);
          const apiVersion = target.type.group ? `${target.type.group}/${target.version}` : target.version;
          return sendJson(res, 200, { kind: target.type.listKind, apiVersion, metadata: listMeta, items: page.items });
        }
        case 'POST':
          if (target.namespace === undefined && target.type.namespaced) throw methodNotAllowed('POST on a cluster-wide list of a namespaced resource');
          return sendJson(res, 201, api.create(target, await readObject(req, 'create', undefined, write), write), 'application/json', warnings);
        case 'DELETE': {
          const items = api.deleteCollection(target, select(), await this.deleteOptions(req, q));
          const apiVersion = target.type.group ? `${target.type.group}/${target.version}` : target.version;
          return sendJson(res, 200, { kind: target.type.listKind, apiVersion, metadata: { resourceVersion: String(api.store.currentRv()) }, items });
        }
        default:
          throw methodNotAllowed(method);
      }
    }

    switch (method) {
      case 'GET': {
        const o = api.get(target);
        if (wantsTable(req)) return sendJson(res, 200, toTable(target.type, [o], includeObject(q)), TABLE_TYPE);
        return sendJson(res, 200, o);
      }
      case 'PUT':
        return sendJson(res, 200, api.update(target, await readObject(req, 'update', undefined, write), write), 'application/json', warnings);
      case 'PATCH': {
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        return sendJson(res, 200, api.patch(target, contentType, parseJson((await readBody(req)).toString('utf8'), 'patch'), write), 'application/json', warnings);
      }
      case 'DELETE': {
        if (target.subresource) throw methodNotAllowed(method);
        const { object, pending } = api.delete(target, await this.deleteOptions(req, q), dryRun);
        return sendJson(res, pending ? 202 : 200, object);
      }
      default:
        throw methodNotAllowed(method);
    }
  }

  /** DeleteOptions from the body (client libraries) merged with query parameters (kubectl). */
  private async deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const body = await readObject(req, 'DeleteOptions', {});
    const o = (body !== null && typeof body === 'object' ? body : {}) as JsonObject;
    const opts: DeleteOptions = {};
    const grace = intParam(q, 'gracePeriodSeconds') ?? (typeof o.gracePeriodSeconds === 'number' ? o.gracePeriodSeconds : undefined);
    if (grace !== undefined) opts.gracePeriodSeconds = grace;
    const pre = o.preconditions;
    if (pre !== null && typeof pre === 'object') {
      const p = pre as JsonObject;
      opts.preconditions = {
        uid: typeof p.uid === 'string' ? p.uid : undefined,
        resourceVersion: typeof p.resourceVersion === 'string' ? p.resourceVersion : undefined,
      };
    }
    return opts;
  }
}
