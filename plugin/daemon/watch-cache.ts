// Watch-fed caches of the objects CNI calls read (this node's pods, NADs), and an ApiCaller that
// answers GETs of those objects from them. An object the cache has not seen is read from the API at
// once: the cache saves round trips, it never makes a call wait for a watch event.
import { Agent, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { baseHeaders, tlsOptions, type ApiCaller, type ApiResponse } from '../k8s/client.ts';
import type { KubeAccess } from '../k8s/kubeconfig.ts';
import type { KubeHandle, ObjectMeta } from '../multus/kube.ts';
import type { Logger } from '../multus/log.ts';

interface KubeObject {
  metadata: ObjectMeta;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; message?: string };
}

class GoneError extends Error {}

const key = (ns: string, name: string) => `${ns}/${name}`;

/** a is newer than b; resourceVersions are opaque, but numeric ones (etcd revisions) compare. */
function newer(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return true;
  return BigInt(a) >= BigInt(b);
}

/** One list+watch of a collection, relisting after 410 Gone and reconnecting after failures. */
export class WatchedCollection {
  private readonly objects = new Map<string, KubeObject>();
  private stopped = false;
  private current: ReturnType<typeof request> | undefined;
  synced = false;
  lastError: string | undefined;

  constructor(
    readonly label: string,
    private readonly listPath: string,
    private readonly access: KubeAccess,
    private readonly client: ApiCaller,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.objects.size;
  }

  get(ns: string, name: string): KubeObject | undefined {
    return this.objects.get(key(ns, name));
  }

  /** A fresher copy than the watch delivered yet (e.g. the answer to our own write). */
  offer(obj: KubeObject): void {
    this.apply({ type: 'MODIFIED', object: obj });
  }

  forget(ns: string, name: string): void {
    this.objects.delete(key(ns, name));
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.current?.destroy();
  }

  private apply(ev: WatchEvent): void {
    const { namespace, name } = ev.object.metadata;
    const k = key(namespace, name);
    if (ev.type === 'DELETED') {
      this.objects.delete(k);
      return;
    }
    const had = this.objects.get(k);
    if (!had || newer(ev.object.metadata.resourceVersion, had.metadata.resourceVersion)) this.objects.set(k, ev.object);
  }

  private async run(): Promise<void> {
    let backoff = 250;
    while (!this.stopped) {
      try {
        const rv = await this.list();
        backoff = 250;
        await this.watch(rv);
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof GoneError) continue;
        this.synced = false;
        this.lastError = (e as Error).message;
        this.log.error('watch failed; retrying', { collection: this.label, error: this.lastError, retryMs: backoff });
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private async list(): Promise<string> {
    const res = await this.client.call('GET', this.listPath);
    if (res.status !== 200) throw new Error(`LIST ${this.listPath}: HTTP ${res.status}`);
    const body = res.body as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
    this.objects.clear();
    for (const item of body.items ?? []) this.objects.set(key(item.metadata.namespace, item.metadata.name), item);
    this.synced = true;
    this.lastError = undefined;
    this.log.verbose('watch cache synced', { collection: this.label, objects: this.objects.size });
    return body.metadata?.resourceVersion ?? '';
  }

  /** Resolves when the server ends the watch (resume from the last version), rejects on failure. */
  private watch(fromVersion: string): Promise<void> {
    let rv = fromVersion;
    const sep = this.listPath.includes('?') ? '&' : '?';
    return new Promise<void>((resolve, reject) => {
      const url = new URL(`${this.access.server}${this.listPath}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=600&resourceVersion=${encodeURIComponent(rv)}`);
      // Its own connection: a watch holds its socket for minutes, CNI calls must not queue behind it.
      const agent = new Agent({ keepAlive: false, ...tlsOptions(this.access) });
      const req = request(url, { headers: baseHeaders(this.access), agent }, (res) => {
        if (res.statusCode === 410) {
          res.resume();
          reject(new GoneError('watch expired'));
          return;
        }
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`WATCH ${this.listPath}: HTTP ${res.statusCode}`));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            const ev = JSON.parse(line) as WatchEvent;
            if (ev.type === 'ERROR') {
              req.destroy(ev.object.code === 410 ? new GoneError('watch expired') : new Error(`watch error: ${ev.object.message ?? line}`));
              return;
            }
            rv = ev.object.metadata.resourceVersion ?? rv;
            if (ev.type !== 'BOOKMARK') this.apply(ev);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.on('error', reject);
      req.on('close', () => agent.destroy());
      this.current = req;
      req.end();
    }).then(() => this.watch(rv));
  }
}

/** What kind of cached object a request path names, exactly (no subresource, no query). */
function cachedTarget(path: string): { kind: 'pod' | 'nad'; ns: string; name: string } | undefined {
  let m = /^\/api\/v1\/namespaces\/([^/?]+)\/pods\/([^/?]+)$/.exec(path);
  if (m) return { kind: 'pod', ns: decodeURIComponent(m[1] as string), name: decodeURIComponent(m[2] as string) };
  m = /^\/apis\/k8s\.cni\.cncf\.io\/v1\/namespaces\/([^/?]+)\/network-attachment-definitions\/([^/?]+)$/.exec(path);
  if (m) return { kind: 'nad', ns: decodeURIComponent(m[1] as string), name: decodeURIComponent(m[2] as string) };
  return undefined;
}

const POD_WRITE = /^\/api\/v1\/namespaces\/([^/?]+)\/pods\/([^/?]+)(\/status)?$/;

/** The daemon's API access for every call: one warm client, GETs of watched objects from the caches. */
export class CachingApi implements KubeHandle {
  hits = 0;
  misses = 0;
  constructor(
    private readonly client: ApiCaller,
    private readonly pods: WatchedCollection | undefined,
    private readonly nads: WatchedCollection | undefined,
  ) {}

  async call(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse> {
    const target = method === 'GET' ? cachedTarget(path) : undefined;
    if (target) {
      const found = (target.kind === 'pod' ? this.pods : this.nads)?.get(target.ns, target.name);
      if (found) {
        this.hits++;
        return { status: 200, body: structuredClone(found) };
      }
      this.misses++;
    }
    const res = await this.client.call(method, path, body, contentType);
    const write = method !== 'GET' ? POD_WRITE.exec(path) : null;
    if (write && this.pods) {
      // Our own write makes the cached copy stale; keep the server's answer, or drop it so the next read
      // (e.g. the retry after a 409) goes to the API.
      if (res.status === 200 && (res.body as KubeObject | undefined)?.metadata) this.pods.offer(res.body as KubeObject);
      else this.pods.forget(decodeURIComponent(write[1] as string), decodeURIComponent(write[2] as string));
    }
    return res;
  }

  /** Calls share this client; it lives as long as the daemon. */
  close(): void {}
}
