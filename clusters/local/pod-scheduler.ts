// The scheduler role: binds every pod without spec.nodeName to a node (scheduler.ts decides),
// or marks it PodScheduled=False with a FailedScheduling event; unschedulable pods are retried
// whenever a pod goes away (freeing extended resources) or a node changes.
import type { V1Node, V1NodeList, V1Pod } from '@kubernetes/client-node';
import { ApiError, type ApiClient } from './api-client.ts';
import { recordPodEvent } from './events.ts';
import { inform, type Informer } from './informer.ts';
import { choosePodNode, isExtendedResource, type SchedulableNode } from './scheduler.ts';

export class PodScheduler {
  private readonly pods = new Map<string, V1Pod>();
  /** Last FailedScheduling message per pod uid, so a retry that fails the same way posts no new event. */
  private readonly lastFailure = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  private informers: Informer[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.informers.push(
      inform<V1Pod>(
        this.api,
        '/api/v1/pods',
        (type, pod) => {
          const uid = pod.metadata?.uid ?? '';
          if (type === 'DELETED') {
            this.pods.delete(uid);
            this.lastFailure.delete(uid);
            this.retryPending();
            return;
          }
          this.pods.set(uid, pod);
          if (!pod.spec?.nodeName && !pod.metadata?.deletionTimestamp) this.queue(uid);
        },
        (pods) => {
          this.pods.clear();
          for (const p of pods) this.pods.set(p.metadata?.uid ?? '', p);
        },
        (err) => this.log(`scheduler: pod watch: ${err.message}`),
      ),
      inform<V1Node>(this.api, '/api/v1/nodes', (type) => type !== 'ADDED' && this.retryPending(), () => undefined, (err) => this.log(`scheduler: node watch: ${err.message}`)),
    );
  }

  async stop(): Promise<void> {
    for (const i of this.informers) i.stop();
    await this.chain;
  }

  private retryPending(): void {
    for (const [uid, pod] of this.pods) if (!pod.spec?.nodeName && this.lastFailure.has(uid)) this.queue(uid);
  }

  /** One pod at a time, so two pods never both take the last free device. */
  private queue(uid: string): void {
    this.chain = this.chain.then(() => this.schedule(uid)).catch((err: Error) => this.log(`scheduler: ${err.stack ?? err.message}`));
  }

  private async schedule(uid: string): Promise<void> {
    const pod = this.pods.get(uid);
    if (!pod || pod.spec?.nodeName || pod.metadata?.deletionTimestamp) return;
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const nodes = await this.api.get<V1NodeList>('/api/v1/nodes');
    const decision = choosePodNode(pod, nodes.items.map(schedulable), [...this.pods.values()]);
    if ('unschedulable' in decision) {
      if (this.lastFailure.get(uid) === decision.unschedulable) return;
      this.lastFailure.set(uid, decision.unschedulable);
      await this.api.patch(`/api/v1/namespaces/${ns}/pods/${name}/status`, {
        status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: decision.unschedulable, lastTransitionTime: new Date().toISOString() }] },
      });
      await recordPodEvent(this.api, pod, { type: 'Warning', reason: 'FailedScheduling', message: decision.unschedulable, component: 'default-scheduler' });
      return;
    }
    await this.bind(ns, name, decision.node);
    // Count it on that node at once: the watch event may arrive after the next decision.
    this.pods.set(uid, { ...pod, spec: { ...pod.spec!, nodeName: decision.node } });
    this.lastFailure.delete(uid);
    await recordPodEvent(this.api, pod, { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${ns}/${name} to ${decision.node}`, component: 'default-scheduler' });
  }

  /** pods/binding as kube-scheduler does; a server without that subresource gets spec.nodeName patched. */
  private async bind(ns: string, name: string, node: string): Promise<void> {
    try {
      await this.api.post(`/api/v1/namespaces/${ns}/pods/${name}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace: ns },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
    } catch (err) {
      if (!(err instanceof ApiError && (err.status === 404 || err.status === 405))) throw err;
      await this.api.patch(`/api/v1/namespaces/${ns}/pods/${name}`, { spec: { nodeName: node } });
    }
  }
}

function schedulable(node: V1Node): SchedulableNode {
  const extended: Record<string, number> = {};
  for (const [res, qty] of Object.entries(node.status?.allocatable ?? {})) if (isExtendedResource(res)) extended[res] = Number(qty);
  return { name: node.metadata?.name ?? '', labels: node.metadata?.labels ?? {}, extended };
}
