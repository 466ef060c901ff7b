// Pod events as kubelet and kube-scheduler post them (core/v1 Event).
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { ApiClient } from './api-client.ts';

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  component: 'kubelet' | 'default-scheduler';
  host?: string;
}

export async function recordPodEvent(api: ApiClient, pod: V1Pod, ev: PodEvent): Promise<void> {
  const ns = pod.metadata?.namespace ?? 'default';
  const now = new Date().toISOString();
  await api.post(`/api/v1/namespaces/${ns}/events`, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata?.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod.metadata?.name, uid: pod.metadata?.uid },
    type: ev.type,
    reason: ev.reason,
    message: ev.message,
    source: { component: ev.component, ...(ev.host ? { host: ev.host } : {}) },
    reportingComponent: ev.component,
    reportingInstance: ev.host ?? ev.component,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  });
}
