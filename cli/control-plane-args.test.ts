import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand, UsageError, type ClusterCommand, type MatrixCommand, type RunCommand } from './args.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'cp-args-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const apiserver = path.join(scratch, 'kube-apiserver');
const etcd = path.join(scratch, 'etcd');
writeFileSync(apiserver, '');
writeFileSync(etcd, '');

const usage = (argv: string[]) => {
  try {
    parseCommand(argv, scratch);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`${argv.join(' ')} parsed`);
};

describe('--control-plane', () => {
  it('container:VERSION with images for run and cluster up', () => {
    const run = parseCommand(['run', '--control-plane', 'container:v1.20.2', '--apiserver-image', 'k8s.gcr.io/kube-apiserver:v1.20.2',
      '--etcd-image', 'k8s.gcr.io/etcd:3.4.13-0'], scratch) as RunCommand;
    expect(run.controlPlane).toEqual({ controlPlaneImages: { version: 'v1.20.2', apiserverImage: 'k8s.gcr.io/kube-apiserver:v1.20.2', etcdImage: 'k8s.gcr.io/etcd:3.4.13-0' } });
    const up = parseCommand(['cluster', 'up', '--control-plane', 'container:v1.31.0'], scratch) as ClusterCommand;
    expect(up.controlPlane).toEqual({ controlPlaneImages: { version: 'v1.31.0' } });
  });

  it('binaries is the --kube-apiserver/--etcd pair', () => {
    const run = parseCommand(['run', '--control-plane', 'binaries', '--kube-apiserver', apiserver, '--etcd', etcd], scratch) as RunCommand;
    expect(run.controlPlane).toEqual({ kubeApiserver: apiserver, etcd });
    expect(usage(['run', '--control-plane', 'binaries', '--etcd', etcd])).toBe('--control-plane binaries needs --kube-apiserver and --etcd');
  });

  it('names what is wrong', () => {
    expect(usage(['run', '--control-plane', 'container:1.20'])).toMatch(/^--control-plane must be container:VERSION .* got "container:1.20"$/);
    expect(usage(['run', '--etcd-image', 'x'])).toBe('--apiserver-image and --etcd-image need --control-plane container:VERSION');
    expect(usage(['run', '--control-plane', 'container:v1.20.2', '--etcd', etcd])).toMatch(/runs the control plane from images: drop --kube-apiserver and --etcd/);
    expect(usage(['run', '--provider', 'kind', '--control-plane', 'container:v1.20.2'])).toMatch(/need --provider local/);
    expect(usage(['run', '--control-plane', 'container:v1.20.2', '--apiserver-image', 'Bad Image'])).toMatch(/^--apiserver-image must be an image reference/);
  });
});

describe('compare with several control planes: a matrix', () => {
  it('one run per control plane, each with its own cluster and reports dir', () => {
    const cmd = parseCommand(['compare', '--control-plane', 'binaries', '--control-plane', 'container:v1.20.2', '--kube-apiserver', apiserver, '--etcd', etcd,
      '--etcd-image', 'k8s.gcr.io/etcd:3.4.13-0', '--name', 'mx', '--reports-dir', 'out', '--no-vm', '--tags', '@core'], scratch) as MatrixCommand;
    expect(cmd.kind).toBe('matrix');
    expect(cmd.reportsDir).toBe(path.join(scratch, 'out'));
    expect(cmd.entries.map((e) => [e.label, e.run.name, e.run.reportsDir, e.run.controlPlane, e.run.tags, e.run.noVm])).toEqual([
      ['binaries', 'mx-1', path.join(scratch, 'out', 'binaries'), { kubeApiserver: apiserver, etcd }, '@core', true],
      ['container:v1.20.2', 'mx-2', path.join(scratch, 'out', 'container-v1.20.2'), { controlPlaneImages: { version: 'v1.20.2', etcdImage: 'k8s.gcr.io/etcd:3.4.13-0' } }, '@core', true],
    ]);
  });

  it('the same control plane twice needs labels; labels name the columns', () => {
    expect(usage(['compare', '--control-plane', 'container:v1.20.2', '--control-plane', 'container:v1.20.2'])).toMatch(/is given twice: label the entries/);
    const cmd = parseCommand(['compare', '--control-plane', 'first=container:v1.20.2', '--control-plane', 'second=container:v1.20.2', '--control-plane', 'third=container:v1.21.1'], scratch) as MatrixCommand;
    expect(cmd.entries.map((e) => [e.label, e.run.name])).toEqual([['first', 'me2e-1'], ['second', 'me2e-2'], ['third', 'me2e-3']]);
  });

  it('refuses what belongs to a plugin comparison, and images shared by two versions', () => {
    expect(usage(['compare', '--control-plane', 'a=container:v1.20.2', '--control-plane', 'b=container:v1.20.2', '--plugin', 'bundled', '--plugin', 'bundled']))
      .toMatch(/give --plugin at most once, got 2/);
    expect(usage(['compare', '--control-plane', 'a=container:v1.20.2', '--control-plane', 'b=container:v1.20.2', '--expect-a', 'x'])).toMatch(/^--expect-a compares two plugins/);
    expect(usage(['compare', '--control-plane', 'container:v1.20.2', '--control-plane', 'container:v1.21.1', '--apiserver-image', 'x:1']))
      .toMatch(/name the images of one version, but the matrix has container:v1.20.2, container:v1.21.1/);
  });

  it('one --control-plane still compares two plugins, both on that control plane', () => {
    const cmd = parseCommand(['compare', '--plugin', 'bundled', '--plugin', 'bundled-thick', '--control-plane', 'container:v1.20.2'], scratch);
    expect(cmd.kind).toBe('compare');
    if (cmd.kind === 'compare') expect(cmd.runs.map((r) => r.controlPlane)).toEqual([{ controlPlaneImages: { version: 'v1.20.2' } }, { controlPlaneImages: { version: 'v1.20.2' } }]);
  });
});
