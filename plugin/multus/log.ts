// JSON-lines log (contract B): every line has time, level, msg. "delegate" and "call" lines carry the
// timings the harness reads, so they are written whenever a destination is configured, at any level.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLevel } from './config.ts';

const RANK: Record<LogLevel, number> = { panic: 0, error: 1, verbose: 2, debug: 3 };

export interface LogDestination {
  logFile?: string;
  logLevel: LogLevel;
  logToStderr: boolean;
}

export class Logger {
  private fd: number | undefined;
  private readonly base: Record<string, unknown> = {};
  constructor(private readonly dest: LogDestination) {
    if (dest.logFile) {
      try {
        mkdirSync(dirname(dest.logFile), { recursive: true });
        this.fd = openSync(dest.logFile, 'a');
      } catch (e) {
        process.stderr.write(`multus: cannot open log file ${dest.logFile}: ${(e as Error).message}\n`);
      }
    }
  }

  /** Fields added to every following line (verb, containerId, pod). */
  bind(fields: Record<string, unknown>): void {
    Object.assign(this.base, fields);
  }

  private write(level: LogLevel, msg: string, fields: Record<string, unknown>, always: boolean): void {
    if (this.fd === undefined && !this.dest.logToStderr) return;
    if (!always && RANK[level] > RANK[this.dest.logLevel]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...this.base, ...fields }) + '\n';
    if (this.fd !== undefined) writeSync(this.fd, line);
    if (this.dest.logToStderr) process.stderr.write(line);
  }

  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('error', msg, fields, false);
  }
  verbose(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('verbose', msg, fields, false);
  }
  debug(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('debug', msg, fields, false);
  }
  /** Timing lines ("delegate", "call"): always written when a destination exists. */
  timing(msg: 'delegate' | 'call', fields: Record<string, unknown>, ok: boolean): void {
    this.write(ok ? 'verbose' : 'error', msg, fields, true);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
