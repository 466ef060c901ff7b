import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callsFromRecorder, recorderScript } from './cni-call-recorder.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'me2e-recorder-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in plugin: echoes its stdin and argv to stdout, complains on stderr, sleeps, exits with $EXIT. */
function fakePlugin(): string {
  const file = join(dir, "real plugin's");
  writeFileSync(file, '#!/bin/sh\nread -r config\necho "got $config args $*"\necho oops >&2\nsleep 0.2\nexit "${EXIT:-0}"\n');
  chmodSync(file, 0o755);
  return file;
}

function install(): { recorder: string; calls: string } {
  const calls = join(dir, 'log', 'cni-calls.jsonl');
  const recorder = join(dir, 'multus');
  writeFileSync(recorder, recorderScript(fakePlugin(), calls));
  chmodSync(recorder, 0o755);
  return { recorder, calls };
}

const cniEnv = (op: string, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH,
  CNI_COMMAND: op,
  CNI_CONTAINERID: 'c0ffee',
  CNI_NETNS: '/var/run/netns/cni-1234-5678',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=e2e-ab12;K8S_POD_NAME=a;K8S_POD_INFRA_CONTAINER_ID=c0ffee',
  CNI_PATH: '/opt/cni/bin',
  ...extra,
});

describe('CNI call recorder', () => {
  it('passes stdin, argv, stdout, stderr and the exit code through and records one line per call', () => {
    const { recorder, calls } = install();
    const ok = spawnSync(recorder, ['x'], { input: '{"cniVersion":"1.0.0"}\n', env: cniEnv('ADD'), encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe('got {"cniVersion":"1.0.0"} args x\n');
    expect(ok.stderr).toBe('oops\n');
    const failed = spawnSync(recorder, [], { input: '{}\n', env: cniEnv('DEL', { EXIT: '7' }), encoding: 'utf8' });
    expect(failed.status).toBe(7);

    const records = callsFromRecorder('kind-worker', readFileSync(calls, 'utf8'));
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      op: 'ADD', node: 'kind-worker', namespace: 'e2e-ab12', pod: 'a', containerId: 'c0ffee',
      netns: '/var/run/netns/cni-1234-5678', exitCode: 0, delegates: [],
    });
    expect(records[1]).toMatchObject({ op: 'DEL', exitCode: 7 });
    for (const r of records) {
      // The plugin sleeps 0.2 s: the recorder's wall time includes it.
      expect(r.ms).toBeGreaterThanOrEqual(190);
      expect(r.ms).toBeLessThan(5000);
      expect(Math.abs(Date.parse(r.startedAt) - Date.now())).toBeLessThan(10_000);
    }
  });

  it('is valid POSIX sh, also for a plugin path with a quote in it', () => {
    execFileSync('sh', ['-n', '-c', recorderScript("/opt/it's/multus")]);
  });

  it('adds per-delegate times from the plugin JSON log to the matching call, and skips lines it cannot read', () => {
    const recorder = [
      '{"op":"ADD","containerId":"c1","netns":"/n","ifname":"eth0","args":"K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p","startUs":1764543600000000,"endUs":1764543600125000,"exitCode":0}',
      'garbage',
      '{"op":"VERSION","containerId":"","netns":"","ifname":"","args":"","startUs":1,"endUs":2,"exitCode":0}',
    ].join('\n');
    const pluginLog = [
      '{"msg":"delegate","verb":"ADD","containerId":"c1","network":"kindnet","type":"ptp","ms":40}',
      '{"msg":"call","verb":"ADD","containerId":"c1","pod":"ns/p","ms":100,"ok":true,"time":"2025-12-01T00:00:00.100Z"}',
    ].join('\n');
    const [call, ...rest] = callsFromRecorder('n1', recorder, pluginLog);
    expect(rest).toEqual([]);
    expect(call).toEqual({
      op: 'ADD', node: 'n1', namespace: 'ns', pod: 'p', containerId: 'c1', netns: '/n', ms: 125, exitCode: 0,
      delegates: [{ network: 'kindnet', type: 'ptp', ms: 40 }], startedAt: '2025-11-30T23:00:00.000Z',
    });
  });
});
