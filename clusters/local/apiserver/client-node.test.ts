// The embedded API server through @kubernetes/client-node: the client the suite and node agents use.

import * as k8s from '@kubernetes/client-node';
import { get } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, NAD_CRD, startTestServer, type TestServer } from './test-server.ts';

let ts: TestServer;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let ext: k8s.ApiextensionsV1Api;

const NAD = { group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions' };
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const strategic = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

function pod(name: string, extra: Partial<k8s.V1Pod> = {}): k8s.V1Pod {
  return { metadata: { name, labels: { app: 'demo' } }, spec: { containers: [{ name: 'c', image: 'pause:3.9' }] }, ...extra };
}

/** The HTTP status of a failed client call, and the Status body it carried. */
async function failure(p: Promise<unknown>): Promise<{ code: number; body: { reason?: string; message?: string; code?: number } }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof k8s.ApiException) {
      const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      return { code: err.code, body };
    }
    throw err;
  }
  throw new Error('expected the call to fail');
}

function httpsGet(url: string, ca: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

beforeAll(async () => {
  ts = await startTestServer();
  ({ kc, core, custom, ext } = clientsFor(ts));
});

afterAll(async () => {
  await ts?.stop();
});

describe('embedded API server via @kubernetes/client-node', () => {
  it('rejects requests without the bearer token with a 401 Status, serves health checks without one', async () => {
    const anonymous = await httpsGet(`${ts.server.url}/api/v1/pods`, ts.server.caPem);
    expect(anonymous.code).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect(await httpsGet(`${ts.server.url}/readyz`, ts.server.caPem)).toEqual({ code: 200, body: 'ok' });
    const wrong = new k8s.KubeConfig();
    wrong.loadFromString(ts.kubeconfig.replace(/token: .*/, 'token: wrong'));
    const f = await failure(wrong.makeApiClient(k8s.CoreV1Api).listNamespace());
    expect(f.code).toBe(401);
  });

  it('starts with default, kube-system and kube-public namespaces and creates more', async () => {
    const names = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public']));
    const ns = await core.createNamespace({ body: { metadata: { name: 'me2e-t1' } } });
    expect(ns.status?.phase).toBe('Active');
    expect(ns.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'me2e-t1' });
    expect(sa.metadata?.namespace).toBe('me2e-t1');
  });

  it('creates, reads, lists and selects pods', async () => {
    const created = await core.createNamespacedPod({ namespace: 'me2e-t1', body: pod('p1') });
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.status?.phase).toBe('Pending');
    await core.createNamespacedPod({ namespace: 'me2e-t1', body: pod('p2', { metadata: { name: 'p2', labels: { app: 'other' } }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x' }] } }) });
    const gen = await core.createNamespacedPod({ namespace: 'me2e-t1', body: { metadata: { generateName: 'gen-' }, spec: pod('x').spec } });
    expect(gen.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);

    const got = await core.readNamespacedPod({ name: 'p1', namespace: 'me2e-t1' });
    expect(got.metadata?.uid).toBe(created.metadata?.uid);
    const onNode = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' });
    expect(onNode.items.map((p) => p.metadata?.name)).toEqual(['p2']);
    const demo = await core.listNamespacedPod({ namespace: 'me2e-t1', labelSelector: 'app in (demo)' });
    expect(demo.items.map((p) => p.metadata?.name)).toEqual(['p1']);
    const notDemo = await core.listNamespacedPod({ namespace: 'me2e-t1', labelSelector: 'app!=demo' });
    expect(notDemo.items.map((p) => p.metadata?.name).sort()).toEqual([gen.metadata?.name, 'p2'].sort());
  });

  it('answers 404, 409 AlreadyExists, 409 Conflict and 422 Invalid with Status bodies', async () => {
    const nf = await failure(core.readNamespacedPod({ name: 'nope', namespace: 'me2e-t1' }));
    expect(nf.code).toBe(404);
    expect(nf.body).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found' });
    const dup = await failure(core.createNamespacedPod({ namespace: 'me2e-t1', body: pod('p1') }));
    expect(dup.code).toBe(409);
    expect(dup.body.reason).toBe('AlreadyExists');
    const current = await core.readNamespacedPod({ name: 'p1', namespace: 'me2e-t1' });
    const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1' } };
    const conflict = await failure(core.replaceNamespacedPod({ name: 'p1', namespace: 'me2e-t1', body: stale }));
    expect(conflict.code).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');
    const bad = await failure(core.createNamespacedPod({ namespace: 'me2e-t1', body: pod('Bad_Name') }));
    expect(bad.code).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
    expect(bad.body.message).toContain('metadata.name: Invalid value: "Bad_Name"');
    const noNs = await failure(core.createNamespacedPod({ namespace: 'me2e-missing', body: pod('p1') }));
    expect(noNs.code).toBe(404);
    expect(noNs.body.message).toBe('namespaces "me2e-missing" not found');
  });

  it('pages lists with limit and continue', async () => {
    const first = await core.listNamespacedPod({ namespace: 'me2e-t1', limit: 2 });
    expect(first.items.map((p) => p.metadata?.name)).toHaveLength(2);
    expect(first.metadata?._continue).toBeTruthy();
    expect(first.metadata?.remainingItemCount).toBe(1);
    const rest = await core.listNamespacedPod({ namespace: 'me2e-t1', limit: 2, _continue: first.metadata?._continue });
    expect(rest.metadata?._continue).toBeFalsy();
    const all = (await core.listNamespacedPod({ namespace: 'me2e-t1' })).items.map((p) => p.metadata?.name);
    expect([...first.items, ...rest.items].map((p) => p.metadata?.name)).toEqual(all);
  });

  it('validates label keys and values with 422', async () => {
    const bad = await failure(core.patchNamespacedPod({ name: 'p1', namespace: 'me2e-t1', body: { metadata: { labels: { 'ok': 'not ok!' } } } }, merge));
    expect(bad.code).toBe(422);
    expect(bad.body.message).toContain('metadata.labels: Invalid value: "not ok!"');
    const badKey = await failure(core.patchNamespacedPod({ name: 'p1', namespace: 'me2e-t1', body: { metadata: { annotations: { 'a/b/c': 'x' } } } }, merge));
    expect(badKey.code).toBe(422);
  });

  it('lets pod updates change only images, deadline and tolerations of the spec', async () => {
    const image = await core.patchNamespacedPod({ name: 'p1', namespace: 'me2e-t1', body: { spec: { containers: [{ name: 'c', image: 'pause:3.10' }] } } }, strategic);
    expect(image.spec?.containers[0]?.image).toBe('pause:3.10');
    const moved = await failure(core.patchNamespacedPod({ name: 'p1', namespace: 'me2e-t1', body: { spec: { nodeName: 'node-9' } } }, merge));
    expect(moved.code).toBe(422);
    expect(moved.body.message).toContain('spec: Forbidden: pod updates may not change fields other than');
  });

  it('keeps status on main-resource writes and changes only status and annotations through pods/status', async () => {
    const viaMain = await core.patchNamespacedPod({ name: 'p1', namespace: 'me2e-t1', body: { status: { phase: 'Running' }, metadata: { labels: { extra: 'yes' } } } }, merge);
    expect(viaMain.status?.phase).toBe('Pending');
    expect(viaMain.metadata?.labels?.extra).toBe('yes');

    const status = '[{"name":"default/net","interface":"net1","ips":["198.18.1.5"]}]';
    const viaStatus = await core.patchNamespacedPodStatus({
      name: 'p1', namespace: 'me2e-t1',
      body: { metadata: { annotations: { 'k8s.v1.cni.cncf.io/network-status': status } }, status: { phase: 'Running', podIP: '198.19.1.4' }, spec: { nodeName: 'sneaky' } },
    }, merge);
    expect(viaStatus.status?.phase).toBe('Running');
    expect(viaStatus.status?.podIP).toBe('198.19.1.4');
    expect(viaStatus.metadata?.annotations?.['k8s.v1.cni.cncf.io/network-status']).toBe(status);
    expect(viaStatus.spec?.nodeName).toBeUndefined();

    const sm = await core.patchNamespacedPodStatus({ name: 'p1', namespace: 'me2e-t1', body: { metadata: { annotations: { other: 'x' } } } }, strategic);
    expect(sm.metadata?.annotations).toMatchObject({ other: 'x', 'k8s.v1.cni.cncf.io/network-status': status });

    const read = await core.readNamespacedPod({ name: 'p1', namespace: 'me2e-t1' });
    read.metadata!.annotations!.replaced = 'by-put';
    const put = await core.replaceNamespacedPodStatus({ name: 'p1', namespace: 'me2e-t1', body: read });
    expect(put.metadata?.annotations?.replaced).toBe('by-put');
    expect(Number(put.metadata?.resourceVersion)).toBeGreaterThan(Number(read.metadata?.resourceVersion));
  });

  it('applies JSON patches (RFC 6902) and rejects malformed patches with 400', async () => {
    const p = await core.patchNamespacedPod({
      name: 'p1', namespace: 'me2e-t1',
      body: [{ op: 'add', path: '/metadata/labels/tier', value: 'web' }, { op: 'remove', path: '/metadata/labels/extra' }, { op: 'test', path: '/metadata/name', value: 'p1' }],
    }, jsonPatch);
    expect(p.metadata?.labels).toEqual({ app: 'demo', tier: 'web' });
    const failed = await failure(core.patchNamespacedPod({ name: 'p1', namespace: 'me2e-t1', body: [{ op: 'test', path: '/metadata/name', value: 'zz' }] }, jsonPatch));
    expect(failed.code).toBe(422);
    const malformed = await failure(core.patchNamespacedPod({ name: 'p1', namespace: 'me2e-t1', body: { not: 'a list' } }, jsonPatch));
    expect(malformed.code).toBe(400);
    expect(malformed.body.reason).toBe('BadRequest');
  });

  it('registers the NAD CRD and serves NetworkAttachmentDefinitions', async () => {
    const crd = await ext.createCustomResourceDefinition({ body: NAD_CRD as k8s.V1CustomResourceDefinition });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    const body = { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'macvlan-a' }, spec: { config: '{"cniVersion":"1.0.0","type":"macvlan"}' } };
    const nad = await custom.createNamespacedCustomObject({ ...NAD, namespace: 'me2e-t1', body }) as { metadata: { uid: string } };
    expect(nad.metadata.uid).toBeTruthy();
    const got = await custom.getNamespacedCustomObject({ ...NAD, namespace: 'me2e-t1', name: 'macvlan-a' }) as { spec: { config: string } };
    expect(got.spec.config).toContain('macvlan');
    const patched = await custom.patchNamespacedCustomObject({ ...NAD, namespace: 'me2e-t1', name: 'macvlan-a', body: { metadata: { annotations: { 'k8s.v1.cni.cncf.io/resourceName': 'x/y' } } } }, merge) as { metadata: { annotations: Record<string, string>; generation: number } };
    expect(patched.metadata.annotations['k8s.v1.cni.cncf.io/resourceName']).toBe('x/y');
    expect(patched.metadata.generation).toBe(1);
    const all = await custom.listClusterCustomObject(NAD) as { items: { metadata: { name: string; namespace: string } }[] };
    expect(all.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['me2e-t1/macvlan-a']);
    const sm = await failure(custom.patchNamespacedCustomObject({ ...NAD, namespace: 'me2e-t1', name: 'macvlan-a', body: {} }, strategic));
    expect(sm.code).toBe(415);
    await custom.deleteNamespacedCustomObject({ ...NAD, namespace: 'me2e-t1', name: 'macvlan-a' });
    const gone = await failure(custom.getNamespacedCustomObject({ ...NAD, namespace: 'me2e-t1', name: 'macvlan-a' }));
    expect(gone.code).toBe(404);
    expect(gone.body.message).toBe('network-attachment-definitions.k8s.cni.cncf.io "macvlan-a" not found');
  });

  it('streams watch events from a resourceVersion, with selectors', async () => {
    const list = await core.listNamespacedPod({ namespace: 'me2e-t1' });
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    const ctl = await watch.watch('/api/v1/namespaces/me2e-t1/pods', { resourceVersion: list.metadata?.resourceVersion, labelSelector: 'w=1' },
      (type, obj: k8s.V1Pod) => {
        events.push(`${type} ${obj.metadata?.name}`);
        if (type === 'DELETED') done();
      }, () => done());
    await core.createNamespacedPod({ namespace: 'me2e-t1', body: pod('w1', { metadata: { name: 'w1', labels: { w: '1' } } }) });
    await core.createNamespacedPod({ namespace: 'me2e-t1', body: pod('w2') });
    await core.patchNamespacedPod({ name: 'w1', namespace: 'me2e-t1', body: { metadata: { annotations: { a: 'b' } } } }, merge);
    await core.deleteNamespacedPod({ name: 'w1', namespace: 'me2e-t1' });
    await finished;
    ctl.abort();
    expect(events).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
  });

  it('deletes bound pods gracefully and unbound pods at once', async () => {
    const graceful = await core.deleteNamespacedPod({ name: 'p2', namespace: 'me2e-t1' });
    expect(graceful.metadata?.deletionTimestamp).toBeTruthy();
    const still = await core.readNamespacedPod({ name: 'p2', namespace: 'me2e-t1' });
    expect(still.metadata?.deletionGracePeriodSeconds).toBe(30);
    await core.deleteNamespacedPod({ name: 'p2', namespace: 'me2e-t1', gracePeriodSeconds: 0 });
    expect((await failure(core.readNamespacedPod({ name: 'p2', namespace: 'me2e-t1' }))).code).toBe(404);
    await core.deleteNamespacedPod({ name: 'p1', namespace: 'me2e-t1' });
    expect((await failure(core.readNamespacedPod({ name: 'p1', namespace: 'me2e-t1' }))).code).toBe(404);
  });

  it('deletes a namespace with its contents', async () => {
    await core.createNamespace({ body: { metadata: { name: 'me2e-t2' } } });
    await core.createNamespacedPod({ namespace: 'me2e-t2', body: pod('bound', { spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x' }] } }) });
    await core.createNamespacedConfigMap({ namespace: 'me2e-t2', body: { metadata: { name: 'cm' }, data: { a: 'b' } } });
    const ns = await core.deleteNamespace({ name: 'me2e-t2' }) as k8s.V1Namespace;
    expect(ns.status?.phase).toBe('Terminating');
    expect((await failure(core.readNamespacedConfigMap({ name: 'cm', namespace: 'me2e-t2' }))).code).toBe(404);
    const forbidden = await failure(core.createNamespacedConfigMap({ namespace: 'me2e-t2', body: { metadata: { name: 'late' } } }));
    expect(forbidden.code).toBe(403);
    // The node agent finishes the bound pod's deletion; then the namespace goes away.
    await core.deleteNamespacedPod({ name: 'bound', namespace: 'me2e-t2', gracePeriodSeconds: 0 });
    expect((await failure(core.readNamespace({ name: 'me2e-t2' }))).code).toBe(404);
  });
});
