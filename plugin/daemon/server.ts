// The daemon's HTTP API on its unix socket:
//   POST /shim     our shim (daemon/shim.sh): the CNI variables as headers (CNI-Command,
//                  CNI-ContainerID, CNI-Netns, CNI-Ifname, CNI-Args, CNI-Path), the config as the body;
//                  answer = exactly what the plugin prints on stdout, 200 for success, 400 for a CNI
//                  error object.
//   POST /cni      upstream multus-shim's request ({"env": {...}, "config": <base64>}); answer as
//                  upstream's daemon: 200 with {"Result": <1.0.0 result>} (ADD) or empty, 400 with text.
//   GET  /healthz  200 with the daemon's state (API, watch caches, calls in flight, RSS).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { failedCall, handleCall, type CallOutcome } from '../call.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import { abandonDelegates, runDelegatesInOwnProcessGroups } from '../cni/exec.ts';
import { convertResult } from '../cni/result.ts';
import type { CallServices } from '../multus/run.ts';
import type { Logger } from '../multus/log.ts';

export type DaemonServices = Omit<CallServices, 'env' | 'startedAt'>;

export interface DaemonServerOptions {
  services: DaemonServices;
  health: () => Record<string, unknown>;
  log: Logger;
}

interface ParsedRequest {
  env: Record<string, string>;
  stdin: string;
}

const CNI_VARS = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'];

/** Header of each CNI variable in a /shim request (HTTP header names are case-insensitive). */
const SHIM_HEADERS: Record<string, string> = {
  'cni-command': 'CNI_COMMAND',
  'cni-containerid': 'CNI_CONTAINERID',
  'cni-netns': 'CNI_NETNS',
  'cni-ifname': 'CNI_IFNAME',
  'cni-args': 'CNI_ARGS',
  'cni-path': 'CNI_PATH',
};

export function parseShimRequest(headers: IncomingHttpHeaders, body: Buffer): ParsedRequest {
  const env: Record<string, string> = {};
  for (const [header, name] of Object.entries(SHIM_HEADERS)) {
    const v = headers[header];
    if (Array.isArray(v)) throw new Error(`header ${header} given ${v.length} times`);
    // Node reads header bytes as latin1; the shim sent the variables' bytes as they are (UTF-8 paths).
    if (v) env[name] = Buffer.from(v, 'latin1').toString('utf8');
  }
  return { env, stdin: body.toString('utf8') };
}

export function parseUpstreamBody(body: Buffer): ParsedRequest {
  const req = JSON.parse(body.toString('utf8')) as { env?: Record<string, unknown>; config?: unknown };
  const env: Record<string, string> = {};
  for (const name of CNI_VARS) {
    const v = req.env?.[name];
    if (typeof v === 'string') env[name] = v;
  }
  return { env, stdin: typeof req.config === 'string' ? Buffer.from(req.config, 'base64').toString('utf8') : '' };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Calls of one container run one after the other (an ADD and a DEL of one sandbox must not interleave). */
class PerContainerQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(id, tail);
    void tail.then(() => {
      if (this.tails.get(id) === tail) this.tails.delete(id);
    });
    return next;
  }
}

export function createDaemonServer(opts: DaemonServerOptions): Server & { inFlight: () => number } {
  const queue = new PerContainerQueue();
  let inFlight = 0;
  // This process is no call's process group: an abandoned call's delegates are killed by group here.
  runDelegatesInOwnProcessGroups();

  const answer = async (parsed: ParsedRequest, abandoned: () => boolean): Promise<{ outcome: CallOutcome; cniVersion: string }> => {
    const startedAt = performance.now();
    inFlight++;
    try {
      const id = parsed.env['CNI_CONTAINERID'] ?? '';
      const outcome = await queue.run(id, () => abandoned()
        ? Promise.resolve(failedCall(new CniError(ErrorCode.TryAgainLater, 'the call was abandoned by its shim before it started'), parsed.stdin))
        : handleCall(parsed.stdin, { ...opts.services, env: parsed.env, startedAt }));
      const m = /"cniVersion"\s*:\s*"([^"]+)"/.exec(parsed.stdin);
      return { outcome, cniVersion: m?.[1] ?? '1.0.0' };
    } finally {
      inFlight--;
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      try {
        if (path === '/healthz' && (req.method === 'GET' || req.method === 'POST')) {
          send(res, 200, JSON.stringify({ ...opts.health(), callsInFlight: inFlight }));
          return;
        }
        if ((path === '/shim' || path === '/cni') && req.method === 'POST') {
          const body = await readBody(req);
          let parsed: ParsedRequest;
          try {
            parsed = path === '/shim' ? parseShimRequest(req.headers, body) : parseUpstreamBody(body);
          } catch (e) {
            send(res, 400, path === '/shim' ? JSON.stringify({ cniVersion: '1.0.0', code: 4, msg: `bad request from the shim: ${(e as Error).message}` }) : (e as Error).message, 'text/plain');
            return;
          }
          // The shim is the call as the runtime sees it: once it is gone (killed by the runtime's timeout,
          // or by anything else) nobody waits for the answer, so the call's delegates are killed now and
          // the call fails and rolls back, instead of running on while the runtime already DELs the sandbox.
          const id = parsed.env['CNI_CONTAINERID'] ?? '';
          let gone = false;
          res.on('close', () => {
            if (res.writableFinished) return;
            gone = true;
            const killed = abandonDelegates(id);
            opts.log.error('the shim went away before the answer: the call is abandoned', { verb: parsed.env['CNI_COMMAND'], containerId: id, delegatesKilled: killed });
          });
          const { outcome, cniVersion } = await answer(parsed, () => gone);
          if (path === '/shim') {
            send(res, outcome.exitCode === 0 ? 200 : 400, outcome.output === undefined ? '' : JSON.stringify(outcome.output));
          } else if (outcome.exitCode !== 0) {
            const err = outcome.output as { msg?: string; details?: string };
            send(res, 400, `${err.msg ?? 'error'}${err.details ? `: ${err.details}` : ''}`, 'text/plain');
          } else {
            send(res, 200, outcome.output === undefined ? '' : JSON.stringify({ Result: convertResult(outcome.output, cniVersion, '1.0.0') }));
          }
          return;
        }
        send(res, 404, JSON.stringify({ error: `no ${req.method} ${path}; try POST /shim, POST /cni or GET /healthz` }));
      } catch (e) {
        opts.log.error('request failed', { path, error: (e as Error).message });
        if (!res.headersSent) send(res, 500, JSON.stringify({ cniVersion: '1.0.0', code: 999, msg: `multus daemon: ${(e as Error).message}` }));
      }
    })();
  });
  return Object.assign(server, { inFlight: () => inFlight });
}
