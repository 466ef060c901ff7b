// Runs the bundled installer DaemonSet's container command for real, without Kubernetes: a private
// mount namespace holds a fake node root (the host's /usr, a kindnet conflist, the payload where
// create() copies it) and a fake container whose /host is that root, and the exact `sh -c` script
// from the generated manifest runs in the container. Checks what the kubelet would see.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledPluginManifests } from './manifests.ts';
import { recorderScript } from './cni-call-recorder.ts';
import { BUNDLED_RECORDER, CNI_CONF_DIR, INSTALLER_SCRIPT, NODE_RUNTIME, PLUGIN_BINARY } from './node-paths.ts';

const DIST = fileURLToPath(new URL('../../plugin/dist/', import.meta.url));

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (private mount namespace and chroot)';
  for (const tool of ['unshare', 'nsenter', 'chroot']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  }
  if (!existsSync(join(DIST, 'multus')) || !existsSync(join(DIST, 'multus-install'))) return 'needs the plugin built (npm run build)';
  if (!existsSync('/usr/bin/node') && !existsSync(process.execPath)) return 'needs a node binary';
  return undefined;
}

const reason = skipReason();
if (reason) console.log(`skipping the installer DaemonSet run: ${reason}`);

interface Container {
  command: string[];
  readinessProbe: { exec: { command: string[] } };
}

const waitFor = async (what: string, probe: () => boolean, ms = 15_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.skipIf(reason !== undefined)('bundled installer DaemonSet container, run for real', () => {
  let dir: string;
  let node: string; // the fake node root (what the DaemonSet mounts at /host)
  let ctr: string; // the fake container root
  let child: ChildProcess | undefined;
  let exited: Promise<number | null>;
  let stderr = '';
  const container = (bundledPluginManifests('busybox:1.36', 'test') as unknown as { spec: { template: { spec: { containers: Container[] } } } }[])
    .find((o) => (o as unknown as { kind: string }).kind === 'DaemonSet')!.spec.template.spec.containers[0]!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'me2e-kind-ds-'));
    node = join(dir, 'node');
    ctr = join(dir, 'ctr');
    for (const root of [node, ctr]) {
      for (const d of ['usr', 'proc', 'dev', 'tmp', 'etc']) mkdirSync(join(root, d), { recursive: true });
      // Debian's merged /usr: the top-level dirs are links into /usr.
      for (const d of ['bin', 'sbin', 'lib', 'lib64']) if (existsSync(`/usr/${d}`)) symlinkSync(`usr/${d}`, join(root, d));
    }
    mkdirSync(join(ctr, 'host'));
    // The node as create() leaves it: a kindnet conflist, and the payload under /opt/multus-e2e.
    mkdirSync(join(node, CNI_CONF_DIR), { recursive: true });
    mkdirSync(join(node, 'opt/cni/bin'), { recursive: true });
    mkdirSync(join(node, 'opt/multus-e2e/bin'), { recursive: true });
    mkdirSync(join(node, 'var/log/multus'), { recursive: true });
    writeFileSync(
      join(node, CNI_CONF_DIR, '10-kindnet.conflist'),
      JSON.stringify({ cniVersion: '0.3.1', name: 'kindnet', plugins: [{ type: 'ptp', ipam: { type: 'host-local' } }, { type: 'portmap', capabilities: { portMappings: true } }] }),
    );
    copyFileSync(process.execPath, join(node, NODE_RUNTIME));
    chmodSync(join(node, NODE_RUNTIME), 0o755);
    copyFileSync(join(DIST, 'multus'), join(node, PLUGIN_BINARY));
    copyFileSync(join(DIST, 'multus-install'), join(node, INSTALLER_SCRIPT));
    writeFileSync(join(node, BUNDLED_RECORDER), recorderScript(PLUGIN_BINARY), { mode: 0o755 });
    // The container's projected service-account volume.
    const sa = join(ctr, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'test-token-123');
    writeFileSync(join(sa, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

    // Every exec replaces the previous process, so the spawned pid ends up being the installer itself,
    // as it is PID 1 of the container in the real DaemonSet.
    const outer = [
      'set -e',
      'for r in "$NODE" "$CTR"; do mount --rbind /usr "$r/usr"; mount --rbind /proc "$r/proc"; mount --rbind /dev "$r/dev"; done',
      'mount --rbind "$NODE" "$CTR/host"',
      'exec chroot "$CTR" "$@"',
    ].join('\n');
    child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', outer, 'sh', ...container.command], {
      env: { NODE: node, CTR: ctr, PATH: '/usr/sbin:/usr/bin:/sbin:/bin', KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout?.on('data', () => {});
    exited = new Promise((resolve) => child!.once('exit', (code) => resolve(code)));
    await waitFor('00-multus.conf on the node', () => existsSync(join(node, CNI_CONF_DIR, '00-multus.conf')) || child?.exitCode !== null).catch(() => {});
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    // The mounts lived only in the child's private mount namespace, gone with it.
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs the plugin and writes the Multus config around kindnet, with the service account kubeconfig', () => {
    expect(stderr).toBe('');
    expect(child?.exitCode).toBeNull(); // --cleanup-config-on-exit: it keeps running
    const conf = JSON.parse(readFileSync(join(node, CNI_CONF_DIR, '00-multus.conf'), 'utf8'));
    expect(conf).toMatchObject({
      type: 'multus',
      cniVersion: '0.3.1',
      // upstream's --multus-conf-file=auto shape: the cluster network's conflist inline
      delegates: [{ name: 'kindnet', plugins: [{ type: 'ptp' }, { type: 'portmap' }] }],
      kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig',
      logFile: '/var/log/multus/multus.log',
      capabilities: { portMappings: true },
    });
    // containerd runs the CNI call recorder as /opt/cni/bin/multus, and the recorder runs the plugin.
    expect(readFileSync(join(node, 'opt/cni/bin/multus'), 'utf8')).toBe(recorderScript(PLUGIN_BINARY));
    const kubeconfig = readFileSync(join(node, CNI_CONF_DIR, 'multus.d/multus.kubeconfig'), 'utf8');
    expect(kubeconfig).toContain('server: https://10.96.0.1:443');
    expect(kubeconfig).toContain('token: "test-token-123"');
  });

  it('passes its readiness probe, run in the same container', () => {
    const probe = spawnSync('nsenter', ['-t', String(child!.pid), '-m', 'chroot', ctr, ...container.readinessProbe.exec.command]);
    expect(probe.status).toBe(0);
  });

  it('removes the Multus config and kubeconfig on SIGTERM (DaemonSet deleted) and exits 0', async () => {
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(node, CNI_CONF_DIR, '00-multus.conf'))).toBe(false);
    expect(existsSync(join(node, CNI_CONF_DIR, 'multus.d/multus.kubeconfig'))).toBe(false);
    expect(existsSync(join(node, CNI_CONF_DIR, '10-kindnet.conflist'))).toBe(true);
  });
});
