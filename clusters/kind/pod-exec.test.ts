// podExec against the kernel: the node is a network namespace (docker exec → ip netns exec), the
// pod sandbox another one, and the command really runs in the pod's network namespace via nsenter.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KindCluster } from './cluster.ts';
import { makeStandIns, type StandIns } from './test-standins.ts';
import { zxRunner } from './tools.ts';

const NODE = 'me2ek-worker2'; // the kubectl stand-in schedules every pod on <STANDIN_CLUSTER>-worker2
const POD = 'me2ek-pod';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (spawnSync('nsenter', ['--version']).status !== 0) return 'needs nsenter';
  return undefined;
}
const reason = skipReason();
if (reason) console.log(`skipping podExec against the kernel: ${reason}`);

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const cleanup = (): void => {
  for (const ns of [NODE, POD]) spawnSync('ip', ['netns', 'del', ns]);
};

describe.skipIf(reason !== undefined)('podExec against the kernel', () => {
  let s: StandIns;
  beforeEach(() => {
    cleanup();
    s = makeStandIns(['docker', 'kubectl', 'crictl'], { STANDIN_CLUSTER: 'me2ek', STANDIN_POD_NETNS: POD, STANDIN_NET: 'x', STANDIN_MAC: 'x' }, { docker: 'docker-netns' });
    ip('netns', 'add', NODE);
    ip('netns', 'add', POD);
    ip('-n', POD, 'link', 'add', 'net1', 'type', 'veth', 'peer', 'name', 'peer1');
    ip('-n', POD, 'addr', 'add', '198.18.252.10/24', 'dev', 'net1');
  });
  afterEach(() => {
    cleanup();
    s.cleanup();
  });

  it('runs argv in the pod sandbox network namespace found through the API and crictl', async () => {
    const cluster = new KindCluster(zxRunner(s.env), s.dir, {
      name: 'me2ek', kubeconfigPath: join(s.dir, 'kubeconfig'), eth1Network: 'me2ek-eth1', createdCluster: true,
      createdEth1Network: true, installManifest: join(s.dir, 'install.yaml'), netdevsimIds: [],
    });
    const res = await cluster.podExec('default', 'a', ['ip', '-j', 'addr', 'show', 'dev', 'net1']);
    expect(res.code).toBe(0);
    const [link] = JSON.parse(res.stdout) as { ifname: string; addr_info: { local: string }[] }[];
    expect(link?.ifname).toBe('net1');
    expect(link?.addr_info.map((a) => a.local)).toContain('198.18.252.10');
    const missing = await cluster.podExec('default', 'a', ['ip', 'link', 'show', 'dev', 'eth0']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('eth0');
    expect(s.lines()).toContain(`crictl inspectp sb-1`);
  });
});
