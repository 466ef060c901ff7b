import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactObject, redactText, redactTree } from './redact.ts';

const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';

describe('redaction', () => {
  it('replaces Secret data (in lists too), kubeconfig tokens and client keys, and collects the values', () => {
    const found = new Set<string>();
    const list = redactObject({
      kind: 'SecretList',
      items: [{ metadata: { name: 's', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}' } }, data: { password: 'aHVudGVyMg==' }, type: 'Opaque' }],
    }, found) as { items: { data: Record<string, string>; type: string; metadata: { annotations: Record<string, string> } }[] };
    expect(list.items[0]!.data.password).toBe(REDACTED);
    expect(list.items[0]!.type).toBe('Opaque');
    expect(list.items[0]!.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBe(REDACTED);
    const kubeconfig = redactObject({ users: [{ name: 'u', user: { token: 'abcdef123456', 'client-key-data': 'S0VZS0VZ' } }], clusters: [{ cluster: { server: 'https://x' } }] }, found);
    expect(JSON.stringify(kubeconfig)).not.toMatch(/abcdef123456|S0VZS0VZ/);
    expect(JSON.stringify(kubeconfig)).toContain('https://x');
    expect([...found].sort()).toEqual(['S0VZS0VZ', 'aHVudGVyMg==', 'abcdef123456', 'hunter2'].sort());
  });

  it('leaves non-credential fields alone (serviceAccountName, automountServiceAccountToken)', () => {
    const pod = { kind: 'Pod', spec: { serviceAccountName: 'default', automountServiceAccountToken: false } };
    expect(redactObject(pod)).toEqual(pod);
  });

  it('scrubs known values, JWTs and bearer headers from text, and a whole directory tree', () => {
    expect(redactText(`token ${JWT} end`, [])).toBe(`token ${REDACTED} end`);
    expect(redactText('Authorization: Bearer abc.def', [])).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactText('x hunter2-long y', ['hunter2-long'])).toBe(`x ${REDACTED} y`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'redact-'));
    try {
      mkdirSync(path.join(dir, 'a'));
      writeFileSync(path.join(dir, 'a', 'log.jsonl'), `{"msg":"call","token":"s3cr3t-value"}\n{"jwt":"${JWT}"}\n`);
      redactTree(dir, ['s3cr3t-value']);
      const text = readFileSync(path.join(dir, 'a', 'log.jsonl'), 'utf8');
      expect(text).not.toContain('s3cr3t-value');
      expect(text).not.toContain('eyJ');
      expect(text.match(new RegExp(REDACTED, 'g'))).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
