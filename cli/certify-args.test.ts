// `certify` argument parsing: profiles, --plugin only with profile full, the cluster's work dir from --name.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { parseCertifyCommand } from './certify-args.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const base = ['--delegate', '/usr/bin/env', '--config', 'fixtures/certify/macvlan.json'];

describe('certify arguments', () => {
  it('defaults to profile spec with the bundled plugin', () => {
    expect(parseCertifyCommand(base, ROOT)).toMatchObject({ kind: 'certify', profile: 'spec', plugin: { kind: 'bundled' }, name: 'certify', workDir: '/var/tmp/multus-e2e/certify' });
  });

  it('takes profile full with a plugin as run spells it, and its cluster after --name', () => {
    const cmd = parseCertifyCommand([...base, '--profile', 'full', '--plugin', 'bundled-thick', '--name', 'c1'], ROOT);
    expect(cmd).toMatchObject({ profile: 'full', plugin: { kind: 'thick' }, workDir: '/var/tmp/multus-e2e/c1' });
  });

  it('refuses --plugin without profile full, and unknown profiles', () => {
    expect(() => parseCertifyCommand([...base, '--plugin', 'bundled'], ROOT)).toThrow(/--plugin is for --profile full/);
    expect(() => parseCertifyCommand([...base, '--profile', 'kind'], ROOT)).toThrow(UsageError);
    expect(() => parseCertifyCommand([...base, '--profile', 'kind'], ROOT)).toThrow(/spec, full/);
  });
});
