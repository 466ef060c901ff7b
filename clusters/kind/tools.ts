// Running the host tools the kind provider drives (kind, docker, kubectl) through zx, and the
// preflight that turns "command not found" or a dead Docker daemon into an error naming the fix.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { $ } from 'zx';
import type { ExecResult } from '../provider.ts';

export interface RunOptions {
  /** Bytes fed to the command's stdin. */
  input?: string;
  /** Return a failed result instead of throwing. */
  allowFail?: boolean;
}

/** Runs one program with an argv; every call the provider makes goes through here. */
export interface ToolRunner {
  run(cmd: string, args: string[], opts?: RunOptions): Promise<ExecResult>;
}

export class CommandFailedError extends Error {
  constructor(
    readonly cmd: string,
    readonly args: string[],
    readonly result: ExecResult,
  ) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n');
    super(`${cmd} ${args.join(' ')} exited with ${result.code}${detail ? `:\n${detail}` : ''}`);
    this.name = 'CommandFailedError';
  }
}

/** zx-backed runner. env defaults to this process's environment (PATH decides which kind/docker run). */
export function zxRunner(env: NodeJS.ProcessEnv = process.env): ToolRunner {
  return {
    async run(cmd, args, opts = {}) {
      const out = await $({ env, quiet: true, nothrow: true, input: opts.input })`${cmd} ${args}`;
      const result: ExecResult = { code: out.exitCode ?? 1, stdout: out.stdout, stderr: out.stderr };
      if (result.code !== 0 && !opts.allowFail) throw new CommandFailedError(cmd, args, result);
      return result;
    },
  };
}

/** The first executable named cmd on PATH, or undefined. */
export function findOnPath(cmd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, cmd);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

const INSTALL_HINTS: Record<string, string> = {
  docker: 'install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop',
  kind: 'install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation, e.g. `go install sigs.k8s.io/kind@latest`)',
  kubectl: 'install kubectl (https://kubernetes.io/docs/tasks/tools/, Debian: apt-get install kubectl)',
};

export class MissingPrerequisiteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingPrerequisiteError';
  }
}

/**
 * Fails with one message listing every missing tool and what to install, then checks the Docker
 * daemon answers (`docker info`), since a docker client without an engine is common (CI, remote hosts).
 */
export async function checkPrerequisites(runner: ToolRunner, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const missing = ['docker', 'kind', 'kubectl'].filter((tool) => !findOnPath(tool, env));
  if (missing.length > 0) {
    const lines = missing.map((tool) => `  - ${tool}: ${INSTALL_HINTS[tool]}`);
    throw new MissingPrerequisiteError(
      `the kind provider needs ${missing.join(', ')} on PATH, which ${missing.length === 1 ? 'is' : 'are'} missing:\n${lines.join('\n')}`,
    );
  }
  const info = await runner.run('docker', ['info', '--format', '{{.ServerVersion}}'], { allowFail: true });
  if (info.code !== 0) {
    const detail = (info.stderr.trim() || info.stdout.trim()).split('\n').slice(-3).join('\n');
    throw new MissingPrerequisiteError(
      `the Docker daemon is not reachable (\`docker info\` exited with ${info.code}); start the Docker Engine ` +
        `(e.g. \`systemctl start docker\`) or point DOCKER_HOST at a running one. The kind provider cannot run without it.` +
        (detail ? `\n${detail}` : ''),
    );
  }
}
