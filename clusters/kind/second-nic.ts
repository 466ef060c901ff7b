// eth1 on the workers: a user-defined docker bridge network joined by every worker container, the
// master for macvlan/ipvlan attachments. Like the local provider's eth1 fabric it is L2 only: the
// address docker assigns is flushed so pods on 198.18.x never collide with it.
import type { ToolRunner } from './tools.ts';

export const ETH1 = 'eth1';

export function eth1NetworkName(cluster: string): string {
  return `${cluster}-eth1`;
}

/** Creates the network unless it exists, letting pod traffic cross it; true when this call created it. */
export async function ensureEth1Network(runner: ToolRunner, network: string, subnet: string): Promise<boolean> {
  const existing = await runner.run('docker', ['network', 'inspect', network], { allowFail: true });
  if (existing.code === 0) return false;
  // --internal: no NAT or route off the host; the network only joins the node containers.
  await runner.run('docker', ['network', 'create', '--driver', 'bridge', '--internal', '--subnet', subnet, network]);
  await allowBridgedPodTraffic(runner, network);
  return true;
}

/** The Linux bridge behind a Docker bridge network: its configured name, else Docker's br-<12 hex of the id>. */
async function bridgeOf(runner: ToolRunner, network: string): Promise<string> {
  const out = await runner.run('docker', ['network', 'inspect', '--format', '{{.Id}} {{index .Options "com.docker.network.bridge.name"}}', network]);
  const text = out.stdout.trim();
  const id = text.split(' ', 1)[0] ?? '';
  const name = text.slice(id.length).trim(); // Go templates print a missing option as "<no value>"
  return name !== '' && name !== '<no value>' ? name : `br-${id.slice(0, 12)}`;
}

/**
 * The pods' addresses on eth1 (198.18.x of each scenario) are not the network's subnet, and kind nodes
 * need br_netfilter, so frames bridged between two nodes pass the host's FORWARD chain, where Docker
 * drops what an internal network carries for other subnets (DOCKER-ISOLATION-STAGE-1). Accepting
 * bridge-to-bridge traffic in DOCKER-USER, the chain Docker leaves to its users, lets macvlan pods on
 * two nodes reach each other; the rule names the bridge and goes with the network.
 */
const forwardRule = (bridge: string): string[] => ['DOCKER-USER', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];

async function allowBridgedPodTraffic(runner: ToolRunner, network: string): Promise<void> {
  const rule = forwardRule(await bridgeOf(runner, network));
  if ((await runner.run('iptables', ['-C', ...rule], { allowFail: true })).code === 0) return;
  const added = await runner.run('iptables', ['-I', ...rule], { allowFail: true });
  if (added.code !== 0) {
    throw new Error(`cannot let pod traffic cross ${network}: iptables -I ${rule.join(' ')} exited ${added.code}: ${added.stderr.trim()} (the kind provider needs the Docker engine on this host)`);
  }
}

interface EndpointInfo {
  MacAddress?: string;
}

async function endpointMac(runner: ToolRunner, network: string, container: string): Promise<string | undefined> {
  const out = await runner.run('docker', ['inspect', '--format', '{{json .NetworkSettings.Networks}}', container]);
  const networks = JSON.parse(out.stdout.trim() || '{}') as Record<string, EndpointInfo>;
  return networks[network]?.MacAddress?.toLowerCase();
}

/**
 * Connects the container to the network (unless already connected) and makes sure the interface is
 * called eth1 inside it: Docker names interfaces in attach order, so the first extra network is
 * normally eth1, but the MAC address decides which one is ours, and it is renamed when it is not.
 */
export async function attachEth1(runner: ToolRunner, network: string, container: string): Promise<void> {
  let mac = await endpointMac(runner, network, container);
  if (!mac) {
    await runner.run('docker', ['network', 'connect', network, container]);
    mac = await endpointMac(runner, network, container);
  }
  if (!mac) throw new Error(`docker network connect ${network} ${container}: the container shows no endpoint (MAC) on ${network}`);
  const linksOut = await runner.run('docker', ['exec', container, 'ip', '-j', 'link', 'show']);
  const links = JSON.parse(linksOut.stdout) as { ifname: string; address?: string }[];
  const ours = links.find((l) => l.address?.toLowerCase() === mac);
  if (!ours) throw new Error(`${container}: no interface with MAC ${mac} (its ${network} endpoint) inside the node`);
  if (ours.ifname !== ETH1) {
    if (links.some((l) => l.ifname === ETH1)) {
      throw new Error(`${container}: ${network} came up as ${ours.ifname} and another interface is already named ${ETH1}`);
    }
    await runner.run('docker', ['exec', container, 'ip', 'link', 'set', 'dev', ours.ifname, 'down']);
    await runner.run('docker', ['exec', container, 'ip', 'link', 'set', 'dev', ours.ifname, 'name', ETH1]);
  }
  await runner.run('docker', ['exec', container, 'ip', 'addr', 'flush', 'dev', ETH1]);
  await runner.run('docker', ['exec', container, 'ip', 'link', 'set', 'dev', ETH1, 'up']);
}

/** Disconnects what is still connected and removes the network; nothing to do when it is gone. */
export async function removeEth1Network(runner: ToolRunner, network: string, containers: string[]): Promise<void> {
  const existing = await runner.run('docker', ['network', 'inspect', network], { allowFail: true });
  if (existing.code !== 0) return;
  for (const container of containers) {
    await runner.run('docker', ['network', 'disconnect', '--force', network, container], { allowFail: true });
  }
  const rule = forwardRule(await bridgeOf(runner, network));
  while ((await runner.run('iptables', ['-C', ...rule], { allowFail: true })).code === 0) await runner.run('iptables', ['-D', ...rule]);
  await runner.run('docker', ['network', 'rm', network]);
}
