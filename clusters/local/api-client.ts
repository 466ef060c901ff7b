// A small Kubernetes REST client over node:https for the daemon and the Cluster object: bearer
// token, cluster CA, JSON bodies, watch as chunked JSON lines. Errors carry the Status message.
import { request, Agent } from 'node:https';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** The server reset a reused keep-alive connection before answering. */
class StaleSocketError extends Error {}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export type PatchType = 'merge' | 'json' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export class ApiClient {
  private readonly agent: Agent;

  constructor(
    readonly server: string,
    private readonly token: string,
    private readonly caPem: string,
  ) {
    this.agent = new Agent({ ca: caPem, keepAlive: true });
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, JSON.stringify(body), 'application/json');
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PUT', path, JSON.stringify(body), 'application/json');
  }

  patch<T>(path: string, body: unknown, type: PatchType = 'merge'): Promise<T> {
    return this.call<T>('PATCH', path, JSON.stringify(body), PATCH_CONTENT_TYPES[type]);
  }

  delete<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('DELETE', path, body === undefined ? undefined : JSON.stringify(body), 'application/json');
  }

  /** GET that returns undefined on 404. */
  async find<T>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  private async call<T>(method: string, path: string, body?: string, contentType?: string): Promise<T> {
    try {
      return await this.once<T>(method, path, body, contentType);
    } catch (err) {
      // A kept-alive socket the server closed as idle just as this request went out: the server never
      // read it, so it is sent again on a new connection (as Node's http docs advise). Under load this race
      // is common, and a lost DELETE or status write leaves a pod Terminating or Pending for good. The
      // retry gets a connection of its own: the pool may hold more sockets the server closed the same way.
      if (!(err instanceof StaleSocketError)) throw err;
      return this.once<T>(method, path, body, contentType, true);
    }
  }

  private once<T>(method: string, path: string, body: string | undefined, contentType: string | undefined, fresh = false): Promise<T> {
    const url = new URL(path, this.server);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ...(fresh ? { agent: false as const, ca: this.caPem } : { agent: this.agent }),
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/json',
            ...(contentType ? { 'content-type': contentType } : {}),
            // Explicit: Node sends a DELETE body without Content-Length, which desyncs a keep-alive connection.
            ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : {};
            } catch {
              parsed = undefined;
            }
            if (status >= 200 && status < 300 && parsed !== undefined) return resolve(parsed as T);
            const st = (parsed ?? {}) as { message?: string; reason?: string };
            reject(new ApiError(status, `${method} ${url.pathname}${url.search}: ${status} ${st.message ?? text.slice(0, 300)}`, st.reason));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') ? new StaleSocketError(`${method} ${url.pathname}: ${err.message}`) : err);
      });
      req.end(body);
    });
  }

  /**
   * Streams watch events of a collection until stop() is called; onEnd runs when the server closes
   * the stream (the caller re-lists and watches again).
   */
  watch<T>(path: string, resourceVersion: string, onEvent: (ev: WatchEvent<T>) => void, onEnd: (err?: Error) => void): { stop(): void } {
    const url = new URL(path, this.server);
    url.searchParams.set('watch', '1');
    if (resourceVersion) url.searchParams.set('resourceVersion', resourceVersion);
    let stopped = false;
    const req = request(url, { method: 'GET', agent: this.agent, headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' } }, (res) => {
      if ((res.statusCode ?? 0) >= 300) {
        res.resume();
        if (!stopped) onEnd(new ApiError(res.statusCode ?? 0, `watch ${url.pathname}: ${res.statusCode}`));
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line && !stopped) onEvent(JSON.parse(line) as WatchEvent<T>);
        }
      });
      res.on('end', () => !stopped && onEnd());
      res.on('error', (err) => !stopped && onEnd(err));
    });
    req.on('error', (err) => !stopped && onEnd(err));
    req.end();
    return {
      stop() {
        stopped = true;
        req.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}
