// The namespace controller's part that a cluster without kube-controller-manager lacks: with a real
// kube-apiserver a deleted namespace stays Terminating, its pods keep running, until something
// empties it and removes the "kubernetes" finalizer (PUT /api/v1/namespaces/NAME/finalize).
// This does that for what this cluster's namespaces hold: pods (deleted gracefully, so the node agent
// runs CNI DEL first), NetworkAttachmentDefinitions and events. The embedded API server does the same
// itself and needs no finalizer.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Namespace, V1PodList } from '@kubernetes/client-node';
import { ApiError, type ApiClient } from './api-client.ts';
import { inform, type Informer } from './informer.ts';

/** Collections emptied (DELETE on the collection) before the namespace is finalized. */
export function namespaceCollections(ns: string): string[] {
  return [
    `/api/v1/namespaces/${ns}/pods`,
    `/apis/k8s.cni.cncf.io/v1/namespaces/${ns}/network-attachment-definitions`,
    `/api/v1/namespaces/${ns}/events`,
  ];
}

/** The namespace as PUT to its finalize subresource: the same object without the "kubernetes" finalizer. */
export function finalizedNamespace(ns: V1Namespace): V1Namespace {
  return { ...ns, spec: { ...ns.spec, finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== 'kubernetes') } };
}

const POLL_MS = 500;

export class NamespaceFinalizer {
  private informer?: Informer;
  private readonly busy = new Set<string>();
  private stopped = false;

  constructor(
    private readonly api: ApiClient,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.informer = inform<V1Namespace>(
      this.api,
      '/api/v1/namespaces',
      (type, ns) => {
        const name = ns.metadata?.name;
        if (type !== 'DELETED' && name && ns.metadata?.deletionTimestamp && ns.spec?.finalizers?.includes('kubernetes') && !this.busy.has(name)) {
          this.busy.add(name);
          void this.finalize(name).catch((err: Error) => this.log(`namespace finalizer: ${name}: ${err.message}`)).finally(() => this.busy.delete(name));
        }
      },
      () => undefined,
      (err) => this.log(`namespace finalizer: namespace watch: ${err.message}`),
    );
  }

  stop(): void {
    this.stopped = true;
    this.informer?.stop();
  }

  private async finalize(name: string): Promise<void> {
    for (const collection of namespaceCollections(name)) await this.api.delete(collection).catch(ignoreNotFound);
    // Graceful pod deletion finishes when the node agent has torn the sandbox down.
    while (!this.stopped) {
      const pods = await this.api.get<V1PodList>(`/api/v1/namespaces/${name}/pods`);
      if (pods.items.length === 0) break;
      await sleep(POLL_MS);
    }
    if (this.stopped) return;
    const ns = await this.api.find<V1Namespace>(`/api/v1/namespaces/${name}`);
    if (!ns) return;
    await this.api.put(`/api/v1/namespaces/${name}/finalize`, finalizedNamespace(ns));
    this.log(`namespace ${name} emptied and finalized`);
  }
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof ApiError && err.status === 404)) throw err;
}
