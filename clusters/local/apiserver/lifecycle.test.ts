// Watch/informer behaviour, node status and binding, finalizers, CRD removal, status subresources
// of custom resources, through @kubernetes/client-node.

import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, NAD_CRD, startTestServer, type TestServer } from './test-server.ts';

let ts: TestServer;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let ext: k8s.ApiextensionsV1Api;

const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const NS = 'me2e-life';

function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - start > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (err) {
    if (err instanceof k8s.ApiException) return err.code;
    throw err;
  }
}

beforeAll(async () => {
  ts = await startTestServer();
  ({ kc, core, custom, ext } = clientsFor(ts));
  await core.createNamespace({ body: { metadata: { name: NS } } });
});

afterAll(async () => {
  await ts?.stop();
});

describe('watch, informers and object lifecycle', () => {
  it('feeds an informer (list + watch) with adds, updates and deletes', async () => {
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/pods`, () => core.listNamespacedPod({ namespace: NS }));
    const seen: string[] = [];
    informer.on('add', (p: k8s.V1Pod) => seen.push(`add ${p.metadata?.name}`));
    informer.on('update', (p: k8s.V1Pod) => seen.push(`update ${p.metadata?.name} ${p.status?.phase}`));
    informer.on('delete', (p: k8s.V1Pod) => seen.push(`delete ${p.metadata?.name}`));
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'before' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    await informer.start();
    try {
      await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'after' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
      await core.patchNamespacedPodStatus({ name: 'after', namespace: NS, body: { status: { phase: 'Running' } } }, merge);
      await core.deleteNamespacedPod({ name: 'before', namespace: NS });
      await until(() => seen.length >= 4, `informer events (have ${JSON.stringify(seen)})`);
      expect(seen).toEqual(['add before', 'add after', 'update after Running', 'delete before']);
      expect(informer.list().map((p) => p.metadata?.name)).toEqual(['after']);
    } finally {
      await informer.stop();
    }
  });

  it('ends a watch after timeoutSeconds', async () => {
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      new k8s.Watch(kc).watch(`/api/v1/namespaces/${NS}/pods`, { timeoutSeconds: 1 }, () => undefined, (err) => (err ? reject(err as Error) : resolve()))
        .catch(reject);
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('replays events after a resourceVersion and sends current objects without one', async () => {
    const rv = (await core.listNamespacedPod({ namespace: NS })).metadata?.resourceVersion;
    await core.patchNamespacedPod({ name: 'after', namespace: NS, body: { metadata: { labels: { replay: 'yes' } } } }, merge);
    const events: string[] = [];
    for (const resourceVersion of [rv, undefined]) {
      const ctl = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${NS}/pods`, resourceVersion ? { resourceVersion } : {},
        (type, p: k8s.V1Pod) => events.push(`${type} ${p.metadata?.name} ${p.metadata?.labels?.replay ?? '-'}`), () => undefined);
      await until(() => events.length >= (resourceVersion ? 1 : 2), 'replayed event');
      ctl.abort();
    }
    expect(events).toEqual(['MODIFIED after yes', 'ADDED after yes']);
  });

  it('ends the initial events of a watch-list (sendInitialEvents) with a BOOKMARK', async () => {
    const events: string[] = [];
    const ctl = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${NS}/pods`,
      { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true },
      (type, o: k8s.V1Pod) => events.push(type === 'BOOKMARK' ? `BOOKMARK ${o.metadata?.annotations?.['k8s.io/initial-events-end']}` : `${type} ${o.metadata?.name}`),
      () => undefined);
    await until(() => events.length >= 2, 'initial events and bookmark');
    ctl.abort();
    expect(events).toEqual(['ADDED after', 'BOOKMARK true']);
  });

  it('registers nodes, keeps node status on main writes, binds pods through pods/binding', async () => {
    await core.createNode({ body: { metadata: { name: 'node-1' }, status: { capacity: { 'netdevsim.io/vf': '4' } } } });
    const patched = await core.patchNodeStatus({ name: 'node-1', body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } } }, merge);
    expect(patched.status?.conditions?.[0]?.type).toBe('Ready');
    const main = await core.patchNode({ name: 'node-1', body: { metadata: { labels: { role: 'x' } }, status: { conditions: [] } } }, merge);
    expect(main.status?.conditions?.length).toBe(1);
    await core.createNamespacedPodBinding({ name: 'after', namespace: NS, body: { metadata: { name: 'after' }, target: { kind: 'Node', name: 'node-1' } } });
    const bound = await core.readNamespacedPod({ name: 'after', namespace: NS });
    expect(bound.spec?.nodeName).toBe('node-1');
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    expect(await code(core.createNamespacedPodBinding({ name: 'after', namespace: NS, body: { metadata: { name: 'after' }, target: { kind: 'Node', name: 'node-2' } } }))).toBe(409);
  });

  it('holds deletion while finalizers remain', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    const del = await code(core.deleteNamespacedConfigMap({ name: 'held', namespace: NS }));
    expect(del).toBe(0);
    const held = await core.readNamespacedConfigMap({ name: 'held', namespace: NS });
    expect(held.metadata?.deletionTimestamp).toBeTruthy();
    await core.patchNamespacedConfigMap({ name: 'held', namespace: NS, body: { metadata: { finalizers: null } } }, merge);
    expect(await code(core.readNamespacedConfigMap({ name: 'held', namespace: NS }))).toBe(404);
  });

  it('deletes collections by label', async () => {
    for (const name of ['a', 'b', 'c']) await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name, labels: { batch: name === 'c' ? 'keep' : 'drop' } } } });
    await core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: 'batch=drop' });
    expect((await core.listNamespacedConfigMap({ namespace: NS })).items.map((c) => c.metadata?.name)).toEqual(['c']);
  });

  it('serves a CRD status subresource and drops the resource when the CRD is deleted', async () => {
    const crd = structuredClone(NAD_CRD) as k8s.V1CustomResourceDefinition;
    crd.spec.versions[0]!.subresources = { status: {} };
    crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.status = { type: 'object', x_kubernetes_preserve_unknown_fields: true };
    await ext.createCustomResourceDefinition({ body: crd });
    const g = { group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions', namespace: NS };
    await custom.createNamespacedCustomObject({ ...g, body: { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'n1' }, spec: { config: '{}' }, status: { ignored: true } } });
    const withStatus = await custom.patchNamespacedCustomObjectStatus({ ...g, name: 'n1', body: { status: { ok: true }, spec: { config: 'changed' } } }, merge) as { status: unknown; spec: { config: string } };
    expect(withStatus.status).toEqual({ ok: true });
    expect(withStatus.spec.config).toBe('{}');
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    expect(groups.groups.map((x) => x.name)).toContain('k8s.cni.cncf.io');

    await ext.deleteCustomResourceDefinition({ name: NAD_CRD.metadata.name });
    const after = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    expect(after.groups.map((x) => x.name)).not.toContain('k8s.cni.cncf.io');
    expect(await code(custom.listNamespacedCustomObject(g))).toBe(404);
    // Re-creating the CRD starts with no objects.
    await ext.createCustomResourceDefinition({ body: NAD_CRD as k8s.V1CustomResourceDefinition });
    expect(((await custom.listNamespacedCustomObject(g)) as { items: unknown[] }).items).toEqual([]);
  });

  it('does not serve a CRD created with dryRun, and does not bump an unchanged CRD', async () => {
    const other = structuredClone(NAD_CRD);
    other.spec.group = 'example.com';
    other.metadata.name = 'network-attachment-definitions.example.com';
    await ext.createCustomResourceDefinition({ body: other as k8s.V1CustomResourceDefinition, dryRun: 'All' });
    expect((await kc.makeApiClient(k8s.ApisApi).getAPIVersions()).groups.map((x) => x.name)).not.toContain('example.com');
    const crd = await ext.readCustomResourceDefinition({ name: NAD_CRD.metadata.name });
    const same = await ext.replaceCustomResourceDefinition({ name: NAD_CRD.metadata.name, body: crd });
    expect(same.metadata?.resourceVersion).toBe(crd.metadata?.resourceVersion);
  });

  it('checks custom resources against the CRD schema: 422 for wrong types, unknown fields pruned or rejected under Strict', async () => {
    const g = { group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions', namespace: NS };
    const nad = (name: string, spec: unknown) => ({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name }, spec });
    let wrongType: unknown;
    await custom.createNamespacedCustomObject({ ...g, body: nad('typed', { config: { type: 'macvlan' } }) }).catch((e: unknown) => { wrongType = e; });
    expect(wrongType).toBeInstanceOf(k8s.ApiException);
    expect((wrongType as k8s.ApiException<string>).code).toBe(422);
    expect(String((wrongType as k8s.ApiException<string>).body)).toContain('spec.config in body must be of type string: \\"object\\"');
    const pruned = await custom.createNamespacedCustomObject({ ...g, body: nad('pruned', { config: '{}', extra: 1 }) }) as { spec: Record<string, unknown> };
    expect(pruned.spec).toEqual({ config: '{}' });
    expect(await code(custom.createNamespacedCustomObject({ ...g, body: nad('strict', { config: '{}', extra: 1 }), fieldValidation: 'Strict' }))).toBe(400);
  });

  it('rejects CRDs whose name does not match plural.group with 422', async () => {
    const bad = structuredClone(NAD_CRD);
    bad.metadata.name = 'wrong.k8s.cni.cncf.io';
    expect(await code(ext.createCustomResourceDefinition({ body: bad as k8s.V1CustomResourceDefinition }))).toBe(422);
  });
});
