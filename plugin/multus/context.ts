// What every attachment verb starts from: config, env, logger, the pod named in CNI_ARGS.
import { existsSync } from 'node:fs';
import { parseCniArgs, type CniEnv } from '../cni/env.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { JsonObject } from '../cni/netconf.ts';
import type { PodRef } from './attachments.ts';
import { delegatePath, type MultusConfig } from './config.ts';
import type { DelegationContext } from './delegation.ts';
import type { KubeHandle } from './kube.ts';
import type { Logger } from './log.ts';

/** Where a call's time goes, by phase (ms, summed over repeats); logged on its "call" line. */
export class Phases {
  readonly ms: Record<string, number> = {};
  add(name: string, ms: number): void {
    this.ms[name] = Math.round(((this.ms[name] ?? 0) + ms) * 10) / 10;
  }
  timeSync<T>(name: string, fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.add(name, performance.now() - start);
    }
  }
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.add(name, performance.now() - start);
    }
  }
}

export interface CallContext {
  conf: MultusConfig;
  env: CniEnv;
  raw: JsonObject;
  log: Logger;
  podRef: PodRef | undefined;
  /**
   * API access for this call, or undefined when none is configured. The thin plugin opens a client per
   * call; the daemon hands out its one warm, watch-cached client (whose close() keeps it open).
   */
  connectKube: () => Promise<KubeHandle | undefined>;
  phases: Phases;
}

export function podRefFromArgs(args: string): PodRef | undefined {
  const m = parseCniArgs(args);
  const namespace = m.get('K8S_POD_NAMESPACE');
  const name = m.get('K8S_POD_NAME');
  if (!namespace || !name) return undefined;
  return { namespace, name, uid: m.get('K8S_POD_UID') ?? '' };
}

/** `netns` is always the runtime's (never a cached path: it may name another namespace by now). */
export function delegationContext(ctx: CallContext, netns = ctx.env.netns): DelegationContext {
  return { containerId: ctx.env.containerId, netns, path: delegatePath(ctx.conf, ctx.env.path), log: ctx.log };
}

/** Wait for the readiness indicator file (when configured); code 11 on ADD/DEL, 50 on STATUS. */
export async function waitForReadiness(conf: MultusConfig, timeoutMs: number, code: number = ErrorCode.TryAgainLater): Promise<void> {
  const file = conf.readinessIndicatorFile;
  if (!file) return;
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() >= deadline) throw new CniError(code, `readiness indicator file ${file} does not exist (waited ${timeoutMs} ms)`, 'the cluster network is not ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}
