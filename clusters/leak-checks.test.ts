import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster, ExecResult } from './provider.ts';
import { addressKeys, cniStateFilesReferring, ipamAllocations, leftoversOnNode, netnsStillExists, podInterfaceNames } from './leak-checks.ts';

const execFileAsync = promisify(execFile);

/** What this host's shell does with argv, as a node would: the checks' scripts run for real, no root needed. */
async function runHere(argv: string[]): Promise<ExecResult> {
  const [file = '', ...args] = argv;
  try {
    const { stdout, stderr } = await execFileAsync(file, args);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 127, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A Cluster whose nodeExec/podExec answer as given; everything else is unused by the checks. */
function fakeCluster(exec: { node?: (argv: string[]) => Promise<ExecResult>; pod?: (argv: string[]) => Promise<ExecResult> }): Cluster & { nodeCalls: string[][] } {
  const nodeCalls: string[][] = [];
  const unused = (): never => {
    throw new Error('not used by the leak checks');
  };
  return {
    name: 'fake',
    provider: 'local',
    kubeconfigPath: '/nonexistent',
    nodeCalls,
    nodeNames: async () => ['node-1'],
    nodeExec: async (_node, argv) => {
      nodeCalls.push(argv);
      return (exec.node ?? unused)(argv);
    },
    podExec: async (_namespace, _pod, argv) => (exec.pod ?? unused)(argv),
    cniCalls: unused,
    pluginLog: unused,
    exportLogs: unused,
    destroy: unused,
  };
}

const answer = (code: number, stdout = '', stderr = '') => async (): Promise<ExecResult> => ({ code, stdout, stderr });
const containerId = 'c0ffee00c0ffee00c0ffee00c0ffee00';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'leak-checks-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('netnsStillExists', () => {
  it('answers from the node whether the namespace path exists', async () => {
    const cluster = fakeCluster({ node: runHere });
    writeFileSync(join(dir, 'cni-1234'), '');
    await expect(netnsStillExists(cluster, 'node-1', join(dir, 'cni-1234'))).resolves.toBe(true);
    await expect(netnsStillExists(cluster, 'node-1', join(dir, 'cni-5678'))).resolves.toBe(false);
  });

  it('fails, naming the node and the directory, when the namespace directory is not there to look in', async () => {
    const cluster = fakeCluster({ node: runHere });
    const path = join(dir, 'missing', 'cni-1234');
    await expect(netnsStillExists(cluster, 'node-1', path)).rejects.toThrow(
      `could not read whether network namespace ${path} still exists on node-1: \`test -e ${path}\` exited 3: the directory ${join(dir, 'missing')} does not exist`);
  });

  it('fails when the node exec itself fails instead of reading that as "gone"', async () => {
    const cluster = fakeCluster({ node: answer(1, '', 'Error response from daemon: container kind-worker is not running') });
    await expect(netnsStillExists(cluster, 'kind-worker', '/var/run/netns/cni-1234')).rejects.toThrow(
      'could not read whether network namespace /var/run/netns/cni-1234 still exists on kind-worker: `test -e /var/run/netns/cni-1234` exited 1: Error response from daemon: container kind-worker is not running');
  });

  it('fails when the exec succeeds but prints no answer', async () => {
    const cluster = fakeCluster({ node: answer(0) });
    await expect(netnsStillExists(cluster, 'node-1', '/run/netns/x')).rejects.toThrow('exited 0 and printed nothing');
  });
});

describe('cniStateFilesReferring', () => {
  it('lists each file that names the container, by content or by file name, once', async () => {
    mkdirSync(join(dir, 'networks', 'net1'), { recursive: true });
    mkdirSync(join(dir, 'results'));
    writeFileSync(join(dir, 'networks', 'net1', '198.18.0.5'), `${containerId}\r\neth0`);
    writeFileSync(join(dir, 'networks', 'net1', '198.18.0.6'), 'another container');
    writeFileSync(join(dir, 'results', `net1-${containerId}-eth0`), `{"containerId":"${containerId}"}`);
    const files = await cniStateFilesReferring(fakeCluster({ node: runHere }), 'node-1', containerId, dir);
    expect(files.sort()).toEqual([join(dir, 'networks', 'net1', '198.18.0.5'), join(dir, 'results', `net1-${containerId}-eth0`)]);
  });

  it('comes back empty only after searching an existing directory that holds nothing of the container', async () => {
    writeFileSync(join(dir, 'last_reserved_ip.0'), '198.18.0.6');
    await expect(cniStateFilesReferring(fakeCluster({ node: runHere }), 'node-1', containerId, dir)).resolves.toEqual([]);
  });

  it('fails, naming the node and the directory, when the directory does not exist, without asking again', async () => {
    const cluster = fakeCluster({ node: runHere });
    const missing = join(dir, 'var-lib-cni');
    await expect(cniStateFilesReferring(cluster, 'node-2', containerId, missing)).rejects.toThrow(
      `could not search ${missing} on node-2 for container ${containerId.slice(0, 12)}: \`grep -rlF ${containerId} ${missing}; find ${missing}\` exited 3: the directory ${missing} does not exist`);
    expect(cluster.nodeCalls).toHaveLength(1);
  });

  it('fails after its attempts when the node cannot run the search (exit 1 from the exec)', async () => {
    const cluster = fakeCluster({ node: answer(1, '', 'nsenter: cannot open /proc/4242/ns/mnt: No such file or directory') });
    await expect(cniStateFilesReferring(cluster, 'node-1', containerId)).rejects.toThrow(
      `could not search /var/lib/cni on node-1 for container ${containerId.slice(0, 12)} (3 attempts): \`grep -rlF ${containerId} /var/lib/cni; find /var/lib/cni\` exited 1: nsenter: cannot open /proc/4242/ns/mnt: No such file or directory`);
    expect(cluster.nodeCalls).toHaveLength(3);
  });

  it('asks again when grep could not read a file (exit 2, e.g. removed by another DEL mid-search) and uses the answer that read everything', async () => {
    const answers = [answer(2, '', 'grep: /var/lib/cni/results/x: No such file or directory'), answer(0, '/var/lib/cni/networks/net1/198.18.0.5\n')];
    const cluster = fakeCluster({ node: async () => (answers.shift() ?? answer(99))() });
    await expect(cniStateFilesReferring(cluster, 'node-1', containerId)).resolves.toEqual(['/var/lib/cni/networks/net1/198.18.0.5']);
  });
});

describe('podInterfaceNames', () => {
  const lo = { ifname: 'lo', addr_info: [] };
  const eth0 = { ifname: 'eth0', addr_info: [] };

  it('names the interfaces of a listing that includes the loopback', async () => {
    const cluster = fakeCluster({ pod: answer(0, JSON.stringify([lo, eth0])) });
    await expect(podInterfaceNames(cluster, 'ns', 'a', 'node-1')).resolves.toEqual(['lo', 'eth0']);
  });

  it('fails on empty output instead of reading it as "no interfaces"', async () => {
    const cluster = fakeCluster({ pod: answer(0, '') });
    await expect(podInterfaceNames(cluster, 'ns', 'a', 'node-1')).rejects.toThrow(
      'could not read the interfaces of pod "a" on node-1 (`ip -j addr`): the command printed nothing, not a JSON array');
  });

  it('fails when the exec in the pod fails', async () => {
    const cluster = fakeCluster({ pod: answer(1, '', 'Cannot open network namespace "e2e-1": No such file or directory') });
    await expect(podInterfaceNames(cluster, 'ns', 'a', 'node-1')).rejects.toThrow(
      'could not read the interfaces of pod "a" on node-1: `ip -j addr` exited 1: Cannot open network namespace "e2e-1": No such file or directory');
  });

  it('fails on a JSON answer that is not an array', async () => {
    const cluster = fakeCluster({ pod: answer(0, '{"ifname":"lo"}') });
    await expect(podInterfaceNames(cluster, 'ns', 'a')).rejects.toThrow('could not read the interfaces of pod "a" (`ip -j addr`): its output is JSON but not an array');
  });

  it('fails on a listing without the loopback every network namespace has', async () => {
    const cluster = fakeCluster({ pod: answer(0, '[]') });
    await expect(podInterfaceNames(cluster, 'ns', 'a', 'node-1')).rejects.toThrow(
      'could not read the interfaces of pod "a" on node-1: the listing has no loopback (no interface at all)');
  });
});

describe('ipamAllocations', () => {
  it('lists every address file host-local still holds, skipping its lock and last_reserved_ip bookkeeping', async () => {
    mkdirSync(join(dir, 'networks', 'stress-net1'), { recursive: true });
    mkdirSync(join(dir, 'networks', 'local-default'), { recursive: true });
    writeFileSync(join(dir, 'networks', 'stress-net1', '198.18.16.7'), `${containerId}\r\nnet1`);
    writeFileSync(join(dir, 'networks', 'stress-net1', 'lock'), '');
    writeFileSync(join(dir, 'networks', 'stress-net1', 'last_reserved_ip.0'), '198.18.16.7');
    writeFileSync(join(dir, 'networks', 'local-default', '198.19.1.4'), `${containerId}\r\neth0`);
    await expect(ipamAllocations(fakeCluster({ node: runHere }), 'node-1', dir)).resolves.toEqual([
      join(dir, 'networks', 'local-default', '198.19.1.4'), join(dir, 'networks', 'stress-net1', '198.18.16.7')]);
  });

  it('is empty when nothing was ever allocated (no networks/ yet), but fails when the state directory itself is missing', async () => {
    await expect(ipamAllocations(fakeCluster({ node: runHere }), 'node-1', dir)).resolves.toEqual([]);
    const missing = join(dir, 'var-lib-cni');
    await expect(ipamAllocations(fakeCluster({ node: runHere }), 'node-2', missing)).rejects.toThrow(
      `could not list the IPAM allocations under ${missing}/networks on node-2: \`find ${missing}/networks\` exited 3: the directory ${missing} does not exist`);
  });
});

describe('leftoversOnNode', () => {
  const link = (ifname: string, kind?: string, addrs: string[] = []) => ({
    ifname, ...(kind ? { linkinfo: { info_kind: kind } } : {}),
    addr_info: addrs.map((a) => ({ family: 'inet', local: a.split('/')[0], prefixlen: Number(a.split('/')[1]) })),
  });
  const before = [link('lo', undefined, ['127.0.0.1/8']), link('eth0', 'veth', ['198.18.0.11/24']), link('eth1', 'veth')];

  /** A node whose `ip -j -d addr` prints `links`, and whose shell scripts (netns and /var/lib/cni look-ups) run here. */
  const node = (links: unknown[]) => fakeCluster({ node: async (argv) => (argv[0] === 'ip' ? answer(0, JSON.stringify(links))() : runHere(argv)) });

  it('names new links (not bridges), new addresses on old links, live netns paths and IPAM/cache files of the containers', async () => {
    mkdirSync(join(dir, 'networks', 'net1'), { recursive: true });
    writeFileSync(join(dir, 'networks', 'net1', '198.18.16.5'), `${containerId}\r\nnet1`);
    writeFileSync(join(dir, `multus-${containerId}`), '{}');
    writeFileSync(join(dir, 'netns-live'), '');
    const after = [...before.slice(0, 2), link('eth1', 'veth', ['198.18.16.9/20']), link('vethab12', 'veth'), link('brnet2', 'bridge', ['198.18.32.1/20'])];
    const leaks = await leftoversOnNode(node(after), 'node-1', {
      linksBefore: new Set(before.map((l) => l.ifname)), addressesBefore: addressKeys(before as never), podsStillOnNode: false,
      containerIds: [containerId], netnsPaths: [join(dir, 'netns-live'), join(dir, 'netns-gone')], cniStateDir: dir,
    });
    expect(leaks).toEqual([
      { kind: 'address', node: 'node-1', object: 'eth1 198.18.16.9/20', what: 'address 198.18.16.9/20 appeared on eth1 of node-1 and is still there' },
      { kind: 'link', node: 'node-1', object: 'vethab12', what: 'link vethab12 (veth) appeared on node-1 and is still there' },
      { kind: 'netns', node: 'node-1', object: join(dir, 'netns-live'), what: `network namespace ${join(dir, 'netns-live')} still exists on node-1` },
      { kind: 'ipam', node: 'node-1', object: join(dir, 'networks', 'net1', '198.18.16.5'), what: `${join(dir, 'networks', 'net1', '198.18.16.5')} on node-1 still refers to container ${containerId.slice(0, 12)} (IPAM allocation)` },
      { kind: 'cache', node: 'node-1', object: join(dir, `multus-${containerId}`), what: `${join(dir, `multus-${containerId}`)} on node-1 still refers to container ${containerId.slice(0, 12)} (cache entry)` },
    ]);
  });

  it('leaves a new veth alone while other pods still run on the node, and fails when the listing has no loopback', async () => {
    const scope = { linksBefore: new Set(['lo', 'eth0', 'eth1']), podsStillOnNode: true, containerIds: [], netnsPaths: [], cniStateDir: dir };
    await expect(leftoversOnNode(node([...before, link('vethab12', 'veth')]), 'node-1', scope)).resolves.toEqual([]);
    await expect(leftoversOnNode(node([link('eth0', 'veth')]), 'node-1', scope)).rejects.toThrow('could not read the interfaces of node-1: the listing has no loopback (eth0)');
  });
});
