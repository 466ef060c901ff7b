import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../provider.ts';
import { Kubectl } from './kubectl.ts';
import type { ToolRunner } from './tools.ts';

/** A runner that answers kubectl with the given results in turn and records the calls. */
function scripted(results: ExecResult[]): ToolRunner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: (cmd, args) => {
      calls.push([cmd, ...args]);
      const next = results.shift();
      if (!next) throw new Error('no more scripted results');
      return Promise.resolve(next);
    },
  };
}

const ok: ExecResult = { code: 0, stdout: 'applied', stderr: '' };
const restarting: ExecResult = { code: 1, stdout: '', stderr: 'Error from server (InternalError): an error on the server ("") has prevented the request from succeeding' };
const refused: ExecResult = { code: 1, stdout: '', stderr: 'error: error validating "x.yaml": error validating data: kind not set' };

describe('Kubectl.runRetrying', () => {
  it('repeats a call while the API server is restarting, then returns its result', async () => {
    const runner = scripted([restarting, restarting, ok]);
    const res = await new Kubectl(runner, '/kc').runRetrying(['apply', '-f', 'x.yaml'], 6, 1);
    expect(res.stdout).toBe('applied');
    expect(runner.calls).toHaveLength(3);
    expect(runner.calls[0]).toEqual(['kubectl', '--kubeconfig', '/kc', 'apply', '-f', 'x.yaml']);
  });

  it('throws a refusal at once, and a lasting outage after the last attempt, naming the command', async () => {
    const refusedRunner = scripted([refused]);
    await expect(new Kubectl(refusedRunner, '/kc').runRetrying(['apply', '-f', 'x.yaml'], 6, 1)).rejects.toThrow(/kubectl --kubeconfig \/kc apply -f x\.yaml exited with 1:\nerror: error validating/);
    expect(refusedRunner.calls).toHaveLength(1);
    const down = scripted([restarting, restarting, restarting]);
    await expect(new Kubectl(down, '/kc').runRetrying(['apply', '-f', 'x.yaml'], 3, 1)).rejects.toThrow(/an error on the server/);
    expect(down.calls).toHaveLength(3);
  });
});
