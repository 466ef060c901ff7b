// kubectl against the kind cluster's own kubeconfig (never the user's ~/.kube/config).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecResult } from '../provider.ts';
import { CommandFailedError, type RunOptions, type ToolRunner } from './tools.ts';

export interface NodeInfo {
  name: string;
  controlPlane: boolean;
  podCIDR?: string;
  internalIP?: string;
}

interface NodeList {
  items: {
    metadata: { name: string; labels?: Record<string, string> };
    spec?: { podCIDR?: string };
    status?: { addresses?: { type: string; address: string }[] };
  }[];
}

/** worker < worker2 < worker10, the order kind creates them in. */
export function compareNodeNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** kubectl's words for an API server that is restarting or overloaded, not for a refused request. */
const TRANSIENT_API_ERROR = /an error on the server \(""\) has prevented|connection refused|TLS handshake timeout|i\/o timeout|the server was unable to return a response/;

export class Kubectl {
  constructor(
    private readonly runner: ToolRunner,
    readonly kubeconfig: string,
  ) {}

  run(args: string[], opts?: RunOptions): Promise<ExecResult> {
    return this.runner.run('kubectl', ['--kubeconfig', this.kubeconfig, ...args], opts);
  }

  /**
   * run(), repeated (up to `attempts` times, `pauseMs` apart) while the API server is unreachable or
   * answers with its empty internal error: a control plane on a loaded machine restarts now and then.
   * Any other failure is thrown at once.
   */
  async runRetrying(args: string[], attempts = 6, pauseMs = 5000): Promise<ExecResult> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.run(args, { allowFail: true });
      if (res.code === 0) return res;
      const transient = TRANSIENT_API_ERROR.test(`${res.stderr}
${res.stdout}`);
      if (!transient || attempt >= attempts) throw new CommandFailedError('kubectl', ['--kubeconfig', this.kubeconfig, ...args], res);
      await sleep(pauseMs);
    }
  }

  async nodes(): Promise<NodeInfo[]> {
    const out = await this.run(['get', 'nodes', '-o', 'json']);
    const list = JSON.parse(out.stdout) as NodeList;
    return list.items
      .map((item) => ({
        name: item.metadata.name,
        controlPlane: item.metadata.labels?.['node-role.kubernetes.io/control-plane'] !== undefined,
        podCIDR: item.spec?.podCIDR,
        internalIP: item.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
      }))
      .sort((a, b) => compareNodeNames(a.name, b.name));
  }

  /** The node a pod runs on and its UID (the CRI sandbox carries the UID as a label). */
  async podPlacement(namespace: string, pod: string): Promise<{ node: string; uid: string }> {
    const out = await this.run(['get', 'pod', '-n', namespace, pod, '-o', 'json']);
    const obj = JSON.parse(out.stdout) as { metadata: { uid: string }; spec?: { nodeName?: string } };
    const node = obj.spec?.nodeName;
    if (!node) throw new Error(`pod ${namespace}/${pod} is not scheduled to a node yet`);
    return { node, uid: obj.metadata.uid };
  }
}
