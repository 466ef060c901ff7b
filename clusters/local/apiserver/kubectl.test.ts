// The embedded API server through the real kubectl binary (v1.32) with a generated kubeconfig:
// discovery, server-side printing, apply/create/delete/describe, protobuf bodies of typed clients.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-server.ts';

const KUBECTL = '/usr/bin/kubectl';
// The CRD every provider applies (suite fixtures), so kubectl is tested against the real schema.
const NAD_CRD_FIXTURE = new URL('../../../fixtures/crds/network-attachment-definition.yaml', import.meta.url).pathname;
const skipReason = existsSync(KUBECTL) ? undefined : `kubectl not found at ${KUBECTL}`;
if (skipReason) console.log(`skipping kubectl tests: ${skipReason}`);

let ts: TestServer;

interface Run { code: number; stdout: string; stderr: string }

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(KUBECTL, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: ts.dir, KUBECONFIG: ts.kubeconfigPath, KUBECACHEDIR: join(ts.dir, 'cache') },
      timeout: 30_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  expect(r.stderr, `kubectl ${args.join(' ')}`).toBe('');
  expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const NAD_AND_POD = (image: string): string => [
  stringify({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'macvlan-a' },
    spec: { config: '{"cniVersion":"1.0.0","type":"macvlan","master":"eth1","ipam":{"type":"host-local","subnet":"198.18.1.0/24"}}' } }),
  stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', annotations: { 'k8s.v1.cni.cncf.io/networks': 'macvlan-a' } },
    spec: { containers: [{ name: 'c', image }] } }),
].join('---\n');

beforeAll(async () => {
  if (skipReason) return;
  ts = await startTestServer();
  await writeFile(join(ts.dir, 'workload.yaml'), NAD_AND_POD('pause:3.9'));
});

afterAll(async () => {
  await ts?.stop();
});

describe.skipIf(skipReason !== undefined)('embedded API server via kubectl', () => {
  it('reports its version and lists the initial namespaces', async () => {
    const v = JSON.parse(await ok('version', '-o', 'json')) as { serverVersion: { gitVersion: string; minor: string } };
    expect(v.serverVersion.minor).toBe('32');
    const ns = await ok('get', 'ns');
    expect(ns.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+AGE$/);
    for (const name of ['default', 'kube-public', 'kube-system']) expect(ns).toMatch(new RegExp(`^${name}\\s+Active\\s+\\d+s$`, 'm'));
  });

  it('applies the NAD CRD, then a NAD and a pod from one file', async () => {
    expect(await ok('apply', '-f', NAD_CRD_FIXTURE)).toBe('customresourcedefinition.apiextensions.k8s.io/network-attachment-definitions.k8s.cni.cncf.io created\n');
    expect(await ok('create', 'namespace', 'me2e-k1')).toBe('namespace/me2e-k1 created\n');
    expect(await ok('apply', '-n', 'me2e-k1', '-f', join(ts.dir, 'workload.yaml')))
      .toBe('networkattachmentdefinition.k8s.cni.cncf.io/macvlan-a created\npod/p1 created\n');
    expect(await ok('apply', '-n', 'me2e-k1', '-f', join(ts.dir, 'workload.yaml')))
      .toBe('networkattachmentdefinition.k8s.cni.cncf.io/macvlan-a unchanged\npod/p1 unchanged\n');
    await writeFile(join(ts.dir, 'workload2.yaml'), NAD_AND_POD('pause:3.10'));
    expect(await ok('apply', '-n', 'me2e-k1', '-f', join(ts.dir, 'workload2.yaml')))
      .toBe('networkattachmentdefinition.k8s.cni.cncf.io/macvlan-a unchanged\npod/p1 configured\n');
    expect(await ok('get', 'pod', 'p1', '-n', 'me2e-k1', '-o', 'jsonpath={.spec.containers[0].image}')).toBe('pause:3.10');
  });

  it('lists pods and NADs across namespaces with the short name', async () => {
    const out = await ok('get', 'pods,net-attach-def', '-A');
    expect(out).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    expect(out).toMatch(/^me2e-k1\s+pod\/p1\s+0\/1\s+Pending\s+0\s+\d+s$/m);
    expect(out).toMatch(/^NAMESPACE\s+NAME\s+AGE$/m);
    expect(out).toMatch(/^me2e-k1\s+networkattachmentdefinition\.k8s\.cni\.cncf\.io\/macvlan-a\s+\d+s$/m);
    const config = await ok('get', 'net-attach-def', 'macvlan-a', '-n', 'me2e-k1', '-o', 'jsonpath={.spec.config}');
    expect(JSON.parse(config)).toMatchObject({ type: 'macvlan', master: 'eth1' });
  });

  it('describes a pod and a NAD', async () => {
    const pod = await ok('describe', 'pod', 'p1', '-n', 'me2e-k1');
    expect(pod).toMatch(/^Name:\s+p1$/m);
    expect(pod).toMatch(/^Annotations:\s+k8s\.v1\.cni\.cncf\.io\/networks: macvlan-a$/m);
    expect(pod).toMatch(/^Status:\s+Pending$/m);
    const nad = await ok('describe', 'net-attach-def', 'macvlan-a', '-n', 'me2e-k1');
    expect(nad).toMatch(/^Kind:\s+NetworkAttachmentDefinition$/m);
  });

  it('labels, annotates and JSON-patches through kubectl', async () => {
    expect(await ok('label', 'pod', 'p1', '-n', 'me2e-k1', 'tier=web')).toBe('pod/p1 labeled\n');
    expect(await ok('annotate', 'net-attach-def', 'macvlan-a', '-n', 'me2e-k1', 'k8s.v1.cni.cncf.io/resourceName=example.com/vf')).toMatch(/annotated\n$/);
    expect(await ok('patch', 'pod', 'p1', '-n', 'me2e-k1', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/extra","value":"1"}]')).toBe('pod/p1 patched\n');
    expect(await ok('get', 'pods', '-n', 'me2e-k1', '-l', 'tier=web,extra', '-o', 'name')).toBe('pod/p1\n');
    expect(await ok('get', 'pods', '-n', 'me2e-k1', '-l', 'tier notin (web)', '-o', 'name')).toBe('');
  });

  it('rejects fields the NAD schema does not know (kubectl validates strictly) and wrong types', async () => {
    await writeFile(join(ts.dir, 'extra.yaml'), stringify({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'extra' }, spec: { config: '{}', extra: true } }));
    const extra = await kubectl('apply', '-n', 'me2e-k1', '-f', join(ts.dir, 'extra.yaml'));
    expect(extra.code).toBe(1);
    expect(extra.stderr).toContain('strict decoding error: unknown field "spec.extra"');
    await writeFile(join(ts.dir, 'typed.yaml'), stringify({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'typed' }, spec: { config: { type: 'macvlan' } } }));
    const typed = await kubectl('create', '-n', 'me2e-k1', '-f', join(ts.dir, 'typed.yaml'));
    expect(typed.code).toBe(1);
    expect(typed.stderr).toContain('spec.config: Invalid value: "object": spec.config in body must be of type string: "object"');
  });

  it('rejects unknown fields of built-in kinds under kubectl\'s strict validation', async () => {
    await writeFile(join(ts.dir, 'typo.yaml'), stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typo', labelz: { a: 'b' } }, dta: { a: 'b' } }));
    const typo = await kubectl('apply', '-n', 'me2e-k1', '-f', join(ts.dir, 'typo.yaml'));
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('strict decoding error: unknown field "dta", unknown field "metadata.labelz"');
    const lax = await kubectl('apply', '--validate=false', '-n', 'me2e-k1', '-f', join(ts.dir, 'typo.yaml'));
    expect(lax.code).toBe(0);
    expect(await ok('get', 'cm', 'typo', '-n', 'me2e-k1', '-o', 'jsonpath={.data}{.metadata.labelz}')).toBe('');
  });

  it('reports errors the way kubectl shows a real server\'s', async () => {
    const missing = await kubectl('get', 'pod', 'nope', '-n', 'me2e-k1');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
    await writeFile(join(ts.dir, 'bad.yaml'), stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } }));
    const bad = await kubectl('create', '-n', 'me2e-k1', '-f', join(ts.dir, 'bad.yaml'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"');
    const dup = await kubectl('create', 'namespace', 'me2e-k1');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe('Error from server (AlreadyExists): namespaces "me2e-k1" already exists\n');
  });

  it('answers cluster-info and creates secrets and services with kubectl\'s protobuf bodies', async () => {
    expect(await ok('cluster-info')).toContain(`Kubernetes control plane is running at ${ts.server.url}`);
    expect(await ok('create', 'secret', 'generic', 's1', '-n', 'me2e-k1', '--from-literal=a=b')).toBe('secret/s1 created\n');
    expect(await ok('get', 'secret', 's1', '-n', 'me2e-k1', '-o', 'jsonpath={.type} {.data.a}')).toBe('Opaque Yg==');
    expect(await ok('create', 'service', 'clusterip', 'web', '-n', 'me2e-k1', '--tcp=80:8080')).toBe('service/web created\n');
    const svc = JSON.parse(await ok('get', 'svc', 'web', '-n', 'me2e-k1', '-o', 'json')) as { spec: unknown };
    expect(svc.spec).toEqual({ type: 'ClusterIP', sessionAffinity: 'None', selector: { app: 'web' }, ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }] });
  });

  it('deletes from a file, then the namespace', async () => {
    expect(await ok('delete', '-n', 'me2e-k1', '-f', join(ts.dir, 'workload.yaml')))
      .toBe('networkattachmentdefinition.k8s.cni.cncf.io "macvlan-a" deleted\npod "p1" deleted\n');
    expect(await ok('get', 'pods,net-attach-def', '-n', 'me2e-k1', '-o', 'name')).toBe('');
    expect(await ok('create', 'configmap', 'cm1', '-n', 'me2e-k1', '--from-literal=a=b')).toBe('configmap/cm1 created\n');
    expect(await ok('delete', 'namespace', 'me2e-k1')).toBe('namespace "me2e-k1" deleted\n');
    const ns = await ok('get', 'ns', '-o', 'name');
    expect(ns.split('\n').filter(Boolean).sort()).toEqual(['namespace/default', 'namespace/kube-public', 'namespace/kube-system']);
  });
});
