// A small Kubernetes REST client over node:https. A request waits for its answer up to the request
// timeout (a loaded API server is slow, not gone: giving up early fails pods that would have started);
// failures that say the server is away or restarting (refused, reset, 5xx; timeouts too, for methods
// that are safe to repeat) are retried with back-off for a bounded budget, as upstream Multus retries
// while it waits for the pod.
import { Agent, request, type AgentOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { CniError, ErrorCode } from '../cni/errors.ts';
import { readPrivateFile, writePrivateFile } from '../private-file.ts';
import { reloadToken, type KubeAccess } from './kubeconfig.ts';
import { statusMessage } from './status-message.ts';

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface ClientTiming {
  /** How long one HTTP request may wait for its answer, ms (the config key `apiTimeoutSeconds`). */
  requestTimeoutMs: number;
  /** How long retries go on after the first failed attempt, ms; a retry's own timeout is cut to what is left. */
  retryBudgetMs: number;
}

/** The request timeout is the config default (`apiTimeoutSeconds`, 30 s). */
export const DEFAULT_TIMING: ClientTiming = { requestTimeoutMs: 30_000, retryBudgetMs: 2500 };
const MIN_RETRY_TIMEOUT_MS = 250;

/** Methods a retry cannot apply twice (PUT carries the resourceVersion it read: a repeat is a 409). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
/** Failures where the request never reached the server: a retry is safe whatever the method. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);
const RETRYABLE_CODES = new Set([...NOT_SENT_CODES, 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

class TransportError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly sent = true,
  ) {
    super(message);
  }
}

/** The TLS session kept in `file` for `server`, when there is one. */
function readSession(file: string, server: string): Buffer | undefined {
  try {
    const kept = JSON.parse(readPrivateFile(file)?.toString('utf8') ?? '') as { server?: unknown; session?: unknown };
    return kept.server === server && typeof kept.session === 'string' ? Buffer.from(kept.session, 'base64') : undefined;
  } catch {
    return undefined;
  }
}

/** What callers of the API need from a client (lets tests substitute the transport). */
export type ApiCaller = Pick<KubeClient, 'call'>;

/** TLS settings of an agent that talks to the API server described by `access`. */
export function tlsOptions(access: KubeAccess): AgentOptions {
  return {
    ...(access.ca ? { ca: access.ca } : {}),
    ...(access.cert ? { cert: access.cert } : {}),
    ...(access.key ? { key: access.key } : {}),
    ...(access.tlsServerName ? { servername: access.tlsServerName } : {}),
    rejectUnauthorized: !access.insecure,
  };
}

/** Request headers every API call carries (auth included). */
export function baseHeaders(access: KubeAccess): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'multus-e2e-plugin' };
  if (access.token) headers['Authorization'] = `Bearer ${access.token}`;
  return headers;
}

export class KubeClient {
  private readonly agentOptions: AgentOptions;
  private agent: Agent | undefined;
  /** The agent of requests that offer a kept session: its TLS context holds no CA (see agentFor). */
  private resumeAgent: Agent | undefined;
  /** Connections opened (TCP connect + TLS handshake), how many resumed a kept TLS session, and the time they took, summed, ms. */
  connections = 0;
  resumed = 0;
  connectMs = 0;
  private session: Buffer | undefined;
  /**
   * `maxSockets`: the thin plugin keeps one connection (a second TLS handshake costs more than waiting
   * for the first socket); the daemon, serving calls in parallel, allows a few. `sessionFile`: where
   * the thin plugin keeps the server's TLS session ticket from one call to the next, so a call resumes
   * the session (no certificate exchange and verification) instead of a full handshake; a ticket the
   * server no longer accepts only means a full handshake.
   */
  constructor(
    private readonly access: KubeAccess,
    private readonly timing: ClientTiming = DEFAULT_TIMING,
    maxSockets = 1,
    private readonly sessionFile?: string,
  ) {
    this.agentOptions = { keepAlive: true, maxSockets, ...tlsOptions(access) };
    if (sessionFile) this.session = readSession(sessionFile, access.server);
  }

  /**
   * Node 20 parses its whole bundled root store (~140 certificates) the first time a process builds a
   * verifying TLS context, even when `ca` replaces that store (AddCACert in node's
   * src/crypto/crypto_context.cc): 35-50 ms of a thin plugin's call. A resumed session is not verified
   * again (the server proves it holds the session of an earlier, verified handshake; OpenSSL reports
   * that handshake's result), so a request offering a kept session goes over a context with an empty CA
   * list, which builds no store. A server that does not resume (restarted, another replica, ticket
   * expired) sends its certificate, which an empty list cannot verify: the connection fails before a
   * byte of the request is sent, and the request is repeated at once with the real CA (see once).
   */
  private agentFor(session: Buffer | undefined): Agent {
    if (session) return (this.resumeAgent ??= new Agent({ ...this.agentOptions, ca: [] }));
    return (this.agent ??= new Agent(this.agentOptions));
  }

  private keepSession(ticket: Buffer): void {
    // Only an optimisation: when it cannot be kept, the next call does a full handshake.
    if (this.sessionFile) writePrivateFile(this.sessionFile, JSON.stringify({ server: this.access.server, session: ticket.toString('base64') }));
  }

  get server(): string {
    return this.access.server;
  }

  private once(method: string, path: string, body: unknown, contentType: string, timeoutMs: number): Promise<ApiResponse> {
    const url = new URL(this.access.server + path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = baseHeaders(this.access);
    if (payload) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = payload.length;
    }
    const begun = performance.now();
    const session = this.session;
    let secured = false;
    return new Promise((resolve, reject) => {
      const tls = session ? { session } : {};
      const req = request(url, { method, headers, agent: this.agentFor(session), timeout: timeoutMs, ...tls }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new TransportError(e.message, true)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // non-JSON body (e.g. a proxy error page): keep the text for the message
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('socket', (socket) => {
        // A kept-alive socket finished its handshake for an earlier request: this one may have been sent.
        secured = req.reusedSocket;
        if (req.reusedSocket) return;
        // Only a full handshake's ticket is kept: a resumed call leaves the file as it is (a write less
        // per call); once the server no longer takes that ticket, the full handshake keeps a new one.
        if (this.sessionFile) socket.once('session', (ticket: Buffer) => (socket as TLSSocket).isSessionReused() || this.keepSession(ticket));
        socket.once('secureConnect', () => {
          secured = true;
          this.connections++;
          if ((socket as TLSSocket).isSessionReused()) this.resumed++;
          this.connectMs += performance.now() - begun;
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`timeout after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? '';
        if (session && !secured && !RETRYABLE_CODES.has(code)) {
          // The server did not resume the kept session (agentFor): without it, over the real CA.
          this.connectMs += performance.now() - begun;
          if (this.session === session) this.session = undefined;
          resolve(this.once(method, path, body, contentType, timeoutMs));
          return;
        }
        reject(new TransportError(`${code} ${e.message}`.trim(), RETRYABLE_CODES.has(code), !NOT_SENT_CODES.has(code)));
      });
      req.end(payload);
    });
  }

  /**
   * One API call. 4xx are returned to the caller. Refused connections, and 5xx, resets and timeouts of
   * methods safe to repeat, are retried with back-off (100 ms doubling to 800 ms) until retryBudgetMs
   * after the first failure; then "try again" (11). So a call takes about requestTimeoutMs + retryBudgetMs at most.
   */
  async call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse> {
    const start = Date.now();
    const safeToRepeat = IDEMPOTENT.has(method);
    let giveUpAt: number | undefined;
    let delay = 100;
    let reloaded = false;
    for (;;) {
      // A retry waits at most for what is left of the budget (but long enough for an answer to arrive).
      const timeoutMs = giveUpAt === undefined ? this.timing.requestTimeoutMs : Math.min(this.timing.requestTimeoutMs, Math.max(MIN_RETRY_TIMEOUT_MS, giveUpAt - Date.now()));
      let failure: string;
      let retry = safeToRepeat;
      try {
        const res = await this.once(method, path, body, contentType, timeoutMs);
        // A token refused, and another in its file now (renewed or rotated): once more with that one.
        if (res.status === 401 && !reloaded && reloadToken(this.access)) {
          reloaded = true;
          continue;
        }
        if (res.status < 500) return res;
        failure = `HTTP ${res.status}: ${statusMessage(res.body)}`;
      } catch (e) {
        if (!(e instanceof TransportError) || !e.retryable) {
          throw new CniError(ErrorCode.ApiFailure, `Kubernetes API ${method} ${path} failed: ${(e as Error).message}`);
        }
        failure = e.message;
        retry ||= !e.sent;
      }
      giveUpAt ??= Date.now() + this.timing.retryBudgetMs;
      const remaining = giveUpAt - Date.now();
      if (!retry || remaining <= 0) {
        const why = retry ? `gave up after ${Date.now() - start} ms` : `not retried: a ${method} may have been applied (${Date.now() - start} ms)`;
        throw new CniError(ErrorCode.TryAgainLater, `Kubernetes API ${this.access.server} unavailable: ${method} ${path}: ${failure}`, why);
      }
      // The last wait is cut to the budget so one more attempt happens right at its end.
      await new Promise((r) => setTimeout(r, Math.min(delay, remaining)));
      delay = Math.min(delay * 2, 800);
    }
  }

  close(): void {
    this.agent?.destroy();
    this.resumeAgent?.destroy();
  }
}
