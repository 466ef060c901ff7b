// attachEth1 against the real kernel: the "node container" is a network namespace (docker exec is
// stood in by ip netns exec), so the rename, flush and up are checked with ip -j, not by argv alone.
import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachEth1 } from './second-nic.ts';
import { makeStandIns, type StandIns } from './test-standins.ts';
import { zxRunner } from './tools.ts';

const NODE = 'me2ek-node';
const HOST_END = 'me2ek-h';
const MAC = '02:42:c6:12:fc:07';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'needs iproute2';
  return undefined;
}
const reason = skipReason();
if (reason) console.log(`skipping eth1 against the kernel: ${reason}`);

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const links = (): { ifname: string; address: string; flags: string[] }[] => JSON.parse(ip('-n', NODE, '-j', 'link', 'show'));
const addrs = (dev: string): { family: string; local: string }[] =>
  (JSON.parse(ip('-n', NODE, '-j', 'addr', 'show', 'dev', dev)) as { addr_info: { family: string; local: string }[] }[])[0]?.addr_info ?? [];

function cleanup(): void {
  spawnSync('ip', ['netns', 'del', NODE]);
  spawnSync('ip', ['link', 'del', HOST_END]);
}

describe.skipIf(reason !== undefined)('eth1 inside a node, against the kernel', () => {
  let s: StandIns;
  beforeEach(() => {
    cleanup();
    s = makeStandIns(['docker'], { STANDIN_NET: 'me2e-eth1', STANDIN_MAC: MAC }, { docker: 'docker-netns' });
    // What `docker network connect` leaves: a veth end in the node under a name Docker chose, with an address.
    ip('netns', 'add', NODE);
    ip('link', 'add', HOST_END, 'type', 'veth', 'peer', 'name', 'me2ek-c');
    ip('link', 'set', 'me2ek-c', 'netns', NODE);
    ip('-n', NODE, 'link', 'set', 'me2ek-c', 'name', 'eth7', 'address', MAC);
    ip('-n', NODE, 'addr', 'add', '198.18.252.2/24', 'dev', 'eth7');
    ip('-n', NODE, 'link', 'set', 'eth7', 'up');
  });
  afterEach(() => {
    cleanup();
    s.cleanup();
  });

  it('renames the endpoint found by MAC to eth1, flushes its address and brings it up; a second run changes nothing', async () => {
    await attachEth1(zxRunner(s.env), 'me2e-eth1', NODE);
    const eth1 = links().find((l) => l.ifname === 'eth1');
    expect(eth1?.address).toBe(MAC);
    expect(eth1?.flags).toContain('UP');
    expect(links().some((l) => l.ifname === 'eth7')).toBe(false);
    expect(addrs('eth1').filter((a) => a.family === 'inet')).toEqual([]);

    const before = s.calls().length;
    await attachEth1(zxRunner(s.env), 'me2e-eth1', NODE);
    expect(s.lines().slice(before).filter((l) => l.includes(' name eth1'))).toEqual([]);
    expect(links().find((l) => l.ifname === 'eth1')?.address).toBe(MAC);
  });

  it('refuses when another interface already holds the name eth1', async () => {
    ip('-n', NODE, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'me2ek-x');
    await expect(attachEth1(zxRunner(s.env), 'me2e-eth1', NODE)).rejects.toThrow(
      `${NODE}: me2e-eth1 came up as eth7 and another interface is already named eth1`,
    );
    expect(links().some((l) => l.ifname === 'eth7')).toBe(true);
  });
});
