// The bridge primary's conflist, run through the real reference plugins (Debian's bridge and
// host-local) the way containerd runs a conflist's first plugin, inside a network namespace that
// stands in for the kind node. Root only; skips with the reason otherwise.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BRIDGE_NETWORK_NAME, bridgeConflist } from './primary-network.ts';

const CNI = '/usr/lib/cni';
const NODE = 'me2ekb-node';
const POD = 'me2ekb-pod';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (!existsSync(join(CNI, 'bridge')) || !existsSync(join(CNI, 'host-local'))) return `needs the reference CNI plugins in ${CNI}`;
  if (spawnSync('sh', ['-c', 'command -v iptables']).status !== 0) return 'needs iptables (ipMasq)';
  return undefined;
}
const reason = skipReason();
if (reason) console.log(`skipping the bridge primary against the reference plugins: ${reason}`);

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const cleanup = (): void => {
  for (const ns of [POD, NODE]) spawnSync('ip', ['netns', 'del', ns]);
};

describe('bridge primary conflist', () => {
  it('is a CNI 1.0.0 conflist: bridge cni0 with host-local on the node pod CIDR, then portmap', () => {
    const conf = JSON.parse(bridgeConflist('10.244.2.0/24'));
    expect(conf).toMatchObject({ cniVersion: '1.0.0', name: BRIDGE_NETWORK_NAME });
    expect(conf.plugins.map((p: { type: string }) => p.type)).toEqual(['bridge', 'portmap']);
    expect(conf.plugins[0].ipam).toEqual({ type: 'host-local', ranges: [[{ subnet: '10.244.2.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] });
  });
});

describe.skipIf(reason !== undefined)('bridge primary conflist through the reference plugins', () => {
  let dataDir: string;
  beforeEach(() => {
    cleanup();
    ip('netns', 'add', NODE);
    ip('netns', 'add', POD);
    ip('-n', NODE, 'link', 'set', 'lo', 'up');
    dataDir = mkdtempSync(join(tmpdir(), 'me2e-kind-ipam-'));
  });
  afterEach(() => {
    cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function runBridge(command: 'ADD' | 'DEL'): string {
    const conf = JSON.parse(bridgeConflist('10.244.1.0/24'));
    // As libcni does: each plugin gets the list's name and cniVersion. dataDir only keeps host-local's
    // leases out of this host's /var/lib/cni.
    const plugin = { cniVersion: conf.cniVersion, name: conf.name, ...conf.plugins[0], ipam: { ...conf.plugins[0].ipam, dataDir } };
    return execFileSync('ip', ['netns', 'exec', NODE, join(CNI, 'bridge')], {
      input: JSON.stringify(plugin),
      encoding: 'utf8',
      env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: 'me2ek-c1', CNI_NETNS: `/var/run/netns/${POD}`, CNI_IFNAME: 'eth0', CNI_PATH: CNI },
    });
  }

  it('gives the pod an address and default route on the node pod CIDR behind cni0, and DEL takes it back', () => {
    const result = JSON.parse(runBridge('ADD')) as { cniVersion: string; ips: { address: string; gateway: string }[] };
    expect(result.cniVersion).toBe('1.0.0');
    expect(result.ips[0]?.address).toMatch(/^10\.244\.1\.\d+\/24$/);
    expect(result.ips[0]?.gateway).toBe('10.244.1.1');
    const cni0 = JSON.parse(ip('-n', NODE, '-j', 'addr', 'show', 'dev', 'cni0')) as { addr_info: { local: string; prefixlen: number }[] }[];
    expect(cni0[0]?.addr_info).toContainEqual(expect.objectContaining({ local: '10.244.1.1', prefixlen: 24 }));
    const routes = JSON.parse(ip('-n', POD, '-j', 'route', 'show', 'default')) as { gateway: string; dev: string }[];
    expect(routes).toEqual([expect.objectContaining({ gateway: '10.244.1.1', dev: 'eth0' })]);
    runBridge('DEL');
    expect(JSON.parse(ip('-n', POD, '-j', 'link', 'show')).map((l: { ifname: string }) => l.ifname)).toEqual(['lo']);
  });
});
