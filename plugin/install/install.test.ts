import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFlags, UsageError } from './flags.ts';
import { writeMultusConfig } from '../daemon/autoconfig.ts';
import { parseDaemonConfig } from '../daemon/config.ts';
import { cleanup, findMasterConfig, hostPath, install } from './install.ts';

describe('installer flags', () => {
  it('uses upstream names and defaults', () => {
    const o = parseFlags(['--cni-conf-dir=/etc/cni/net.d', '--cni-version', '1.0.0', '--cleanup-config-on-exit', '--namespace-isolation=false'], '/dist/multus');
    expect(o).toMatchObject({
      cniConfDir: '/etc/cni/net.d',
      cniBinDir: '/host/opt/cni/bin',
      multusConfFile: 'auto',
      cniVersion: '1.0.0',
      cleanupConfigOnExit: true,
      namespaceIsolation: false,
      multusBinary: '/dist/multus',
      multusKubeconfigFileHost: '/etc/cni/net.d/multus.d/multus.kubeconfig',
    });
  });
  it('rejects unknown flags and bad values', () => {
    expect(() => parseFlags(['--nope'], 'x')).toThrow(UsageError);
    expect(() => parseFlags(['--multus-log-level=loud'], 'x')).toThrow(/panic, error, verbose or debug/);
    expect(() => parseFlags(['--cni-bin-dir'], 'x')).toThrow(/needs a value/);
    expect(() => parseFlags(['--multus-config-shape=inline'], 'x')).toThrow(/--multus-config-shape must be delegates or cluster-network-file, got "inline"/);
  });
  it('maps /host paths to host paths', () => {
    expect(hostPath('/host/etc/cni/net.d')).toBe('/etc/cni/net.d');
    expect(hostPath('/etc/cni/net.d')).toBe('/etc/cni/net.d');
  });
});

describe('installer', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setup(masterVersion: string) {
    dir = mkdtempSync(join(tmpdir(), 'me2ep-inst-'));
    const conf = join(dir, 'net.d');
    const bin = join(dir, 'bin');
    const sa = join(dir, 'sa');
    mkdirSync(conf);
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'tok');
    writeFileSync(join(sa, 'ca.crt'), 'CA');
    writeFileSync(join(conf, '20-other.conf'), JSON.stringify({ cniVersion: masterVersion, name: 'other', type: 'bridge' }));
    const master = { cniVersion: masterVersion, name: 'local-default', plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }] };
    writeFileSync(join(conf, '10-default.conflist'), JSON.stringify(master));
    writeFileSync(join(dir, 'multus'), '#!/bin/sh\n');
    const env = { KUBERNETES_SERVICE_HOST: '198.18.0.1', KUBERNETES_SERVICE_PORT: '6443' };
    const argv = [`--cni-conf-dir=${conf}`, `--cni-bin-dir=${bin}`, `--service-account-dir=${sa}`, `--multus-binary=${join(dir, 'multus')}`, '--wait-for-default-network=1'];
    return { conf, bin, env, argv, master };
  }

  it('writes a conflist with the first config inline under delegates (upstream auto), a kubeconfig, the binary, and cleans up', async () => {
    const { conf, bin, env, argv, master } = setup('1.0.0');
    const lines: string[] = [];
    const written = await install(parseFlags([...argv, '--multus-log-file=/var/log/multus/multus.log', '--readiness-indicator-file', join(conf, '10-default.conflist')], 'x'), env, readdirSync, (l) => lines.push(l));
    const generated = JSON.parse(readFileSync(join(conf, '00-multus.conflist'), 'utf8'));
    expect(generated).toEqual({
      cniVersion: '1.0.0',
      name: 'multus-cni-network',
      plugins: [
        {
          type: 'multus',
          capabilities: { portMappings: true },
          logFile: '/var/log/multus/multus.log',
          readinessindicatorfile: join(conf, '10-default.conflist'),
          kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig',
          delegates: [master],
        },
      ],
    });
    const kc = readFileSync(join(conf, 'multus.d', 'multus.kubeconfig'), 'utf8');
    expect(kc).toContain('server: https://198.18.0.1:6443');
    expect(kc).toContain(`certificate-authority-data: ${Buffer.from('CA').toString('base64')}`);
    expect(statSync(join(bin, 'multus')).mode & 0o777).toBe(0o755);
    expect(findMasterConfig(conf, readdirSync)?.name).toBe('local-default');
    cleanup(written, () => undefined);
    expect(existsSync(join(conf, '00-multus.conflist'))).toBe(false);
    expect(existsSync(join(conf, 'multus.d', 'multus.kubeconfig'))).toBe(false);
  });

  it('--thick installs the shim and a daemon-config.json the bundled daemon reads, and leaves 00-multus.conf to the daemon', async () => {
    const { conf, bin, env } = setup('1.0.0');
    writeFileSync(join(dir, 'multus-shim'), '#!/bin/sh\n');
    const opts = parseFlags([`--cni-conf-dir=${conf}`, `--cni-bin-dir=${bin}`, '--thick', '--multus-log-level=verbose', '--namespace-isolation', '--daemon-socket-dir=/run/multus/socket/'], join(dir, 'multus'));
    expect(opts.multusBinary).toBe(join(dir, 'multus-shim'));
    const written = await install(opts, env, readdirSync, () => undefined);
    const file = join(conf, 'multus.d', 'daemon-config.json');
    expect(written).toEqual([file]);
    expect(statSync(join(bin, 'multus-shim')).mode & 0o777).toBe(0o755);
    expect(existsSync(join(bin, 'multus'))).toBe(false);
    expect(readdirSync(conf).filter((f) => f.startsWith('00-multus'))).toEqual([]);
    expect(existsSync(join(conf, 'multus.d', 'multus.kubeconfig'))).toBe(false);
    const dc = parseDaemonConfig(readFileSync(file, 'utf8'), file);
    expect(dc).toMatchObject({ socketDir: '/run/multus/socket', cniConfigDir: conf, multusAutoconfigDir: conf, multusConfigFile: 'auto', logLevel: 'verbose' });
    expect(dc.overrides).toMatchObject({ namespaceIsolation: true, daemonSocketDir: '/run/multus/socket/' });
    // What the daemon then writes for the runtime: the shim around the node's first network.
    writeMultusConfig(dc);
    expect(JSON.parse(readFileSync(join(conf, '00-multus.conf'), 'utf8'))).toMatchObject({ type: 'multus-shim', clusterNetwork: join(conf, '10-default.conflist'), namespaceIsolation: true });
  });

  it('names the cluster network by path under clusterNetwork with --multus-config-shape=cluster-network-file', async () => {
    const { conf, env, argv } = setup('1.0.0');
    await install(parseFlags([...argv, '--multus-config-shape', 'cluster-network-file'], 'x'), env, readdirSync, () => undefined);
    const [plugin] = (JSON.parse(readFileSync(join(conf, '00-multus.conflist'), 'utf8')) as { plugins: Record<string, unknown>[] }).plugins;
    expect(plugin).toMatchObject({ type: 'multus', clusterNetwork: join(conf, '10-default.conflist') });
    expect(plugin).not.toHaveProperty('delegates');
  });

  it('writes 00-multus.conf below 1.0.0 and refuses a cniVersion mismatch', async () => {
    const { conf, env, argv } = setup('0.3.1');
    await install(parseFlags(argv, 'x'), env, readdirSync, () => undefined);
    expect(JSON.parse(readFileSync(join(conf, '00-multus.conf'), 'utf8'))).toMatchObject({ cniVersion: '0.3.1', type: 'multus' });
    await expect(install(parseFlags([...argv, '--cni-version=1.0.0'], 'x'), env, readdirSync, () => undefined)).rejects.toThrow(
      /--cni-version 1.0.0 does not match cniVersion 0.3.1 of the default network "local-default"/,
    );
  });

  it('fails clearly without service-account credentials', async () => {
    const { argv } = setup('1.0.0');
    await expect(install(parseFlags(argv, 'x'), {}, readdirSync, () => undefined)).rejects.toThrow(/KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT/);
  });
});
