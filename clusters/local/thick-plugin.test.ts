import { describe, expect, it } from 'vitest';
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
