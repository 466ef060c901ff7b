import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.ts';

describe('parseCommand', () => {
  it('gives run its defaults', () => {
    const cmd = parseCommand(['run'], '/home/u/proj');
    expect(cmd).toEqual({
      kind: 'run', provider: 'local', plugin: { kind: 'bundled' }, keep: false, nodes: 2,
      reportsDir: '/home/u/proj/reports', noVm: false, name: 'me2e', workDir: '/var/tmp/multus-e2e/me2e', kindOptions: {},
    });
  });

  it('parses every run option, resolving paths against the working directory', () => {
    const cmd = parseCommand(['run', '--provider', 'vm', '--tags', '@macvlan and not @slow', '--plugin', './my/multus', '--keep',
      '--nodes', '3', '--reports-dir', 'out', '--no-vm', '--name', 'ci-1', '--work-dir', 'wd'], '/p');
    expect(cmd).toEqual({
      kind: 'run', provider: 'vm', tags: '@macvlan and not @slow', plugin: { kind: 'path', path: '/p/my/multus' }, keep: true,
      nodes: 3, reportsDir: '/p/out', noVm: true, name: 'ci-1', workDir: '/p/wd', kindOptions: {},
    });
  });

  it('rejects unknown providers, bad node counts, bad names and unknown options with a usage error', () => {
    expect(() => parseCommand(['run', '--provider', 'docker'])).toThrow(/--provider must be one of local, vm, kind, got "docker"/);
    expect(() => parseCommand(['run', '--nodes', '0'])).toThrow(/--nodes must be a whole number/);
    expect(() => parseCommand(['run', '--nodes', '2.5'])).toThrow(UsageError);
    expect(() => parseCommand(['run', '--name', 'Bad_Name'])).toThrow(/--name must be/);
    expect(() => parseCommand(['run', '--bogus'])).toThrow(/Unknown option '--bogus'/);
    expect(() => parseCommand(['frobnicate'])).toThrow(/unknown command "frobnicate"/);
  });

  it('answers --help on every command', () => {
    for (const argv of [[], ['--help'], ['run', '--help'], ['cluster', '-h'], ['report', '--help']]) {
      const cmd = parseCommand(argv);
      expect(cmd.kind).toBe('help');
      if (cmd.kind === 'help') expect(cmd.text).toMatch(/^Usage: multus-e2e/);
    }
  });

  it('parses cluster actions and refuses a missing or unknown one', () => {
    expect(parseCommand(['cluster', 'kubeconfig', '--name', 'dev'], '/p')).toMatchObject({ kind: 'cluster', action: 'kubeconfig', name: 'dev', workDir: '/var/tmp/multus-e2e/dev' });
    expect(parseCommand(['cluster', 'up', '--nodes', '1', '--plugin', '/bin/multus'])).toMatchObject({ action: 'up', nodes: 1, plugin: { kind: 'path', path: '/bin/multus' } });
    expect(() => parseCommand(['cluster'])).toThrow(/cluster needs exactly one of up\|down\|status\|kubeconfig/);
    expect(() => parseCommand(['cluster', 'restart'])).toThrow(/got "restart"/);
    expect(() => parseCommand(['cluster', 'up', '--provider', 'vm'])).toThrow(/local or kind/);
  });

  it('puts the Allure report beside the results unless told otherwise', () => {
    expect(parseCommand(['report'], '/p')).toEqual({ kind: 'report', reportsDir: '/p/reports', output: '/p/reports/allure-report' });
    expect(parseCommand(['report', '--reports-dir', '/r', '--output', 'html'], '/p')).toEqual({ kind: 'report', reportsDir: '/r', output: '/p/html' });
  });

  it('takes the kind settings only with --provider kind, and --cluster-name as --name', () => {
    expect(parseCommand(['run', '--provider', 'kind', '--kind-image', 'kindest/node:v1.31.0', '--plugin-image', 'multus:thin', '--cluster-name', 'rel'], '/p'))
      .toMatchObject({ name: 'rel', kindOptions: { image: 'kindest/node:v1.31.0', pluginImage: 'multus:thin' } });
    expect(() => parseCommand(['run', '--kind-image', 'kindest/node:v1.31.0'])).toThrow(/need --provider kind/);
    expect(() => parseCommand(['cluster', 'up', '--name', 'a', '--cluster-name', 'b'])).toThrow(/disagree/);
    expect(parseCommand(['cluster', 'up', '--provider', 'kind', '--kind-image', 'img'], '/p')).toMatchObject({ kindOptions: { image: 'img' } });
  });
});
