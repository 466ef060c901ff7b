// Then steps about what the kernel shows inside pods: interfaces, addresses, MACs, MTUs, routes, reachability.
import assert from 'node:assert/strict';
import { Then } from '@cucumber/cucumber';
import { ipv4Addresses, ipv4InCidr, networkOf } from '../clusters/ip-state.ts';
import { podInterfaceNames } from '../clusters/leak-checks.ts';
import type { E2EWorld } from './world.ts';

async function firstIpv4(world: E2EWorld, pod: string, ifname: string): Promise<string> {
  const [addr] = ipv4Addresses(await world.podLink(pod, ifname));
  if (!addr) throw new Error(`pod "${pod}" interface ${ifname} has no IPv4 address`);
  return addr.local;
}

Then('pod {string} is running', async function (this: E2EWorld, pod: string) {
  await this.waitForPodRunning(pod);
});

Then('pod {string} has interface {word} with an IP in {cidr}', async function (this: E2EWorld, pod: string, ifname: string, cidr: string) {
  const link = await this.podLink(pod, ifname);
  const addrs = ipv4Addresses(link).map((a) => `${a.local}/${a.prefixlen}`);
  assert.ok(addrs.some((a) => ipv4InCidr(a, cidr)), `pod "${pod}" ${ifname} should have an IPv4 address in ${cidr}; it has ${addrs.join(', ') || 'none'}`);
  assert.equal(link.operstate === 'DOWN', false, `pod "${pod}" ${ifname} is DOWN`);
});

Then('pod {string} has interface {word} with IP {ip} and MAC {mac}', async function (this: E2EWorld, pod: string, ifname: string, ip: string, mac: string) {
  const link = await this.podLink(pod, ifname);
  const addrs = ipv4Addresses(link).map((a) => a.local);
  assert.ok(addrs.includes(ip), `pod "${pod}" ${ifname} should have IP ${ip}; it has ${addrs.join(', ') || 'none'}`);
  assert.equal(link.address?.toLowerCase(), mac, `pod "${pod}" ${ifname} MAC`);
});

Then('pod {string} has interface {word} with MTU {int}', async function (this: E2EWorld, pod: string, ifname: string, mtu: number) {
  const link = await this.podLink(pod, ifname);
  assert.equal(link.mtu, mtu, `pod "${pod}" ${ifname} MTU`);
});

Then('pod {string} has no interface {word}', async function (this: E2EWorld, pod: string, ifname: string) {
  const { namespace, node } = this.podRecord(pod);
  const names = await podInterfaceNames(this.cluster, namespace, pod, node);
  assert.ok(!names.includes(ifname), `pod "${pod}" should not have ${ifname}; it has ${names.join(', ')}`);
});

Then('pod {string} has a route to {cidr} on {word}', async function (this: E2EWorld, pod: string, cidr: string, ifname: string) {
  const routes = await this.podRoutes(pod);
  const want = networkOf(cidr);
  assert.ok(routes.some((r) => r.dst === want && r.dev === ifname),
    `pod "${pod}" should route ${want} on ${ifname}; routes: ${routes.map((r) => `${r.dst} dev ${r.dev}${r.gateway ? ` via ${r.gateway}` : ''}`).join('; ')}`);
});

Then('pod {string} sends its default traffic via {ip} on {word}', async function (this: E2EWorld, pod: string, gateway: string, ifname: string) {
  const defaults = (await this.podRoutes(pod)).filter((r) => r.dst === 'default');
  const shown = defaults.map((r) => `via ${r.gateway} dev ${r.dev}`).join('; ') || 'none';
  assert.equal(defaults.length, 1, `pod "${pod}" should have exactly one IPv4 default route; it has: ${shown}`);
  assert.equal(defaults[0]?.dev, ifname, `pod "${pod}" default route device (default routes: ${shown})`);
  assert.equal(defaults[0]?.gateway, gateway, `pod "${pod}" default gateway (default routes: ${shown})`);
});

Then('pod {string} can reach pod {string} over {word}', async function (this: E2EWorld, from: string, to: string, ifname: string) {
  const target = await firstIpv4(this, to, ifname);
  // A pod answers its own address, so a target it holds itself would pass without any traffic crossing.
  const own = (await this.podLinks(from)).flatMap((l) => ipv4Addresses(l).map((a) => `${a.local} (${l.ifname})`));
  assert.ok(!own.some((a) => a.startsWith(`${target} `)), `pod "${to}" has ${target} on ${ifname}, but so does pod "${from}" (${own.join(', ')}): reaching it would prove nothing`);
  await this.podExecOk(from, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '-I', ifname, target]);
});
