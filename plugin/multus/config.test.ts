import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planAttachments } from './attachments.ts';
import { DEFAULTS, loadConfig, parseConfigBytes } from './config.ts';
import { resolveNetworkRef } from './networks.ts';

describe('multus config', () => {
  it('applies upstream defaults', () => {
    const c = loadConfig({ cniVersion: '1.0.0', name: 'multus', type: 'multus', clusterNetwork: 'k8s-pod-network' });
    expect(c).toMatchObject({
      confDir: DEFAULTS.confDir,
      cniDir: '/var/lib/cni/multus',
      binDir: '/opt/cni/bin',
      systemNamespaces: ['kube-system'],
      multusNamespace: 'kube-system',
      namespaceIsolation: false,
      globalNamespaces: [],
      retryDeleteOnError: false,
      defaultNetworks: [],
      apiTimeoutSeconds: 30,
    });
    expect(loadConfig({ clusterNetwork: 'x', apiTimeoutSeconds: 2.5 }).apiTimeoutSeconds).toBe(2.5);
  });

  it('accepts globalNamespaces as upstream\'s comma string', () => {
    expect(loadConfig({ clusterNetwork: 'x', globalNamespaces: 'a, b' }).globalNamespaces).toEqual(['a', 'b']);
  });

  it.each([
    [{}, /one of "clusterNetwork" or "delegates" is required/],
    [{ clusterNetwork: 5 }, /"clusterNetwork" must be a string/],
    [{ clusterNetwork: 'x', logLevel: 'loud' }, /"logLevel" must be one of panic, error, verbose, debug/],
    [{ clusterNetwork: 'x', capabilities: { ips: 'yes' } }, /"capabilities" must be an object of booleans/],
    [{ delegates: [] }, /"delegates" must be a non-empty list/],
    [{ clusterNetwork: 'x', cniVersion: '9.9.9' }, /incompatible CNI version "9.9.9"/],
    [{ clusterNetwork: 'x', apiTimeoutSeconds: 0 }, /"apiTimeoutSeconds" must be a number of seconds above 0 and at most 600/],
    [{ clusterNetwork: 'x', apiTimeoutSeconds: '10' }, /"apiTimeoutSeconds" must be a number of seconds/],
  ])('rejects %j', (raw, pattern) => {
    expect(() => loadConfig(raw)).toThrow(pattern);
  });

  it('reports undecodable stdin with code 6', () => {
    expect(() => parseConfigBytes('{')).toThrow(expect.objectContaining({ code: 6 }));
  });
});

describe('network resolution without the API', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setup(): { confDir: string; netDir: string; file: string } {
    dir = mkdtempSync(join(tmpdir(), 'me2ep-conf-'));
    const confDir = join(dir, 'multus.d');
    const netDir = join(dir, 'net.d');
    mkdirSync(confDir);
    mkdirSync(netDir);
    writeFileSync(join(confDir, '10-blue.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'blue', type: 'macvlan' }));
    writeFileSync(join(confDir, '20-broken.conf'), '{');
    writeFileSync(join(netDir, '20-b.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'second', plugins: [{ type: 'bridge' }] }));
    writeFileSync(join(netDir, '10-a.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'first', plugins: [{ type: 'bridge' }, { type: 'tuning' }] }));
    const file = join(dir, 'red.json');
    writeFileSync(file, JSON.stringify({ cniVersion: '0.3.1', name: 'red', type: 'bridge' }));
    return { confDir, netDir, file };
  }

  it('resolves by name in confDir, then directory (first file), then file path', async () => {
    const { confDir, netDir, file } = setup();
    expect((await resolveNetworkRef('blue', undefined, 'kube-system', confDir)).net).toMatchObject({ name: 'blue', cniVersion: '0.4.0', isList: false });
    const fromDir = await resolveNetworkRef(netDir, undefined, 'kube-system', confDir);
    expect(fromDir.net.name).toBe('first');
    expect(fromDir.net.plugins.map((p) => p['type'])).toEqual(['bridge', 'tuning']);
    expect((await resolveNetworkRef(file, undefined, 'kube-system', confDir)).id).toBe('red');
    await expect(resolveNetworkRef('nothing', undefined, 'kube-system', confDir)).rejects.toThrow(/network "nothing" not found/);
  });

  it('orders cluster network, delegates and defaultNetworks with positional interface names', async () => {
    const { confDir, file } = setup();
    const conf = loadConfig({
      cniVersion: '1.0.0',
      confDir,
      clusterNetwork: file,
      defaultNetworks: ['blue', file],
      runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 2 }] },
    });
    const base = { conf, client: undefined, pod: undefined, ifname: 'eth0', cniArgs: 'IgnoreUnknown=1', strictDevices: true };
    const plan = await planAttachments({ ...base, podRef: { namespace: 'apps', name: 'p', uid: 'u' } });
    expect(plan.map((a) => [a.network, a.ifname, a.isDefault])).toEqual([
      ['red', 'eth0', true],
      ['blue', 'net1', false],
      ['red', 'net2', false],
    ]);
    // runtime capability args go to the cluster network only (multi-net spec §7.5)
    expect(plan[0]?.capabilityArgs).toEqual({ portMappings: [{ hostPort: 1, containerPort: 2 }] });
    expect(plan[1]?.capabilityArgs).toEqual({});
    // pods in systemNamespaces get no defaultNetworks
    const sys = await planAttachments({ ...base, podRef: { namespace: 'kube-system', name: 'p', uid: 'u' } });
    expect(sys.map((a) => a.ifname)).toEqual(['eth0']);
  });

  it('takes the first of inline "delegates" as the cluster network', async () => {
    const conf = loadConfig({ delegates: [{ cniVersion: '0.3.1', name: 'd0', type: 'bridge' }, { cniVersion: '0.3.1', name: 'd1', type: 'macvlan' }] });
    const plan = await planAttachments({ conf, client: undefined, pod: undefined, podRef: undefined, ifname: 'eth0', cniArgs: '', strictDevices: true });
    expect(plan.map((a) => `${a.network}@${a.ifname}`)).toEqual(['d0@eth0', 'd1@net1']);
  });
});
