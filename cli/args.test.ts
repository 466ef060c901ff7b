import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.ts';

// Plugin and control-plane paths must exist, so the tests name real (empty) files under a scratch dir.
const scratch = mkdtempSync(path.join(tmpdir(), 'args-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
function file(rel: string): string {
  const full = path.join(scratch, rel);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, '');
  return full;
}

describe('parseCommand', () => {
  it('gives run its defaults', () => {
    const cmd = parseCommand(['run'], '/home/u/proj');
    expect(cmd).toEqual({
      kind: 'run', provider: 'local', plugin: { kind: 'bundled' }, multusConfig: 'delegates', controlPlane: {}, keep: false, nodes: 2,
      reportsDir: '/home/u/proj/reports', noVm: false, name: 'me2e', workDir: '/var/tmp/multus-e2e/me2e', kindOptions: {},
    });
  });

  it('parses every run option, resolving paths against the working directory', () => {
    const multus = file('my/multus');
    const cmd = parseCommand(['run', '--provider', 'vm', '--tags', '@macvlan and not @slow', '--plugin', './my/multus', '--keep',
      '--nodes', '3', '--reports-dir', 'out', '--no-vm', '--name', 'ci-1', '--work-dir', 'wd', '--multus-config', 'cluster-network-file'], scratch);
    expect(cmd).toEqual({
      kind: 'run', provider: 'vm', tags: '@macvlan and not @slow', plugin: { kind: 'thin', path: multus }, multusConfig: 'cluster-network-file',
      controlPlane: {}, keep: true, nodes: 3, reportsDir: path.join(scratch, 'out'), noVm: true, name: 'ci-1', workDir: path.join(scratch, 'wd'), kindOptions: {},
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
    const multus = file('bin/multus');
    expect(parseCommand(['cluster', 'up', '--nodes', '1', '--plugin', multus])).toMatchObject({ action: 'up', nodes: 1, plugin: { kind: 'thin', path: multus }, multusConfig: 'delegates' });
    expect(() => parseCommand(['cluster'])).toThrow(/cluster needs exactly one of up\|down\|status\|kubeconfig/);
    expect(() => parseCommand(['cluster', 'restart'])).toThrow(/got "restart"/);
    expect(() => parseCommand(['cluster', 'up', '--provider', 'vm'])).toThrow(/local or kind/);
  });

  it('puts the Allure report beside the results unless told otherwise', () => {
    expect(parseCommand(['report'], '/p')).toEqual({ kind: 'report', reportsDir: '/p/reports', output: '/p/reports/allure-report', maxLatencyRegression: 0.25 });
    expect(parseCommand(['report', '--reports-dir', '/r', '--output', 'html'], '/p')).toEqual({ kind: 'report', reportsDir: '/r', output: '/p/html', maxLatencyRegression: 0.25 });
  });

  it('takes the kind settings only with --provider kind, and --cluster-name as --name', () => {
    expect(parseCommand(['run', '--provider', 'kind', '--kind-image', 'kindest/node:v1.31.0', '--plugin-image', 'multus:thin', '--cluster-name', 'rel'], '/p'))
      .toMatchObject({ name: 'rel', kindOptions: { image: 'kindest/node:v1.31.0', pluginImage: 'multus:thin' } });
    expect(() => parseCommand(['run', '--kind-image', 'kindest/node:v1.31.0'])).toThrow(/need --provider kind/);
    expect(() => parseCommand(['cluster', 'up', '--name', 'a', '--cluster-name', 'b'])).toThrow(/disagree/);
    expect(parseCommand(['cluster', 'up', '--provider', 'kind', '--kind-image', 'img'], '/p')).toMatchObject({ kindOptions: { image: 'img' } });
  });

  it('reads --plugin as bundled, thin:PATH, a bare PATH (thin) or thick:SHIM,DAEMON, resolved against the working directory', () => {
    const [thin, shim, daemon] = [file('up/multus'), file('up/multus-shim'), file('up/multus-daemon')];
    expect(parseCommand(['run', '--plugin', 'bundled'], scratch)).toMatchObject({ plugin: { kind: 'bundled' } });
    // The bundled build's thick mode: its shim and daemon from plugin/dist, whatever the working directory.
    expect(parseCommand(['run', '--plugin', 'bundled-thick'], scratch)).toMatchObject({
      plugin: { kind: 'thick', shim: expect.stringMatching(/\/plugin\/dist\/multus-shim$/), daemon: expect.stringMatching(/\/plugin\/dist\/multus-daemon$/) },
    });
    expect(parseCommand(['run', '--plugin', 'thin:up/multus'], scratch)).toMatchObject({ plugin: { kind: 'thin', path: thin } });
    expect(parseCommand(['run', '--plugin', 'up/multus'], scratch)).toMatchObject({ plugin: { kind: 'thin', path: thin } });
    expect(parseCommand(['cluster', 'up', '--plugin', 'thick:up/multus-shim,up/multus-daemon'], scratch))
      .toMatchObject({ plugin: { kind: 'thick', shim, daemon } });
  });

  it('names the missing file or the malformed thick value in the usage error', () => {
    file('up/multus-shim');
    expect(() => parseCommand(['run', '--plugin', 'nope/multus'], scratch)).toThrow(`--plugin: ${path.join(scratch, 'nope/multus')} does not exist`);
    expect(() => parseCommand(['run', '--plugin', 'thin:'], scratch)).toThrow(/--plugin needs a file path/);
    expect(() => parseCommand(['run', '--plugin', 'thin:up'], scratch)).toThrow(`--plugin: ${path.join(scratch, 'up')} is not a file`);
    expect(() => parseCommand(['run', '--plugin', 'thick:up/multus-shim,gone'], scratch)).toThrow(`--plugin thick: daemon: ${path.join(scratch, 'gone')} does not exist`);
    for (const bad of ['thick:up/multus-shim', 'thick:a,b,c', 'thick:,b']) {
      expect(() => parseCommand(['run', '--plugin', bad], scratch)).toThrow(/needs exactly two paths, the shim and the daemon/);
    }
    expect(() => parseCommand(['run', '--plugin', ''], scratch)).toThrow(UsageError);
  });

  it('takes --multus-config delegates or cluster-network-file only', () => {
    expect(parseCommand(['cluster', 'up', '--multus-config', 'cluster-network-file'])).toMatchObject({ multusConfig: 'cluster-network-file' });
    expect(() => parseCommand(['run', '--multus-config', 'auto'])).toThrow(/--multus-config must be one of delegates, cluster-network-file, got "auto"/);
  });

  it('takes a real control plane on the local provider only, each file checked', () => {
    const [apiserver, etcd] = [file('cp/kube-apiserver'), file('cp/etcd')];
    expect(parseCommand(['run', '--kube-apiserver', 'cp/kube-apiserver', '--etcd', 'cp/etcd'], scratch)).toMatchObject({ controlPlane: { kubeApiserver: apiserver, etcd } });
    expect(parseCommand(['cluster', 'up', '--etcd', etcd], scratch)).toMatchObject({ controlPlane: { etcd } });
    expect(() => parseCommand(['run', '--kube-apiserver', 'cp/missing', '--etcd', etcd], scratch)).toThrow(`--kube-apiserver: ${path.join(scratch, 'cp/missing')} does not exist`);
    expect(() => parseCommand(['run', '--provider', 'kind', '--kube-apiserver', apiserver, '--etcd', etcd])).toThrow(/need --provider local/);
  });
  it('takes --expect (an existing file) and --claim on run', () => {
    const expectations = file('expectations/thin.yaml');
    expect(parseCommand(['run', '--expect', expectations, '--claim', 'default-route, thick,default-route'], scratch))
      .toMatchObject({ kind: 'run', expect: expectations, claims: ['default-route', 'thick'] });
    expect(() => parseCommand(['run', '--expect', 'nope.yaml'], scratch)).toThrow(`--expect: ${path.join(scratch, 'nope.yaml')} does not exist`);
    expect(() => parseCommand(['run', '--claim', 'Default_Route'])).toThrow(/--claim takes feature names as in @extended:<feature>.*"Default_Route"/);
  });

  it('builds compare as two runs of the same scenarios, each with its own cluster, reports dir and expectations', () => {
    const thin = file('bin/multus');
    const expectB = file('expectations/b.yaml');
    const cmd = parseCommand(['compare', '--plugin', 'bundled', '--plugin', thin, '--tags', '@core', '--no-vm', '--name', 'hc',
      '--expect-b', expectB, '--max-latency-regression', '0.5', '--reports-dir', 'cmp'], '/p');
    expect(cmd).toMatchObject({ kind: 'compare', reportsDir: '/p/cmp', maxLatencyRegression: 0.5 });
    if (cmd.kind !== 'compare') throw new Error('not a compare command');
    const [a, b] = cmd.runs;
    expect(a).toMatchObject({ kind: 'run', plugin: { kind: 'bundled' }, name: 'hc-a', workDir: '/var/tmp/multus-e2e/hc-a', reportsDir: '/p/cmp/a', tags: '@core', noVm: true, keep: false });
    expect(a.expect).toBeUndefined();
    expect(b).toMatchObject({ plugin: { kind: 'thin', path: thin }, name: 'hc-b', reportsDir: '/p/cmp/b', expect: expectB });
    expect(parseCommand(['compare', '--plugin', 'bundled', '--plugin', 'bundled'], '/p')).toMatchObject({ reportsDir: '/p/reports/compare', maxLatencyRegression: 0.25 });
  });

  it('refuses compare without exactly two plugins, and bad thresholds', () => {
    expect(() => parseCommand(['compare', '--plugin', 'bundled'])).toThrow('compare needs --plugin exactly twice (A, then B), got 1');
    expect(() => parseCommand(['compare', '--plugin', 'bundled', '--plugin', 'bundled', '--max-latency-regression', 'fast'])).toThrow('--max-latency-regression must be a fraction ≥ 0 (0.25 allows up to 1.25×), got "fast"');
    expect(() => parseCommand(['compare', '--plugin', 'bundled', '--plugin', 'bundled', '--keep'])).toThrow(/Unknown option '--keep'/);
    expect(() => parseCommand(['compare', '--plugin', 'bundled', '--plugin', 'bundled', '--name', 'x'.repeat(40)])).toThrow(/--name must be/);
  });

  it('takes --baseline (an existing dir) and the latency threshold on report', () => {
    mkdirSync(path.join(scratch, 'earlier'), { recursive: true });
    expect(parseCommand(['report', '--baseline', 'earlier', '--max-latency-regression', '0.1'], scratch))
      .toMatchObject({ kind: 'report', baseline: path.join(scratch, 'earlier'), maxLatencyRegression: 0.1 });
    expect(() => parseCommand(['report', '--baseline', 'gone'], scratch)).toThrow(`--baseline: ${path.join(scratch, 'gone')} does not exist`);
  });
});
