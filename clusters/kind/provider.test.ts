import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { createKindProvider } from './index.ts';
import { defaultKindSettings, type KindSettings } from './settings.ts';
import { makeStandIns, type StandIns } from './test-standins.ts';
import { pluginImageName, type UpstreamPlugin } from './plugin-image.ts';
import type { Cluster } from '../provider.ts';

let s: StandIns;
let repo: string;
let cniDir: string;

function settings(extra: Partial<KindSettings> = {}): KindSettings {
  return {
    ...defaultKindSettings(s.env),
    repoRoot: repo,
    referencePluginsDir: cniDir,
    nodeBinary: join(repo, 'node'),
    busybox: join(repo, 'busybox'),
    env: s.env,
    ...extra,
  };
}

function file(path: string, content: string, mode = 0o644): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

function setup(tools: ('kind' | 'docker' | 'kubectl')[] = ['kind', 'docker', 'kubectl'], vars: Record<string, string> = {}): void {
  s = makeStandIns([...tools, 'iptables'], vars);
  repo = join(s.dir, 'repo');
  cniDir = join(s.dir, 'cni');
  file(join(repo, 'plugin/dist/multus'), '#!/usr/bin/env node\n', 0o755);
  file(join(repo, 'plugin/dist/multus-install'), '#!/usr/bin/env node\n', 0o755);
  file(join(repo, 'fixtures/crds/network-attachment-definition.yaml'), 'kind: CustomResourceDefinition\n');
  file(join(repo, 'node'), 'ELF', 0o755);
  file(join(repo, 'busybox'), 'ELF', 0o755);
  for (const p of ['bridge', 'host-local', 'ipvlan', 'macvlan']) file(join(cniDir, p), 'ELF', 0o755);
  file(join(cniDir, 'README'), 'not a plugin');
}

afterEach(() => s.cleanup());

const opts = (workDir: string) => ({ name: 'me2e', nodes: 2, plugin: { kind: 'bundled' } as const, workDir });

/** The calls create() makes on one node for the bundled plugin. */
function nodeInstallCalls(node: string): string[] {
  return [
    `docker exec ${node} ls -1 /opt/cni/bin`,
    `docker cp ${cniDir}/bridge ${node}:/opt/cni/bin/bridge`,
    `docker cp ${cniDir}/ipvlan ${node}:/opt/cni/bin/ipvlan`,
    `docker cp ${cniDir}/macvlan ${node}:/opt/cni/bin/macvlan`,
    `docker exec ${node} mkdir -p /opt/multus-e2e/bin /var/log/multus`,
    `docker cp ${repo}/node ${node}:/opt/multus-e2e/bin/node`,
    `docker cp ${repo}/plugin/dist/multus ${node}:/opt/multus-e2e/multus`,
    `docker exec -i ${node} sh -c cat > /opt/multus-e2e/cni-call-recorder && chmod 755 /opt/multus-e2e/cni-call-recorder`,
    `docker cp ${repo}/plugin/dist/multus-install ${node}:/opt/multus-e2e/multus-install`,
    `docker exec ${node} ln -sf /opt/multus-e2e/bin/node /usr/local/bin/node`,
    `docker exec ${node} /usr/local/bin/node --version`,
    ...podToolCalls(node),
    ...bridgeNetfilterCalls(node),
  ];
}

/** br_netfilter off in the node's netns, read back. */
function bridgeNetfilterCalls(node: string): string[] {
  return [
    `docker exec ${node} test -e /proc/sys/net/bridge/bridge-nf-call-iptables`,
    `docker exec ${node} sysctl -w net.bridge.bridge-nf-call-iptables=0`,
    `docker exec ${node} sysctl -n net.bridge.bridge-nf-call-iptables`,
    `docker exec ${node} sysctl -w net.bridge.bridge-nf-call-ip6tables=0`,
    `docker exec ${node} sysctl -n net.bridge.bridge-nf-call-ip6tables`,
  ];
}

const NODES = ['me2e-control-plane', 'me2e-worker', 'me2e-worker2'];

/** kindest/node has no ping: a busybox from the host provides it. */
function podToolCalls(node: string): string[] {
  return [
    `docker exec ${node} sh -c command -v ping`,
    `docker exec ${node} mkdir -p /opt/multus-e2e/bin`,
    `docker cp ${repo}/busybox ${node}:/opt/multus-e2e/bin/busybox`,
    `docker exec ${node} ln -sf /opt/multus-e2e/bin/busybox /usr/local/bin/ping`,
  ];
}

function eth1Calls(node: string, ifname: string): string[] {
  const rename = ifname === 'eth1' ? [] : [
    `docker exec ${node} ip link set dev ${ifname} down`,
    `docker exec ${node} ip link set dev ${ifname} name eth1`,
  ];
  return [
    `docker inspect --format {{json .NetworkSettings.Networks}} ${node}`,
    `docker network connect me2e-eth1 ${node}`,
    `docker inspect --format {{json .NetworkSettings.Networks}} ${node}`,
    `docker exec ${node} ip -j link show`,
    ...rename,
    `docker exec ${node} ip addr flush dev eth1`,
    `docker exec ${node} ip link set dev eth1 up`,
  ];
}

describe('kind provider create/destroy against stand-ins', () => {
  beforeEach(() => setup());

  it('creates a cluster with kindnet, eth1 on the workers and the bundled plugin, in this exact order', async () => {
    const work = join(s.dir, 'work');
    const kc = join(work, 'kubeconfig');
    const cluster = await createKindProvider(settings()).create(opts(work));
    expect(cluster.kubeconfigPath).toBe(kc);
    expect(s.lines()).toEqual([
      'docker info --format {{.ServerVersion}}',
      'docker image inspect --format {{.Id}} busybox:1.36',
      'docker image inspect --format {{.Id}} registry.k8s.io/pause:3.10',
      'kind get clusters',
      'docker network inspect kind',
      `kind create cluster --name me2e --config ${work}/kind-config.yaml --kubeconfig ${kc}`,
      'kind get kubeconfig --name me2e',
      'kind get nodes --name me2e',
      'docker network inspect me2e-eth1',
      'docker network create --driver bridge --internal --subnet 198.18.252.0/24 me2e-eth1',
      'docker network inspect --format {{.Id}} {{index .Options "com.docker.network.bridge.name"}} me2e-eth1',
      'iptables -C DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'iptables -I DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      ...eth1Calls('me2e-worker', 'eth1'),
      ...eth1Calls('me2e-worker2', 'eth7'),
      ...nodeInstallCalls('me2e-control-plane'),
      ...nodeInstallCalls('me2e-worker'),
      ...nodeInstallCalls('me2e-worker2'),
      `kubectl --kubeconfig ${kc} apply -f ${repo}/fixtures/crds/network-attachment-definition.yaml`,
      `kubectl --kubeconfig ${kc} wait --for=condition=Established crd/network-attachment-definitions.k8s.cni.cncf.io --timeout=60s`,
      `kubectl --kubeconfig ${kc} api-resources --api-group=k8s.cni.cncf.io -o name`,
      'kind load docker-image busybox:1.36 --name me2e',
      'kind load docker-image registry.k8s.io/pause:3.10 --name me2e',
      `kubectl --kubeconfig ${kc} apply -f ${work}/multus-e2e-install.yaml`,
      `kubectl --kubeconfig ${kc} -n kube-system rollout status daemonset/multus-e2e --timeout=300s`,
      ...NODES.map((n) => `docker exec ${n} ls /etc/cni/net.d`),
      `kubectl --kubeconfig ${kc} wait --for=condition=Ready nodes --all --timeout=300s`,
    ]);
    // The config kind was given, the kubeconfig from `kind get kubeconfig`, the manifest applied.
    const config = parse(readFileSync(join(work, 'kind-config.yaml'), 'utf8'));
    expect(config.nodes).toEqual([{ role: 'control-plane' }, { role: 'worker' }, { role: 'worker' }]);
    expect(config.networking.disableDefaultCNI).toBeUndefined();
    expect(readFileSync(kc, 'utf8')).toContain('server: https://127.0.0.1:41234');
    const kinds = parseAllDocuments(readFileSync(join(work, 'multus-e2e-install.yaml'), 'utf8')).map((d) => d.toJS().kind);
    expect(kinds).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
    const digest = createHash('sha256').update('#!/usr/bin/env node\n').update('#!/usr/bin/env node\n').digest('hex');
    expect(readFileSync(join(work, 'multus-e2e-install.yaml'), 'utf8')).toContain(`multus-e2e.io/payload-sha256: ${digest}`);
    expect(await cluster.nodeNames()).toEqual(['me2e-worker', 'me2e-worker2']);
  });

  it('destroy deletes the cluster and the eth1 network, and is idempotent', async () => {
    const work = join(s.dir, 'work');
    const cluster = await createKindProvider(settings()).create(opts(work));
    const before = s.calls().length;
    await cluster.destroy();
    expect(s.lines().slice(before)).toEqual([
      'kind get clusters',
      `kind delete cluster --name me2e --kubeconfig ${work}/kubeconfig`,
      'docker network inspect me2e-eth1',
      'docker network inspect --format {{.Id}} {{index .Options "com.docker.network.bridge.name"}} me2e-eth1',
      'iptables -C DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'iptables -D DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'iptables -C DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'docker network rm me2e-eth1',
      // kind's own network came with this cluster, and no kind cluster is left.
      'kind get clusters',
      'docker network rm kind',
    ]);
    expect(existsSync(join(s.dir, 'net.kind'))).toBe(false);
    // Nothing of the cluster is left in the work dir, and the emptied work dir goes too.
    expect(existsSync(work)).toBe(false);
    const after = s.calls().length;
    await cluster.destroy();
    expect(s.lines().slice(after)).toEqual(['kind get clusters', 'docker network inspect me2e-eth1']);
  });

  it('reuses an existing cluster and network, and on destroy removes only what it installed', async () => {
    const work = join(s.dir, 'work');
    writeFileSync(join(s.dir, 'clusters'), 'me2e\n');
    writeFileSync(join(s.dir, 'net.me2e-eth1'), '');
    const cluster = await createKindProvider(settings()).create(opts(work));
    const lines = s.lines();
    expect(lines.some((l) => l.startsWith('kind create'))).toBe(false);
    expect(lines.some((l) => l.startsWith('docker network create'))).toBe(false);
    expect(lines).toContain('kind get kubeconfig --name me2e');
    const before = s.calls().length;
    await cluster.destroy();
    expect(s.lines().slice(before)).toEqual([
      'kind get clusters',
      `kubectl --kubeconfig ${work}/kubeconfig delete -f ${work}/multus-e2e-install.yaml --ignore-not-found`,
      `kubectl --kubeconfig ${work}/kubeconfig get nodes -o json`,
    ]);
    expect(readFileSync(join(s.dir, 'clusters'), 'utf8')).toBe('me2e\n');
  });

  it('a cluster created earlier from the same workDir stays its own to delete when reused', async () => {
    const work = join(s.dir, 'work');
    await createKindProvider(settings()).create(opts(work));
    const before = s.calls().length;
    const again = await createKindProvider(settings()).create(opts(work));
    expect(s.lines().filter((l) => l.startsWith('kind create'))).toHaveLength(1);
    // The first run's plugin goes before the second one's is installed: objects, pods, then its config on every node.
    const second = s.lines().slice(before);
    const removal = second.indexOf(`kubectl --kubeconfig ${work}/kubeconfig delete -f ${work}/multus-e2e-install.yaml --ignore-not-found --wait`);
    expect(removal).toBeGreaterThan(0);
    expect(second.slice(removal + 1, removal + 5)).toEqual([
      `kubectl --kubeconfig ${work}/kubeconfig -n kube-system get pods -l app=multus-e2e,tier=node -o name`,
      ...['me2e-control-plane', 'me2e-worker', 'me2e-worker2'].map((n) => `docker exec ${n} sh -c rm -rf /etc/cni/net.d/00-multus.conf* /etc/cni/net.d/multus.d`),
    ]);
    expect(second.findIndex((l) => l.includes(' apply -f ') && l.endsWith('multus-e2e-install.yaml'))).toBeGreaterThan(removal);
    await again.destroy();
    expect(s.lines().slice(-9)).toEqual([
      `kind delete cluster --name me2e --kubeconfig ${work}/kubeconfig`,
      'docker network inspect me2e-eth1',
      'docker network inspect --format {{.Id}} {{index .Options "com.docker.network.bridge.name"}} me2e-eth1',
      'iptables -C DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'iptables -D DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'iptables -C DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'docker network rm me2e-eth1',
      'kind get clusters',
      'docker network rm kind',
    ]);
  });

  it('refuses to reuse a cluster made with another primary network or another number of workers, naming both', async () => {
    const work = join(s.dir, 'work');
    await createKindProvider(settings()).create(opts(work));
    await expect(createKindProvider(settings({ primary: { kind: 'bridge' } })).create(opts(work))).rejects.toThrow(
      `kind cluster me2e recorded in ${work} was made with the kindnet primary network and this run asks for bridge`,
    );
    await expect(createKindProvider(settings()).create({ ...opts(work), nodes: 3 })).rejects.toThrow('the existing kind cluster me2e has 2 workers and this run asks for 3');
  });

  it('on a failed rollout exports kind logs into the logs dir, deletes what it created and says where the logs are', async () => {
    s.cleanup();
    setup(['kind', 'docker', 'kubectl'], { STANDIN_ROLLOUT_FAIL: '1' });
    const work = join(s.dir, 'work');
    const logs = join(s.dir, 'reports/kind-logs');
    await expect(createKindProvider(settings({ failureLogsDir: logs })).create(opts(work))).rejects.toThrow(
      `kind cluster me2e failed to come up: kubectl --kubeconfig ${work}/kubeconfig -n kube-system rollout status daemonset/multus-e2e --timeout=300s exited with 1:\nerror: timed out waiting for the condition; kind logs exported to ${logs}`,
    );
    const lines = s.lines();
    const rollout = lines.findIndex((l) => l.includes('rollout status'));
    expect(lines.slice(rollout + 1)).toEqual([
      `kind export logs ${logs} --name me2e`,
      'kind get clusters',
      `kind delete cluster --name me2e --kubeconfig ${work}/kubeconfig`,
      'docker network inspect me2e-eth1',
      'docker network inspect --format {{.Id}} {{index .Options "com.docker.network.bridge.name"}} me2e-eth1',
      'iptables -C DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'iptables -D DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'iptables -C DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'docker network rm me2e-eth1',
      'kind get clusters',
      'docker network rm kind',
    ]);
    expect(readFileSync(join(logs, 'kubelet.log'), 'utf8')).toBe('kubelet log\n');
  });

  it('keeps a failed cluster with keepOnFailure', async () => {
    s.cleanup();
    setup(['kind', 'docker', 'kubectl'], { STANDIN_ROLLOUT_FAIL: '1' });
    await expect(createKindProvider(settings({ keepOnFailure: true })).create(opts(join(s.dir, 'work')))).rejects.toThrow(/rollout status/);
    expect(s.lines().some((l) => l.startsWith('kind delete'))).toBe(false);
  });

  it('fails with a clear error when the copied Node.js cannot start in the node, and cleans up', async () => {
    s.cleanup();
    setup(['kind', 'docker', 'kubectl'], { STANDIN_NODE_BROKEN: '1' });
    await expect(createKindProvider(settings()).create(opts(join(s.dir, 'work')))).rejects.toThrow(
      /Node\.js runtime copied from .*node does not start inside kind node me2e-control-plane: node: error while loading shared libraries: libstdc\+\+\.so\.6\nSet MULTUS_E2E_KIND_NODE_BINARY/,
    );
    expect(s.lines().filter((l) => l.startsWith('kind delete cluster --name me2e'))).toHaveLength(1);
  });

  it('with the bridge primary disables kindnet, writes a conflist per node and routes between pod CIDRs', async () => {
    const work = join(s.dir, 'work');
    await createKindProvider(settings({ primary: { kind: 'bridge' } })).create(opts(work));
    expect(parse(readFileSync(join(work, 'kind-config.yaml'), 'utf8')).networking.disableDefaultCNI).toBe(true);
    const lines = s.lines();
    const routes = lines.filter((l) => l.includes('ip route replace'));
    expect(routes).toEqual([
      'docker exec me2e-control-plane ip route replace 10.244.1.0/24 via 172.18.0.3',
      'docker exec me2e-control-plane ip route replace 10.244.2.0/24 via 172.18.0.4',
      'docker exec me2e-worker ip route replace 10.244.0.0/24 via 172.18.0.2',
      'docker exec me2e-worker ip route replace 10.244.2.0/24 via 172.18.0.4',
      'docker exec me2e-worker2 ip route replace 10.244.0.0/24 via 172.18.0.2',
      'docker exec me2e-worker2 ip route replace 10.244.1.0/24 via 172.18.0.3',
    ]);
    // The conflists arrive on stdin of `docker exec -i NODE sh -c 'cat > …'`, one per node.
    const parts = s.stdin().split(/^(=== .*)$/m).slice(1).flatMap((p, i, all) => (i % 2 === 0 && p.includes('.conflist') ? [JSON.parse(all[i + 1] as string)] : []));
    expect(parts.map((c) => c.plugins[0].ipam.ranges[0][0].subnet)).toEqual(['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']);
    expect(parts[0].plugins[0]).toMatchObject({ type: 'bridge', bridge: 'cni0', isGateway: true });
    expect(lines).toContain('docker exec -i me2e-worker sh -c cat > /etc/cni/net.d/10-kind-default.conflist');
    // The bridge plugin the conflist uses is one of those copied in.
    expect(lines).toContain(`docker cp ${cniDir}/bridge me2e-worker:/opt/cni/bin/bridge`);
  });

  it('with --plugin-image side-loads that image, installs the upstream thin DaemonSet and copies no Node.js', async () => {
    const work = join(s.dir, 'work');
    await createKindProvider(settings({ pluginImage: 'example.com/multus:thin' })).create(opts(work));
    const lines = s.lines();
    expect(lines).toContain('docker image inspect --format {{.Id}} example.com/multus:thin');
    expect(lines).toContain('kind load docker-image example.com/multus:thin --name me2e');
    expect(lines.some((l) => l.includes('/opt/multus-e2e/bin/node') || l.includes('multus-install'))).toBe(false);
    expect(lines).toEqual(expect.arrayContaining(podToolCalls('me2e-worker')));
    const ds = parseAllDocuments(readFileSync(join(work, 'multus-e2e-install.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o.kind === 'DaemonSet');
    expect(ds.spec.template.spec.containers[0]).toMatchObject({ image: 'example.com/multus:thin', command: ['/thin_entrypoint'] });
  });

  it('leaves ping alone where the node has it, and warns when it is missing and there is no busybox', async () => {
    const progress: string[] = [];
    const work = join(s.dir, 'work');
    await createKindProvider(settings({ busybox: undefined })).create({ ...opts(work), progress: (l) => progress.push(l) });
    expect(s.lines().some((l) => l.includes('/opt/multus-e2e/bin/busybox'))).toBe(false);
    expect(progress.filter((l) => l.startsWith('warning:'))).toHaveLength(3);
    expect(progress).toContain(
      'warning: me2e-worker has no ping and no static busybox was found on this host (apt-get install busybox-static, or set MULTUS_E2E_KIND_BUSYBOX): scenarios that use it from pods will fail',
    );
    s.env.STANDIN_NODE_HAS_PING = '1';
    const before = s.calls().length;
    await createKindProvider(settings()).create(opts(join(s.dir, 'work2')));
    expect(s.lines().slice(before).some((l) => l.includes('/opt/multus-e2e/bin/busybox'))).toBe(false);
  });

  it('falls back to a single-platform archive when kind load hits the containerd image store digest bug', async () => {
    const work = join(s.dir, 'work');
    s.env.STANDIN_LOAD_DIGEST_BUG = '1';
    await createKindProvider(settings()).create(opts(work));
    const lines = s.lines();
    const load = lines.indexOf('kind load docker-image busybox:1.36 --name me2e');
    expect(lines.slice(load, load + 4)).toEqual([
      'kind load docker-image busybox:1.36 --name me2e',
      'docker image inspect --format {{.Os}}/{{.Architecture}} busybox:1.36',
      `docker image save --platform linux/amd64 --output ${work}/busybox_1.36.tar busybox:1.36`,
      `kind load image-archive ${work}/busybox_1.36.tar --name me2e`,
    ]);
    expect(existsSync(join(work, 'busybox_1.36.tar'))).toBe(false);
  });

  it('reports any other kind load failure as it is', async () => {
    s.env.STANDIN_LOAD_FAIL = '1';
    await expect(createKindProvider(settings()).create(opts(join(s.dir, 'work')))).rejects.toThrow(
      'kind load docker-image busybox:1.36 --name me2e exited with 1:\nERROR: no nodes found for cluster "me2e"',
    );
    expect(s.lines().some((l) => l.startsWith('kind load image-archive'))).toBe(false);
  });

  it('pulls nothing: names every image missing from the local Docker before creating anything', async () => {
    s.env.STANDIN_MISSING_IMAGES = 'registry.k8s.io/pause:3.10 busybox:1.36';
    const work = join(s.dir, 'work');
    await expect(createKindProvider(settings({ image: 'kindest/node:v1.20.2' })).create(opts(work))).rejects.toThrow(
      'the kind provider pulls no images, and these are not in the local Docker: busybox:1.36, registry.k8s.io/pause:3.10. ' +
        'Make them available first (`docker pull IMAGE` where a registry is reachable, or `docker load` / `docker build` from local files).',
    );
    expect(s.lines()).toEqual([
      'docker info --format {{.ServerVersion}}',
      'docker image inspect --format {{.Id}} kindest/node:v1.20.2',
      'docker image inspect --format {{.Id}} busybox:1.36',
      'docker image inspect --format {{.Id}} registry.k8s.io/pause:3.10',
    ]);
    expect(existsSync(work)).toBe(false);
  });

  it('fails naming the sysctl when bridged-frame filtering cannot be turned off on a node', async () => {
    s.env.STANDIN_SYSCTL_STUCK = '1';
    await expect(createKindProvider(settings()).create(opts(join(s.dir, 'work')))).rejects.toThrow(
      'net.bridge.bridge-nf-call-iptables on kind node me2e-control-plane is 1 after setting it to 0',
    );
  });

  it('leaves the bridge sysctls alone on a kernel without br_netfilter', async () => {
    s.env.STANDIN_NO_BR_NETFILTER = '1';
    await createKindProvider(settings()).create(opts(join(s.dir, 'work')));
    expect(s.lines().some((l) => l.includes('sysctl'))).toBe(false);
  });

  it.each([
    ['thin', 'multus', ['./rootfs/usr/src/multus-cni/bin/multus']],
    ['thick', 'multus-shim', ['./rootfs/usr/src/multus-cni/bin/multus-daemon', './rootfs/usr/src/multus-cni/bin/multus-shim']],
  ] as const)('upstream %s: builds its image FROM scratch, side-loads it and applies the upstream-shaped DaemonSet', async (kind, cniBinary, binaries) => {
    for (const b of ['multus', 'multus-shim', 'multus-daemon']) file(join(s.dir, 'upstream', b), 'ELF', 0o755);
    const plugin: UpstreamPlugin = kind === 'thin'
      ? { kind, path: join(s.dir, 'upstream/multus') }
      : { kind, shim: join(s.dir, 'upstream/multus-shim'), daemon: join(s.dir, 'upstream/multus-daemon') };
    const image = pluginImageName(plugin, join(repo, 'busybox'));
    expect(image).toMatch(new RegExp(`^multus-e2e\\.local/multus-${kind}:[0-9a-f]{12}$`));
    s.env.STANDIN_MISSING_IMAGES = image;
    const work = join(s.dir, 'work');
    const kc = join(work, 'kubeconfig');
    await createKindProvider(settings()).create({ ...opts(work), plugin });
    const lines = s.lines();
    const context = join(work, `image-multus-${kind}`);
    expect(lines.slice(0, 7)).toEqual([
      'docker info --format {{.ServerVersion}}',
      'docker image inspect --format {{.Id}} registry.k8s.io/pause:3.10',
      `docker image inspect --format {{.Id}} ${image}`,
      `docker build --tag ${image} ${context}`,
      'kind get clusters',
      'docker network inspect kind',
      `kind create cluster --name me2e --config ${work}/kind-config.yaml --kubeconfig ${kc}`,
    ]);
    // The build context: busybox and its applets, the given binaries where upstream's image has them, the recorder.
    const built = readFileSync(join(s.dir, 'build-context'), 'utf8').split('\n');
    expect(built).toEqual(expect.arrayContaining(['./Dockerfile', './rootfs/bin/busybox', './rootfs/bin/sh', './rootfs/usr/src/multus-e2e/cni-call-recorder', './rootfs/etc/passwd', ...binaries]));
    expect(existsSync(context)).toBe(false);
    expect(lines).toContain(`kind load docker-image ${image} --name me2e`);
    expect(lines).toContain(`kubectl --kubeconfig ${kc} -n kube-system rollout status daemonset/kube-multus-ds --timeout=300s`);
    // Thin's config comes from the bundled installer (Node.js copied in); thick's daemon writes its own.
    expect(lines.includes(`docker cp ${repo}/plugin/dist/multus-install me2e-worker:/opt/multus-e2e/multus-install`)).toBe(kind === 'thin');
    expect(lines.some((l) => l.includes(`${repo}/plugin/dist/multus `))).toBe(false);
    const objects = parseAllDocuments(readFileSync(join(work, 'multus-e2e-install.yaml'), 'utf8')).map((d) => d.toJS());
    const ds = objects.find((o) => o.kind === 'DaemonSet');
    expect(ds.metadata.name).toBe('kube-multus-ds');
    expect(ds.spec.template.spec.initContainers[0].command[2]).toContain(`/host/opt/cni/bin/${cniBinary}`);
  });

  it('bundled thick: copies the shim and daemon into the nodes (recorder in front of the shim), builds no image, runs the daemon DaemonSet', async () => {
    for (const b of ['multus-shim', 'multus-daemon']) file(join(repo, 'plugin/dist', b), '#!/bin/sh\n', 0o755);
    const plugin = { kind: 'thick', shim: join(repo, 'plugin/dist/multus-shim'), daemon: join(repo, 'plugin/dist/multus-daemon') } as const;
    const work = join(s.dir, 'work');
    await createKindProvider(settings()).create({ ...opts(work), plugin });
    const lines = s.lines();
    expect(lines.some((l) => l.startsWith('docker build'))).toBe(false);
    for (const node of NODES) {
      expect(lines).toEqual(expect.arrayContaining([
        `docker cp ${repo}/plugin/dist/multus-shim ${node}:/opt/multus-e2e/multus-shim`,
        `docker cp ${repo}/plugin/dist/multus-daemon ${node}:/opt/multus-e2e/multus-daemon`,
        `docker exec -i ${node} sh -c cat > /opt/multus-e2e/cni-call-recorder && chmod 755 /opt/multus-e2e/cni-call-recorder`,
      ]));
    }
    expect(lines.some((l) => l.includes(`${repo}/plugin/dist/multus `))).toBe(false);
    expect(lines).toContain('kind load docker-image busybox:1.36 --name me2e');
    expect(lines).toContain(`kubectl --kubeconfig ${work}/kubeconfig -n kube-system rollout status daemonset/multus-e2e --timeout=300s`);
    const ds = parseAllDocuments(readFileSync(join(work, 'multus-e2e-install.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o.kind === 'DaemonSet');
    expect(ds.spec.template.spec.containers[0].name).toBe('multus-daemon');
    await expect(createKindProvider(settings()).create({ ...opts(join(s.dir, 'w2')), plugin, multusConfig: 'cluster-network-file' })).rejects.toThrow(/--multus-config cluster-network-file needs/);
  });

  it('refuses bad input before running anything', async () => {
    const p = createKindProvider(settings());
    await expect(p.create({ ...opts(join(s.dir, 'w')), name: 'Bad_Name' })).rejects.toThrow(/invalid kind cluster name "Bad_Name"/);
    await expect(p.create({ ...opts(join(s.dir, 'w')), nodes: 0 })).rejects.toThrow(/nodes must be an integer from 1 to 20/);
    await expect(p.create({ ...opts(join(s.dir, 'w')), plugin: { kind: 'thin', path: '/nonexistent/multus' } })).rejects.toThrow(
      'plugin under test not found at /nonexistent/multus',
    );
    expect(s.calls()).toEqual([]);
  });
});

describe('kind provider destroy by name (cluster down without a usable state)', () => {
  beforeEach(() => setup());

  it('without recorded state deletes the kind cluster of that name and its eth1 network', async () => {
    writeFileSync(join(s.dir, 'clusters'), 'me2e\n');
    writeFileSync(join(s.dir, 'net.me2e-eth1'), '');
    const work = join(s.dir, 'lost');
    await createKindProvider(settings()).destroy('me2e', work);
    expect(s.lines()).toEqual([
      'docker info --format {{.ServerVersion}}',
      'kind get clusters',
      `kind delete cluster --name me2e --kubeconfig ${work}/kubeconfig`,
      'docker network inspect me2e-eth1',
      'docker network inspect --format {{.Id}} {{index .Options "com.docker.network.bridge.name"}} me2e-eth1',
      'iptables -C DOCKER-USER -i br-f00dfeed0123 -o br-f00dfeed0123 -j ACCEPT',
      'docker network rm me2e-eth1',
    ]);
    expect(readFileSync(join(s.dir, 'clusters'), 'utf8')).toBe('');
  });

  it('with recorded state of a reused cluster leaves the cluster and removes only the install', async () => {
    writeFileSync(join(s.dir, 'clusters'), 'me2e\n');
    const work = join(s.dir, 'work');
    await createKindProvider(settings()).create(opts(work));
    const before = s.calls().length;
    await createKindProvider(settings()).destroy('me2e', work);
    expect(s.lines().slice(before).some((l) => l.startsWith('kind delete'))).toBe(false);
    expect(s.lines().slice(before)).toContain(`kubectl --kubeconfig ${work}/kubeconfig delete -f ${work}/multus-e2e-install.yaml --ignore-not-found`);
  });
});

describe('kind provider prerequisites', () => {
  it('names every missing tool and what to install, before running anything', async () => {
    setup(['kubectl']);
    await expect(createKindProvider(settings()).create(opts(join(s.dir, 'w')))).rejects.toThrow(
      /the kind provider needs docker, kind on PATH, which are missing:\n {2}- docker: install Docker Engine .*\n {2}- kind: install kind/,
    );
    expect(s.calls()).toEqual([]);
  });

  it('says the Docker daemon is unreachable when `docker info` fails', async () => {
    setup(['kind', 'docker', 'kubectl'], { STANDIN_DOCKER_DOWN: '1' });
    await expect(createKindProvider(settings()).create(opts(join(s.dir, 'w')))).rejects.toThrow(
      /the Docker daemon is not reachable \(`docker info` exited with 1\).*\nCannot connect to the Docker daemon/s,
    );
    expect(s.lines()).toEqual(['docker info --format {{.ServerVersion}}']);
  });
});

describe('an attached kind cluster', () => {
  let cluster: Cluster;
  let work: string;
  beforeEach(async () => {
    setup();
    work = join(s.dir, 'work');
    await createKindProvider(settings()).create(opts(work));
    cluster = await createKindProvider(settings()).attach('me2e', work);
  });

  it('attach needs the recorded state and the cluster to exist', async () => {
    await expect(createKindProvider(settings()).attach('other', work)).rejects.toThrow(/no kind cluster state for "other"/);
    writeFileSync(join(s.dir, 'clusters'), '');
    await expect(createKindProvider(settings()).attach('me2e', work)).rejects.toThrow(/no longer exists/);
  });

  it('podExec finds the pod node and sandbox netns through the API and crictl, then nsenters it', async () => {
    const before = s.calls().length;
    const res = await cluster.podExec('default', 'p1', ['ip', '-j', 'addr']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)[0].ifname).toBe('net1');
    expect(s.lines().slice(before)).toEqual([
      `kubectl --kubeconfig ${work}/kubeconfig get pod -n default p1 -o json`,
      'docker exec me2e-worker2 crictl pods --label io.kubernetes.pod.uid=uid-1 --state ready -q',
      'docker exec me2e-worker2 crictl inspectp 5ab1e5',
      'docker exec me2e-worker2 nsenter --net=/var/run/netns/cni-1234 -- ip -j addr',
    ]);
  });

  it('podExec looks a pod up once, and afresh when its remembered netns is gone (the pod was made again)', async () => {
    await cluster.podExec('default', 'p1', ['ip', '-j', 'addr']);
    let before = s.calls().length;
    await cluster.podExec('default', 'p1', ['ip', '-j', 'addr']);
    expect(s.lines().slice(before)).toEqual(['docker exec me2e-worker2 nsenter --net=/var/run/netns/cni-1234 -- ip -j addr']);

    writeFileSync(join(s.dir, 'gone.cni-1234'), '');
    writeFileSync(join(s.dir, 'netns'), 'cni-5678');
    before = s.calls().length;
    const res = await cluster.podExec('default', 'p1', ['ip', '-j', 'addr']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)[0].netns).toBe('/var/run/netns/cni-5678');
    expect(s.lines().slice(before)).toEqual([
      'docker exec me2e-worker2 nsenter --net=/var/run/netns/cni-1234 -- ip -j addr',
      `kubectl --kubeconfig ${work}/kubeconfig get pod -n default p1 -o json`,
      'docker exec me2e-worker2 crictl pods --label io.kubernetes.pod.uid=uid-1 --state ready -q',
      'docker exec me2e-worker2 crictl inspectp 5ab1e5',
      'docker exec me2e-worker2 nsenter --net=/var/run/netns/cni-5678 -- ip -j addr',
    ]);
  });

  it('nodeExec returns the exit code and output of docker exec without throwing', async () => {
    const res = await cluster.nodeExec('me2e-worker', ['cat', '/var/log/multus/multus.log']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('No such file or directory');
  });

  it('cniCalls reads the CNI call recorder on every node, with delegate times from the plugin log; pluginLog reads that log', async () => {
    const t = (ms: number): string => new Date(Date.parse('2026-11-23T12:00:00Z') + ms).toISOString();
    const us = (ms: number): number => Date.parse(t(ms)) * 1000;
    const recorded = (op: string, id: string, pod: string, fromMs: number, toMs: number, exitCode: number) => JSON.stringify({
      op, containerId: id, netns: `/var/run/netns/cni-${id}`, ifname: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod}`,
      startUs: us(fromMs), endUs: us(toMs), exitCode,
    });
    writeFileSync(join(s.dir, 'calls.me2e-worker2.jsonl'), `${recorded('ADD', 'c1', 'p1', 0, 140, 0)}\n${recorded('DEL', 'c2', 'p2', 5000, 5090, 1)}\n`);
    writeFileSync(
      join(s.dir, 'multus.me2e-worker2.log'),
      [
        JSON.stringify({ time: t(0), level: 'info', msg: 'delegate', verb: 'ADD', containerId: 'c1', pod: 'default/p1', network: 'default/mv', type: 'macvlan', ifname: 'net1', ms: 12.5, ok: true }),
        JSON.stringify({ time: t(100), level: 'info', msg: 'call', verb: 'ADD', containerId: 'c1', pod: 'default/p1', ms: 40, ok: true }),
        JSON.stringify({ time: t(5000), level: 'error', msg: 'call', verb: 'DEL', containerId: 'c2', pod: 'default/p2', ms: 3, ok: false, error: 'boom' }),
      ].join('\n') + '\n',
    );
    const calls = await cluster.cniCalls();
    expect(calls).toEqual([
      { op: 'ADD', node: 'me2e-worker2', namespace: 'default', pod: 'p1', containerId: 'c1', netns: '/var/run/netns/cni-c1', ms: 140, exitCode: 0, delegates: [{ network: 'default/mv', type: 'macvlan', ms: 12.5 }], startedAt: t(0) },
      { op: 'DEL', node: 'me2e-worker2', namespace: 'default', pod: 'p2', containerId: 'c2', netns: '/var/run/netns/cni-c2', ms: 90, exitCode: 1, delegates: [], startedAt: t(5000) },
    ]);
    const before = s.calls().length;
    expect((await cluster.cniCalls(t(1000))).map((c) => c.containerId)).toEqual(['c2']);
    // One exec per node for both files; the node list is read once per attached cluster.
    expect(s.lines().slice(before).map((l) => l.split(' sh -c ')[0]).sort()).toEqual(
      ['docker exec me2e-control-plane', 'docker exec me2e-worker', 'docker exec me2e-worker2'],
    );
    expect(await cluster.pluginLog('me2e-worker2', 'c2')).toHaveLength(1);
    expect(await cluster.pluginLog('me2e-worker2')).toHaveLength(3);
    expect(await cluster.pluginLog('me2e-worker')).toEqual([]);
  });

  it('exportLogs writes kind logs, each node plugin log and the API objects', async () => {
    writeFileSync(join(s.dir, 'multus.me2e-worker.log'), '{"msg":"call"}\n');
    const dir = join(s.dir, 'export');
    await cluster.exportLogs(dir);
    expect(readFileSync(join(dir, 'kubelet.log'), 'utf8')).toBe('kubelet log\n');
    expect(readFileSync(join(dir, 'multus/me2e-worker.log'), 'utf8')).toBe('{"msg":"call"}\n');
    expect(readFileSync(join(dir, 'multus/me2e-worker2.log'), 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'objects.yaml'), 'utf8')).toBe('items: []\n');
  });
});
