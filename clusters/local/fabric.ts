// The fabric: one netns holding two bridges (br0 = every node's eth0, br1 = every node's eth1).
// The API server address 198.18.0.1 lives on br0 inside the fabric netns, not in the host netns:
// several clusters can then coexist on one host (each has its own 198.18.0.0/24) and the host's
// routing table is never touched. fabric-listener.ts bridges that address to the API server.
import { FABRIC_HOST_IP, fabricPort, nodeFabricIp, nodePodCidr } from './names.ts';
import { mustRun, runCommand } from './run-command.ts';

export async function createFabric(fabricNetns: string): Promise<void> {
  await mustRun(['ip', 'netns', 'add', fabricNetns]);
  const ip = (...args: string[]) => mustRun(['ip', '-n', fabricNetns, ...args]);
  await ip('link', 'set', 'lo', 'up');
  for (const br of ['br0', 'br1']) {
    await ip('link', 'add', br, 'type', 'bridge');
    await ip('link', 'set', br, 'up');
  }
  await ip('addr', 'add', `${FABRIC_HOST_IP}/24`, 'dev', 'br0');
}

/**
 * Creates the node netns with eth0 (fabric address) and eth1 (no address) as veths into the two
 * fabric bridges, and routes to every other node's pod CIDR via that node's fabric address, so the
 * default network is routed across nodes as a flat cluster network would be.
 * Returns the fabric-side link names.
 */
export async function wireNode(opts: {
  prefix: string;
  fabricNetns: string;
  netns: string;
  index: number;
  nodeCount: number;
}): Promise<string[]> {
  const { prefix, fabricNetns, netns, index, nodeCount } = opts;
  await mustRun(['ip', 'netns', 'add', netns]);
  const inNode = (...args: string[]) => mustRun(['ip', '-n', netns, ...args]);
  const inFabric = (...args: string[]) => mustRun(['ip', '-n', fabricNetns, ...args]);
  await inNode('link', 'set', 'lo', 'up');
  const links: string[] = [];
  for (const [fabric, bridge, ifname] of [['a', 'br0', 'eth0'], ['b', 'br1', 'eth1']] as const) {
    const port = fabricPort(prefix, fabric, index);
    // Created directly in the fabric netns with the peer in the node netns: nothing ever appears in
    // the host netns, even for a moment.
    await inFabric('link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', netns);
    links.push(port);
    await inFabric('link', 'set', port, 'master', bridge);
    await inFabric('link', 'set', port, 'up');
    await inNode('link', 'set', ifname, 'up');
  }
  await inNode('addr', 'add', `${nodeFabricIp(index)}/24`, 'dev', 'eth0');
  for (let other = 1; other <= nodeCount; other++) {
    if (other === index) continue;
    await inNode('route', 'add', nodePodCidr(other), 'via', nodeFabricIp(other), 'dev', 'eth0');
  }
  await mustRun(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  return links;
}

/** Deletes a netns if present; returns false when it did not exist. */
export async function deleteNetns(name: string): Promise<boolean> {
  const r = await runCommand(['ip', 'netns', 'del', name]);
  return r.code === 0;
}
