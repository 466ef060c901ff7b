// End to end on this host (root): a 2-node local cluster, pods through the API, kernel state read
// back with ip -j, DEL on delete, a failing config, extended resources, and a clean teardown.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1EventList, V1Node, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localProvider, leftovers, type LocalCluster } from './index.ts';
import { clusterPrefix, FABRIC_HOST_IP } from './names.ts';
import { INSTALLER } from './plugin-install.ts';
import { runCommand } from './run-command.ts';

const NAME = 'lt-e2e';
const skipReason =
  process.platform !== 'linux' ? 'needs Linux'
  : process.getuid?.() !== 0 ? 'needs root (network namespaces, mounts)'
  : !existsSync('/usr/lib/cni/bridge') ? 'needs containernetworking-plugins in /usr/lib/cni'
  : !existsSync(new URL('./apiserver/index.ts', import.meta.url)) ? 'the embedded API server (clusters/local/apiserver/index.ts) is not there yet'
  : undefined;
if (skipReason) console.log(`skipping local provider end-to-end tests: ${skipReason}`);
const withPlugin = existsSync(INSTALLER);
if (!skipReason && !withPlugin) console.log(`local provider tests run with the default network only: ${INSTALLER} is not built`);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function podSpec(name: string, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'pause' }], ...spec } };
}

describe.skipIf(skipReason !== undefined)('local provider (root, end to end)', () => {
  let cluster: LocalCluster;
  let workDir: string;
  const progress: string[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'me2e-lt-'));
    cluster = await localProvider.create({
      name: NAME,
      nodes: 2,
      plugin: { kind: 'bundled' },
      withoutPlugin: !withPlugin,
      workDir,
      progress: (l) => progress.push(l),
      extendedResources: { 'node-1': { 'example.com/dev': ['dev-a'] } },
    });
  }, 120_000);

  afterAll(async () => {
    await localProvider.destroy(NAME, workDir);
    rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  const api = () => cluster.api();
  const getPod = (name: string) => api().find<V1Pod>(`/api/v1/namespaces/default/pods/${name}`);
  const running = (name: string) => waitFor(`pod ${name} Running`, async () => {
    const p = await getPod(name);
    return p?.status?.phase === 'Running' ? p : undefined;
  });

  it('registers Ready nodes with addresses and extended-resource capacity', async () => {
    expect(progress.some((l) => l.includes('creating node node-2'))).toBe(true);
    expect(await cluster.nodeNames()).toEqual(['node-1', 'node-2']);
    const n1 = await api().get<V1Node>('/api/v1/nodes/node-1');
    expect(n1.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(n1.status?.addresses).toContainEqual({ type: 'InternalIP', address: '198.18.0.11' });
    expect(n1.status?.capacity?.['example.com/dev']).toBe('1');
    const attached = await localProvider.attach(NAME, workDir);
    expect(attached.kubeconfigPath).toBe(cluster.kubeconfigPath);
    await expect(localProvider.create({ name: NAME, nodes: 1, plugin: { kind: 'bundled' }, workDir: join(workDir, 'other') }))
      .rejects.toThrow(`a cluster named ${NAME} is already running (work dir ${workDir})`);
    const st = await localProvider.status(NAME, workDir);
    expect(st.phase).toBe('ready');
    expect(st.nodes.map((n) => n.podCidr)).toEqual(['198.19.1.0/24', '198.19.2.0/24']);
    const kubectl = await runCommand(['kubectl', '--kubeconfig', cluster.kubeconfigPath, 'get', 'nodes', '-o', 'name']);
    expect(kubectl.stdout.trim().split('\n')).toEqual(['node/node-1', 'node/node-2']);
  });

  it('keeps node mounts inside the node', async () => {
    const inNode = await cluster.nodeExec('node-1', ['ls', '/etc/cni/net.d']);
    expect(inNode.stdout).toContain('10-local-default.conflist');
    const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
    expect(hostMounts).not.toContain(join(workDir, 'nodes'));
    expect(existsSync('/etc/cni/net.d/10-local-default.conflist')).toBe(false);
    const addr = JSON.parse((await cluster.nodeExec('node-2', ['ip', '-j', 'addr', 'show', 'eth0'])).stdout) as { addr_info: { local: string }[] }[];
    expect(addr[0]?.addr_info.map((a) => a.local)).toContain('198.18.0.12');
  });

  it('starts a pod on each node with an address from that node’s pod CIDR, reachable across the fabric', async () => {
    await api().post('/api/v1/namespaces/default/pods', podSpec('p1', { nodeName: 'node-1' }));
    await api().post('/api/v1/namespaces/default/pods', podSpec('p2', { nodeSelector: { 'kubernetes.io/hostname': 'node-2' } }));
    for (const [pod, n] of [['p1', 1], ['p2', 2]] as const) {
      const p = await running(pod);
      expect(p.spec?.nodeName).toBe(`node-${n}`);
      const link = JSON.parse((await cluster.podExec('default', pod, ['ip', '-j', 'addr', 'show', 'eth0'])).stdout) as { addr_info: { family: string; local: string }[] }[];
      const ip = link[0]?.addr_info.find((a) => a.family === 'inet')?.local;
      expect(ip).toMatch(new RegExp(`^198\\.19\\.${n}\\.\\d+$`));
      expect(p.status?.podIP).toBe(ip);
    }
    // Pod netns made on the host after the node came up propagate into the node's mount namespace.
    const p1netns = (await getPod('p1'))!.metadata!.annotations!['multus-e2e.io/netns']!;
    expect((await cluster.nodeExec('node-1', ['test', '-e', `/run/netns/${p1netns}`])).code).toBe(0);
    const ping = await cluster.podExec('default', 'p1', ['ping', '-c1', '-W2', '198.18.0.12']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const p2 = await getPod('p2');
    const podToPod = await cluster.podExec('default', 'p1', ['ping', '-c1', '-W2', p2!.status!.podIP!]);
    expect(podToPod.code, podToPod.stdout + podToPod.stderr).toBe(0);
    const adds = (await cluster.cniCalls()).filter((c) => c.op === 'ADD' && c.exitCode === 0);
    expect(adds.map((c) => c.pod).sort()).toEqual(['p1', 'p2']);
    // /sys in podExec is the pod's: it lists exactly the pod's links.
    const sysNet = (await cluster.podExec('default', 'p1', ['ls', '/sys/class/net'])).stdout.split('\n').filter(Boolean).sort();
    const links = JSON.parse((await cluster.podExec('default', 'p1', ['ip', '-j', 'link'])).stdout) as { ifname: string }[];
    expect(sysNet).toEqual(links.map((l) => l.ifname).sort());
    if (withPlugin) {
      // The installer put the plugin's config first, so every ADD went through it.
      const confs = (await cluster.nodeExec('node-1', ['ls', '/etc/cni/net.d'])).stdout.split('\n').filter((f) => /\.conf(list)?$/.test(f)).sort();
      expect(confs[0]).toMatch(/^00-multus\.conf(list)?$/);
      const p1 = (await getPod('p1'))!;
      const lines = await cluster.pluginLog('node-1', p1.metadata!.annotations!['multus-e2e.io/sandbox-id']);
      expect(lines.some((l) => (JSON.parse(l) as { msg: string; verb: string }).msg === 'call')).toBe(true);
      expect(adds.find((c) => c.pod === 'p1')?.delegates.map((d) => d.network)).toContain('local-default');
    }
  });

  it('runs host-network pods in the node netns without CNI', async () => {
    await api().post('/api/v1/namespaces/default/pods', podSpec('phost', { nodeName: 'node-2', hostNetwork: true }));
    const p = await running('phost');
    expect(p.status?.podIP).toBe('198.18.0.12');
    const addr = await cluster.podExec('default', 'phost', ['ip', '-j', '-4', 'addr', 'show', 'eth0']);
    expect(addr.stdout).toContain('198.18.0.12');
    expect((await cluster.cniCalls()).filter((c) => c.pod === 'phost')).toEqual([]);
    await api().delete('/api/v1/namespaces/default/pods/phost');
    await waitFor('pod phost gone', async () => ((await getPod('phost')) ? undefined : true));
    expect((await cluster.nodeExec('node-2', ['ip', '-j', 'link', 'show', 'eth0'])).code).toBe(0);
  });

  it('runs DEL on delete and leaves no netns or IPAM allocation behind', async () => {
    const p = (await getPod('p1'))!;
    const netns = p.metadata!.annotations!['multus-e2e.io/netns']!;
    const containerId = p.metadata!.annotations!['multus-e2e.io/sandbox-id']!;
    const ip = p.status!.podIP!;
    const allocation = join(workDir, 'nodes', 'node-1', 'var-lib-cni', 'networks', 'local-default', ip);
    expect(existsSync(allocation)).toBe(true);
    await api().delete('/api/v1/namespaces/default/pods/p1');
    await waitFor('pod p1 gone', async () => ((await getPod('p1')) ? undefined : true));
    expect(existsSync(`/run/netns/${netns}`)).toBe(false);
    expect(existsSync(allocation)).toBe(false);
    const del = (await cluster.cniCalls()).find((c) => c.op === 'DEL' && c.containerId === containerId);
    expect(del?.exitCode).toBe(0);
  });

  it('reports a failing CNI config as FailedCreatePodSandBox; a sandbox whose clean-up DEL failed is kept, and the pod stays Terminating until a DEL succeeds', async () => {
    // The plugin is missing, so the clean-up DEL after the failed ADD fails as well (as with containerd).
    const broken = { cniVersion: '1.0.0', name: 'broken', plugins: [{ type: 'me2e-no-such-plugin' }] };
    const stand = '/opt/cni/bin/me2e-no-such-plugin';
    const w = await cluster.nodeExec('node-2', ['sh', '-c', `echo '${JSON.stringify(broken)}' > /etc/cni/net.d/00-broken.conflist`]);
    expect(w.code).toBe(0);
    try {
      await api().post('/api/v1/namespaces/default/pods', podSpec('pfail', { nodeName: 'node-2' }));
      const ev = await waitFor('FailedCreatePodSandBox event', async () => {
        const list = await api().get<CoreV1EventList>('/api/v1/namespaces/default/events');
        return list.items.find((e) => e.involvedObject.name === 'pfail' && e.reason === 'FailedCreatePodSandBox');
      });
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain('failed to find plugin "me2e-no-such-plugin"');
      const p = await waitFor('pfail status', async () => {
        const pod = await getPod('pfail');
        return pod?.status?.conditions?.some((c) => c.reason === 'ContainersNotReady') ? pod : undefined;
      });
      expect(p.status?.phase).toBe('Pending');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain('me2e-no-such-plugin');
      const netns = `/run/netns/${p.metadata!.annotations!['multus-e2e.io/netns']}`;
      const calls = async () => (await cluster.cniCalls()).filter((c) => c.pod === 'pfail').map((c) => [c.op, c.exitCode === 0]);
      expect(await calls()).toEqual([['ADD', false], ['DEL', false]]);
      expect(existsSync(netns)).toBe(true);

      await api().delete('/api/v1/namespaces/default/pods/pfail');
      await waitFor('a retried DEL that fails', async () => ((await calls()).length >= 3 ? true : undefined));
      expect((await getPod('pfail'))?.metadata?.deletionTimestamp).toBeTruthy();
      expect(existsSync(netns)).toBe(true);

      // Once the plugin is there, the next retry's DEL succeeds and the pod and its netns go.
      expect((await cluster.nodeExec('node-2', ['sh', '-c', `printf '#!/bin/sh\\nexit 0\\n' > ${stand} && chmod +x ${stand}`])).code).toBe(0);
      await waitFor('pod pfail gone', async () => ((await getPod('pfail')) ? undefined : true));
      expect(existsSync(netns)).toBe(false);
      const after = await calls();
      expect(after.at(-1)).toEqual(['DEL', true]);
      expect(after.slice(2, -1).every(([op, ok]) => op === 'DEL' && !ok)).toBe(true);
    } finally {
      await cluster.nodeExec('node-2', ['rm', '-f', '/etc/cni/net.d/00-broken.conflist', stand]);
    }
  });

  it('takes a DEL that fails with "not found" as done, as containerd does: the sandbox goes without a retry', async () => {
    const plugin = '/opt/cni/bin/me2e-link-gone';
    const conf = { cniVersion: '1.0.0', name: 'gone', plugins: [{ type: 'me2e-link-gone' }] };
    const script = `#!/bin/sh\\necho '{"cniVersion":"1.0.0","code":999,"msg":"Link not found"}'\\nexit 1\\n`;
    const w = await cluster.nodeExec('node-2', ['sh', '-c', `printf '%b' '${script}' > ${plugin} && chmod +x ${plugin} && echo '${JSON.stringify(conf)}' > /etc/cni/net.d/00-gone.conflist`]);
    expect(w.code).toBe(0);
    try {
      await api().post('/api/v1/namespaces/default/pods', podSpec('pgone', { nodeName: 'node-2' }));
      const p = await waitFor('pgone failed', async () => {
        const pod = await getPod('pgone');
        return pod?.status?.conditions?.some((c) => c.reason === 'ContainersNotReady') ? pod : undefined;
      });
      const netns = `/run/netns/${p.metadata!.annotations!['multus-e2e.io/netns']}`;
      expect(existsSync(netns)).toBe(false);
      await api().delete('/api/v1/namespaces/default/pods/pgone');
      await waitFor('pod pgone gone', async () => ((await getPod('pgone')) ? undefined : true));
      const calls = (await cluster.cniCalls()).filter((c) => c.pod === 'pgone');
      expect(calls.map((c) => [c.op, c.exitCode === 0])).toEqual([['ADD', false], ['DEL', false]]);
    } finally {
      await cluster.nodeExec('node-2', ['rm', '-f', '/etc/cni/net.d/00-gone.conflist', plugin]);
    }
  });

  it('schedules extended resources and records the device in the kubelet checkpoint', async () => {
    const wants = (n: number) => ({ containers: [{ name: 'main', image: 'pause', resources: { limits: { 'example.com/dev': String(n) } } }] });
    await api().post('/api/v1/namespaces/default/pods', podSpec('pdev', wants(1)));
    const p = await running('pdev');
    expect(p.spec?.nodeName).toBe('node-1');
    const checkpoint = join(workDir, 'nodes', 'node-1', 'var-lib-kubelet', 'device-plugins', 'kubelet_internal_checkpoint');
    const entries = () => (JSON.parse(readFileSync(checkpoint, 'utf8')) as { Data: { PodDeviceEntries: { PodUID: string; DeviceIDs: Record<string, string[]> }[] } }).Data.PodDeviceEntries;
    expect(entries()).toContainEqual(expect.objectContaining({ PodUID: p.metadata!.uid, DeviceIDs: { '-1': ['dev-a'] } }));
    await api().post('/api/v1/namespaces/default/pods', podSpec('pdev2', wants(1)));
    const ev = await waitFor('FailedScheduling event', async () => {
      const list = await api().get<CoreV1EventList>('/api/v1/namespaces/default/events');
      return list.items.find((e) => e.involvedObject.name === 'pdev2' && e.reason === 'FailedScheduling');
    });
    expect(ev.message).toBe('0/2 nodes are available: 2 Insufficient example.com/dev.');
    expect((await getPod('pdev2'))?.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('False');
    await api().delete('/api/v1/namespaces/default/pods/pdev');
    // The freed device lets the waiting pod in.
    const p2 = await running('pdev2');
    expect(p2.spec?.nodeName).toBe('node-1');
    expect(entries().map((e) => e.PodUID)).toEqual([p2.metadata!.uid]);
    // Devices registered at run time (as the vm provider does for netdevsim VFs) let a waiting pod in.
    await api().post('/api/v1/namespaces/default/pods', podSpec('pdev3', wants(1)));
    await waitFor('pdev3 unschedulable', async () => ((await getPod('pdev3'))?.status?.conditions?.some((c) => c.reason === 'Unschedulable') ? true : undefined));
    await cluster.registerDevices('node-2', 'example.com/dev', ['dev-b']);
    const p3 = await running('pdev3');
    expect(p3.spec?.nodeName).toBe('node-2');
    const node2Checkpoint = JSON.parse(readFileSync(checkpoint.replace('node-1', 'node-2'), 'utf8')) as { Data: { PodDeviceEntries: { PodUID: string; DeviceIDs: Record<string, string[]> }[] } };
    expect(node2Checkpoint.Data.PodDeviceEntries).toEqual([expect.objectContaining({ PodUID: p3.metadata!.uid, DeviceIDs: { '-1': ['dev-b'] } })]);
    expect((await api().get<V1Node>('/api/v1/nodes/node-2')).status?.allocatable?.['example.com/dev']).toBe('1');
  });

  it('a stopped API server refuses connections at its address in the fabric, as kube-apiserver does, and answers once started', async () => {
    const port = /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(cluster.kubeconfigPath, 'utf8'))?.[1];
    expect(port).toBeDefined();
    // A TCP connect from node-1, as a plugin on the node makes it: "connected" or the error code.
    const connectFromNode = async () => (await cluster.nodeExec('node-1', [process.execPath, '-e',
      `require('net').connect(${port}, '${FABRIC_HOST_IP}').on('connect', () => { console.log('connected'); process.exit(0); })` +
      `.on('error', (e) => { console.log(e.code); process.exit(0); })`])).stdout.trim();
    expect(await connectFromNode()).toBe('connected');
    await cluster.faults.stopApiServer();
    try {
      expect(await connectFromNode()).toBe('ECONNREFUSED');
    } finally {
      await cluster.faults.startApiServer();
    }
    expect(await connectFromNode()).toBe('connected');
    expect((await api().find<V1Node>('/api/v1/nodes/node-1'))?.metadata?.name).toBe('node-1');
  });

  it('destroy() after a daemon crash leaves nothing of the cluster on the host, and is idempotent', async () => {
    await cluster.exportLogs(join(workDir, 'export'));
    expect(existsSync(join(workDir, 'export', 'node-1', 'ip-addr.json'))).toBe(true);
    const state = JSON.parse(readFileSync(join(workDir, 'state.json'), 'utf8')) as { daemon: { pid: number } };
    process.kill(state.daemon.pid, 'SIGKILL');
    await waitFor('daemon gone', async () => ((await localProvider.status(NAME, workDir)).phase === 'stopped' ? true : undefined));
    expect((await leftovers(NAME)).some((l) => l.startsWith('netns '))).toBe(true);
    await cluster.destroy();
    expect((await localProvider.status(NAME, workDir)).phase).toBe('absent');
    expect(await leftovers(NAME)).toEqual([]);
    const netns = await runCommand(['ip', 'netns', 'list']);
    expect(netns.stdout).not.toContain(clusterPrefix(NAME));
    await cluster.destroy();
    await expect(localProvider.attach(NAME, workDir)).rejects.toThrow(/state.json missing/);
  });
});
