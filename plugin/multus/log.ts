// JSON-lines log: every line has time, level, msg. "delegate" and "call" lines carry the
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

/** Where lines go: one open file (and/or stderr), shared by a logger and its children. */
class LogSink {
  fd: number | undefined;
  constructor(readonly dest: LogDestination) {
    if (dest.logFile) {
      try {
        mkdirSync(dirname(dest.logFile), { recursive: true });
        this.fd = openSync(dest.logFile, 'a');
      } catch (e) {
        process.stderr.write(`multus: cannot open log file ${dest.logFile}: ${(e as Error).message}\n`);
      }
    }
  }
}

export class Logger {
  private readonly sink: LogSink;
  private readonly base: Record<string, unknown>;
  /** Only the logger that opened the file closes it; children (one per daemon call) share it. */
  private readonly owner: boolean;
  constructor(dest: LogDestination | Logger, fields: Record<string, unknown> = {}) {
    if (dest instanceof Logger) {
      this.sink = dest.sink;
      this.base = { ...dest.base, ...fields };
      this.owner = false;
    } else {
      this.sink = new LogSink(dest);
      this.base = { ...fields };
      this.owner = true;
    }
  }

  /** A logger writing to the same destination with `fields` added to each line. */
  child(fields: Record<string, unknown> = {}): Logger {
    return new Logger(this, fields);
  }

  private write(level: LogLevel, msg: string, fields: Record<string, unknown>, always: boolean): void {
    const { dest } = this.sink;
    if (this.sink.fd === undefined && !dest.logToStderr) return;
    if (!always && RANK[level] > RANK[dest.logLevel]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...this.base, ...fields }) + '\n';
    if (this.sink.fd !== undefined) writeSync(this.sink.fd, line);
    if (dest.logToStderr) process.stderr.write(line);
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
    if (!this.owner || this.sink.fd === undefined) return;
    closeSync(this.sink.fd);
    this.sink.fd = undefined;
  }
}
