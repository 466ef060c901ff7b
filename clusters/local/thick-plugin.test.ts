import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, localProvider } from './index.ts';
import { isAlive } from './process-identity.ts';
import { readState } from './state.ts';
import { DAEMON_CONFIG_FILE, DAEMON_SOCKET_DIR, daemonArgv, daemonConfig, daemonEnv, shimConfProblem } from './thick-plugin.ts';

describe('thick plugin install pieces', () => {
  it('writes upstream daemon-config.json keys with the node paths, auto config and the shim socket dir', () => {
    expect(daemonConfig('1.0.0')).toEqual({
      cniVersion: '1.0.0',
      logLevel: 'verbose',
      logFile: '/var/log/multus/multus.log',
      logToStderr: false,
      cniConfigDir: '/etc/cni/net.d',
      multusAutoconfigDir: '/etc/cni/net.d',
      multusConfigFile: 'auto',
      socketDir: '/run/multus/socket/',
      daemonSocketDir: '/run/multus/socket/',
      binDir: '/opt/cni/bin',
      cniDir: '/var/lib/cni/multus',
      confDir: '/etc/cni/multus/net.d',
    });
    // The daemon removes and recreates its socket dir at start: it must lie below the node-private mount.
    expect(DAEMON_SOCKET_DIR.startsWith('/run/multus/')).toBe(true);
    expect(DAEMON_SOCKET_DIR).not.toBe('/run/multus/');
  });

  it('runs the daemon on the node under the marker, with its config and in-cluster environment', () => {
    expect(daemonArgv(4242, '/bin/multus-daemon', 'me2eabcdef-proc-node-1-multus-daemon')).toEqual([
      'nsenter', '-t', '4242', '--mount', '--net', '--',
      'bash', '-c', 'exec -a "$0" "$@"', 'me2eabcdef-proc-node-1-multus-daemon', '/bin/multus-daemon', `--config=${DAEMON_CONFIG_FILE}`,
    ]);
    expect(daemonEnv({ host: '198.18.0.1', port: 6443 }, 'node-2', '/usr/bin')).toEqual({
      PATH: '/usr/bin', KUBERNETES_SERVICE_HOST: '198.18.0.1', KUBERNETES_SERVICE_PORT: '6443', MULTUS_NODE_NAME: 'node-2',
    });
  });

  it('accepts the shim config the daemon generates and names what is wrong with any other', () => {
    const primary = '/etc/cni/net.d/10-local-default.conflist';
    // As multus-daemon v4.2.2 wrote it on a local node (00-multus.conf).
    const generated = {
      binDir: '/opt/cni/bin', cniVersion: '1.0.0', logFile: '/var/log/multus/multus.log', logLevel: 'verbose', name: 'multus-cni-network',
      clusterNetwork: primary, type: 'multus-shim', cniDir: '/var/lib/cni/multus', daemonSocketDir: '/run/multus/socket/',
    };
    expect(shimConfProblem(JSON.stringify(generated), primary)).toBeUndefined();
    expect(shimConfProblem(JSON.stringify({ cniVersion: '1.0.0', name: 'm', plugins: [generated] }), primary)).toBeUndefined();
    expect(shimConfProblem(JSON.stringify({ ...generated, type: 'multus' }), primary)).toBe('has plugin type "multus", not "multus-shim"');
    expect(shimConfProblem(JSON.stringify({ ...generated, clusterNetwork: '/etc/cni/net.d/20-other.conf' }), primary))
      .toBe(`names clusterNetwork "/etc/cni/net.d/20-other.conf", not ${primary}`);
    expect(shimConfProblem(JSON.stringify({ ...generated, daemonSocketDir: undefined }), primary)).toBe('names daemonSocketDir undefined, not /run/multus/socket/');
    expect(shimConfProblem('{"type":', primary)).toMatch(/^is not JSON/);
  });
});

const asRoot = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/lib/cni/bridge');
const dir = mkdtempSync(join(tmpdir(), 'me2e-thick-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!asRoot)('a thick daemon that dies at start-up (stand-in binaries, root)', () => {
  it('fails create() with its exit status and its output, and leaves nothing behind', async () => {
    const script = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
      return join(dir, name);
    };
    const shim = script('standin-shim', 'exit 0');
    const daemon = script('standin-daemon', 'echo "standin: cannot read $1" >&2; exit 3');
    await expect(localProvider.create({ name: 'lt-thickfail', nodes: 1, plugin: { kind: 'thick', shim, daemon }, workDir: join(dir, 'failing') }))
      .rejects.toThrow(/multus-daemon on node-1: .*standin-daemon exited with status 3 during start-up\n[^]*multus-daemon.log \(last lines\) ---\nstandin: cannot read --config=\/etc\/cni\/net.d\/multus.d\/daemon-config.json/);
    expect(await leftovers('lt-thickfail')).toEqual([]);
  }, 120_000);
});

// Upstream's multus-shim and multus-daemon (e.g. v4.2.2 builds), when the environment names their dir.
const upstream = process.env.MULTUS_E2E_THICK_BINARIES;
describe.skipIf(!asRoot || !upstream)('upstream thick Multus on a local node (MULTUS_E2E_THICK_BINARIES=DIR, root)', () => {
  it('runs the daemon inside the node with its credentials, serves the shim config, and stops it with the cluster', async () => {
    const workDir = join(dir, 'upstream');
    const cluster = await localProvider.create({
      name: 'lt-thick', nodes: 1, workDir, plugin: { kind: 'thick', shim: join(upstream!, 'multus-shim'), daemon: join(upstream!, 'multus-daemon') },
    });
    const daemon = readState(workDir)?.nodes[0]?.multusDaemon;
    try {
      expect(daemon).toBeDefined();
      // Same network and mount namespaces as the node: the credentials exist there, not on the host.
      for (const ns of ['net', 'mnt']) {
        expect((await cluster.nodeExec('node-1', ['readlink', `/proc/self/ns/${ns}`])).stdout.trim()).toBe((await cluster.nodeExec('node-1', ['readlink', `/proc/${daemon!.pid}/ns/${ns}`])).stdout.trim());
      }
      expect((await cluster.nodeExec('node-1', ['cat', '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'])).stdout).toContain('BEGIN CERTIFICATE');
      expect(existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')).toBe(false);
      expect(readFileSync(`/proc/${daemon!.pid}/environ`, 'utf8').split('\0')).toContain('MULTUS_NODE_NAME=node-1');
      const conf = JSON.parse((await cluster.nodeExec('node-1', ['cat', '/etc/cni/net.d/00-multus.conf'])).stdout) as Record<string, unknown>;
      expect(conf).toMatchObject({ type: 'multus-shim', clusterNetwork: '/etc/cni/net.d/10-local-default.conflist', daemonSocketDir: DAEMON_SOCKET_DIR });
      expect((await cluster.nodeExec('node-1', ['test', '-x', '/opt/cni/bin/multus-shim'])).code).toBe(0);
    } finally {
      await cluster.destroy();
    }
    // Gone, or a zombie its new parent has not reaped yet: not running either way.
    expect(isAlive(daemon!) ? readFileSync(`/proc/${daemon!.pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] : 'gone').toMatch(/^(gone|Z)$/);
    expect(await leftovers('lt-thick')).toEqual([]);
  }, 180_000);
});
