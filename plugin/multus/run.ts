// Dispatch of the attachment verbs: config, logger and the "call" timing line around each verb.
import { parseEnv, type Verb } from '../cni/env.ts';
import { asCniError } from '../cni/errors.ts';
import { loadConfig, parseConfigBytes } from './config.ts';
import { podRefFromArgs, type CallContext } from './context.ts';
import { round } from './delegation.ts';
import { Logger } from './log.ts';

export async function runVerb(verb: Exclude<Verb, 'VERSION'>, stdin: string): Promise<unknown> {
  const env = parseEnv(process.env);
  const raw = parseConfigBytes(stdin);
  const conf = loadConfig(raw);
  const log = new Logger(conf);
  const podRef = podRefFromArgs(env.args);
  log.bind({ verb, containerId: env.containerId, pod: podRef ? `${podRef.namespace}/${podRef.name}` : '' });
  const ctx: CallContext = { conf, env, raw, log, podRef };
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
    log.timing('call', { ms: round(performance.now()), ok: true }, true);
    return out;
  } catch (e) {
    const err = asCniError(e);
    log.timing('call', { ms: round(performance.now()), ok: false, error: err.message, code: err.code }, false);
    throw err;
  } finally {
    log.close();
  }
}
