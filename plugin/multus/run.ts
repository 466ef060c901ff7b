// Dispatch of the attachment verbs: config, logger and the "call" timing line around each verb. The
// thin plugin (main.ts) and the daemon (daemon/server.ts) both come through here.
import { parseEnv, type Verb } from '../cni/env.ts';
import { asCniError } from '../cni/errors.ts';
import type { JsonObject } from '../cni/netconf.ts';
import { loadConfig, parseConfigBytes, type MultusConfig } from './config.ts';
import { Phases, podRefFromArgs, type CallContext } from './context.ts';
import { round } from './delegation.ts';
import { kubeClientFor, type KubeHandle } from './kube.ts';
import { Logger } from './log.ts';

/** What the caller of a verb provides besides stdin. */
export interface CallServices {
  /** The CNI_* variables of the call: the process's own in the thin plugin, the shim's in the daemon. */
  env: NodeJS.ProcessEnv;
  /** Keys set over the stdin config (the daemon config's, as upstream's daemon does). */
  overrides?: JsonObject;
  /** API access; default: a client per call from the config's kubeconfig or the in-cluster account. */
  connectKube?: (conf: MultusConfig) => Promise<KubeHandle | undefined>;
  /** Log through this logger (the daemon's) instead of one opened from the config. */
  log?: Logger;
  /** performance.now() when the call began; the thin plugin counts from process start (0). */
  startedAt?: number;
}

export async function runVerb(verb: Exclude<Verb, 'VERSION'>, stdin: string, services: CallServices): Promise<unknown> {
  const startedAt = services.startedAt ?? 0;
  const phases = new Phases();
  // Thin: Node's start-up, loading the bundle and reading stdin; daemon: the request until here.
  phases.add('start', performance.now() - startedAt);
  const env = parseEnv(services.env);
  const raw = { ...parseConfigBytes(stdin), ...services.overrides };
  const conf = loadConfig(raw);
  const podRef = podRefFromArgs(env.args);
  const fields = { verb, containerId: env.containerId, pod: podRef ? `${podRef.namespace}/${podRef.name}` : '' };
  const log = services.log ? services.log.child(fields) : new Logger(conf, fields);
  const connect = services.connectKube ?? ((c: MultusConfig) => kubeClientFor(c, services.env));
  let kube: KubeHandle | undefined;
  const connectKube = async () => (kube = await connect(conf));
  const ctx: CallContext = { conf, env, raw, log, podRef, connectKube, phases };
  /** The call line: total ms, and (ADD) where it went, TCP + TLS set-up of the API connection included. */
  const callFields = () => {
    if (kube?.connectMs) phases.add('apiConnect', kube.connectMs);
    return { ms: round(performance.now() - startedAt), ...(Object.keys(phases.ms).length > 1 ? { phases: phases.ms } : {}) };
  };
  try {
    let out: unknown;
    switch (verb) {
      case 'ADD':
        out = await (await import('./add.ts')).cmdAdd(ctx);
        break;
      case 'DEL':
        await (await import('./del.ts')).cmdDel(ctx);
        break;
      case 'CHECK':
        await (await import('./check.ts')).cmdCheck(ctx);
        break;
      case 'STATUS':
        await (await import('./status.ts')).cmdStatus(ctx);
        break;
      case 'GC':
        await (await import('./gc.ts')).cmdGc(ctx);
        break;
    }
    log.timing('call', { ...callFields(), ok: true }, true);
    return out;
  } catch (e) {
    const err = asCniError(e);
    log.timing('call', { ...callFields(), ok: false, error: err.message, code: err.code }, false);
    throw err;
  } finally {
    log.close();
  }
}
