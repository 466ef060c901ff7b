// The primary network when kindnet is disabled: either a bridge + host-local conflist per node with
// routes between the nodes' pod CIDRs (like the local provider's cni0 default network), or a
// manifest of the user's own CNI (Calico, Cilium, …) applied with kubectl.
import type { PrimaryNetwork } from './settings.ts';
import type { Kubectl, NodeInfo } from './kubectl.ts';
import type { ToolRunner } from './tools.ts';
import { CNI_CONF_DIR } from './node-paths.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export const BRIDGE_NETWORK_NAME = 'kind-default';
export const BRIDGE_CONF_FILE = `${CNI_CONF_DIR}/10-${BRIDGE_NETWORK_NAME}.conflist`;

export function bridgeConflist(podCIDR: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: BRIDGE_NETWORK_NAME,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: podCIDR }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}


/** Nodes register before they have a network; the controller-manager assigns pod CIDRs shortly after. */
async function nodesWithPodCIDRs(kubectl: Kubectl, timeoutMs: number, pollMs: number): Promise<NodeInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = await kubectl.nodes();
    if (nodes.length > 0 && nodes.every((n) => n.podCIDR && n.internalIP)) return nodes;
    if (Date.now() > deadline) {
      const lacking = nodes.filter((n) => !n.podCIDR || !n.internalIP).map((n) => n.name);
      throw new Error(`nodes without a pod CIDR or InternalIP after ${timeoutMs / 1000}s: ${lacking.join(', ') || '(no nodes)'}`);
    }
    await sleep(pollMs);
  }
}

export async function installPrimaryNetwork(
  runner: ToolRunner,
  kubectl: Kubectl,
  primary: PrimaryNetwork,
  timing: { timeoutMs: number; pollMs: number } = { timeoutMs: 120_000, pollMs: 2_000 },
): Promise<void> {
  if (primary.kind === 'kindnet') return;
  if (primary.kind === 'manifest') {
    await kubectl.run(['apply', '-f', primary.path]);
    return;
  }
  const nodes = await nodesWithPodCIDRs(kubectl, timing.timeoutMs, timing.pollMs);
  for (const node of nodes) {
    await runner.run('docker', ['exec', '-i', node.name, 'sh', '-c', `cat > ${BRIDGE_CONF_FILE}`], {
      input: bridgeConflist(node.podCIDR as string),
    });
    for (const other of nodes) {
      if (other === node) continue;
      await runner.run('docker', ['exec', node.name, 'ip', 'route', 'replace', other.podCIDR as string, 'via', other.internalIP as string]);
    }
  }
}
