import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inClusterAccess, loadKubeconfig, reloadToken } from './kubeconfig.ts';
import { parseKubeconfigYaml } from './kubeconfig-yaml.ts';

describe('kubeconfig YAML subset', () => {
  it('parses kubectl-style block mappings and sequences', () => {
    const doc = parseKubeconfigYaml(`apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: QUJD   # comment
    server: https://198.18.0.1:6443
  name: local
contexts:
- context:
    cluster: local
    user: "admin user"
  name: ctx
current-context: ctx
kind: Config
preferences: {}
users:
- name: 'admin user'
  user:
    token: "abc:def"
    insecure: true
`);
    expect(doc).toEqual({
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': 'QUJD', server: 'https://198.18.0.1:6443' }, name: 'local' }],
      contexts: [{ context: { cluster: 'local', user: 'admin user' }, name: 'ctx' }],
      'current-context': 'ctx',
      kind: 'Config',
      preferences: {},
      users: [{ name: 'admin user', user: { token: 'abc:def', insecure: true } }],
    });
  });

  it('rejects constructs it does not understand instead of misreading them', () => {
    expect(() => parseKubeconfigYaml('a: |\n  text\n')).toThrow(/block scalars are not supported/);
  });
});

describe('kubeconfig access', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves the current context with CA file, token file and client cert relative to the file', () => {
    dir = mkdtempSync(join(tmpdir(), 'me2ep-kc-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'token'), 'tok\n');
    writeFileSync(join(dir, 'c.crt'), 'CERT');
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      `apiVersion: v1
current-context: b
clusters:
- name: one
  cluster:
    server: https://198.18.0.1:1/
    certificate-authority: ca.crt
- name: two
  cluster:
    server: https://198.18.0.2:2
    insecure-skip-tls-verify: true
contexts:
- name: a
  context:
    cluster: one
    user: u
- name: b
  context:
    cluster: two
    user: u
users:
- name: u
  user:
    tokenFile: token
    client-certificate: c.crt
    client-key-data: ${Buffer.from('KEY').toString('base64')}
`,
    );
    const a = loadKubeconfig(file);
    expect(a.server).toBe('https://198.18.0.2:2');
    expect(a.insecure).toBe(true);
    expect(a.token).toBe('tok');
    expect(a.cert?.toString()).toBe('CERT');
    expect(a.key?.toString()).toBe('KEY');
    expect(a.ca).toBeUndefined();
  });

  it('reads the service account for in-cluster access', () => {
    dir = mkdtempSync(join(tmpdir(), 'me2ep-sa-'));
    writeFileSync(join(dir, 'token'), 'satoken');
    writeFileSync(join(dir, 'ca.crt'), 'SACA');
    expect(inClusterAccess({}, dir)).toBeUndefined();
    const a = inClusterAccess({ KUBERNETES_SERVICE_HOST: '2001:db8::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(a).toMatchObject({ server: 'https://[2001:db8::1]:443', token: 'satoken' });
    expect(a?.ca?.toString()).toBe('SACA');
  });

  it('reads the service account token again once its file holds another (renewed) one', () => {
    dir = mkdtempSync(join(tmpdir(), 'me2ep-sa-'));
    writeFileSync(join(dir, 'token'), 'old');
    writeFileSync(join(dir, 'ca.crt'), 'SACA');
    const a = inClusterAccess({ KUBERNETES_SERVICE_HOST: '198.18.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir)!;
    expect(reloadToken(a)).toBe(false);
    writeFileSync(join(dir, 'token'), 'new\n');
    expect(reloadToken(a)).toBe(true);
    expect(a.token).toBe('new');
    expect(reloadToken({ server: 'https://198.18.0.1', token: 'inline', insecure: false })).toBe(false);
  });
});
