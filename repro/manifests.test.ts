import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { impliedNamespaces, loadNodeFiles, loadRepro, parseManifests, ReproInputError } from './manifests.ts';

const dirs: string[] = [];
function reproDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-test-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: a
  namespace: team
  annotations:
    k8s.v1.cni.cncf.io/networks: net-a
spec:
  containers: [{ name: app, image: pause }]
`;
const NAD = `apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata: { name: net-a, namespace: team }
spec:
  config: '{"cniVersion":"1.0.0","name":"net-a","type":"macvlan","master":"eth1"}'
`;

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ReproInputError) return err.problems;
    throw err;
  }
  throw new Error('expected a ReproInputError');
}

describe('repro manifests', () => {
  it('reads multi-document YAML in any order, skipping empty documents, and defaults the namespace', () => {
    const problems: string[] = [];
    const out = parseManifests(`---\n${POD}---\n---\n${NAD}---\napiVersion: v1\nkind: Pod\nmetadata: { name: b }\nspec: { containers: [{ name: c, image: i }] }\n`, 'x.yaml', problems);
    expect(problems).toEqual([]);
    expect(out.map((m) => `${m.kind} ${m.object.metadata.namespace}/${m.object.metadata.name} ${m.source}`)).toEqual([
      'Pod team/a x.yaml document 1', 'NetworkAttachmentDefinition team/net-a x.yaml document 3', 'Pod default/b x.yaml document 4',
    ]);
  });

  it('names the file, the document and the field of every problem at once', () => {
    const dir = reproDir({
      'a.yaml': `${POD}---\napiVersion: v1\nkind: Pod\nmetadata: { name: Bad_Name }\nspec: { containers: [{ name: c }] }\n`,
      'b.yaml': `apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: { name: n }\nspec: { config: '{not json' }\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }\n`,
    });
    const problems = problemsOf(() => loadRepro(dir));
    expect(problems).toContainEqual(expect.stringMatching(/\/a\.yaml document 2 \(Pod "Bad_Name"\): metadata\.name: must be a DNS subdomain/));
    expect(problems).toContainEqual(`${dir}/a.yaml document 2 (Pod "Bad_Name"): spec.containers[0].image: missing (required)`);
    expect(problems).toContainEqual(expect.stringMatching(/\/b\.yaml document 1 \(NetworkAttachmentDefinition "n"\): spec\.config: is not JSON/));
    expect(problems).toContainEqual(expect.stringMatching(/\/b\.yaml document 2: kind: "Deployment" is not supported; a repro holds Namespace, NetworkAttachmentDefinition, Pod/));
  });

  it('reports YAML syntax errors and string-only annotation values', () => {
    const problems: string[] = [];
    parseManifests('apiVersion: v1\nkind: Pod\nmetadata: { name: a, annotations: { x: 1 } }\nspec: { containers: [{ name: c, image: i }] }\n---\nkey: [unclosed\n', 'p.yaml', problems);
    expect(problems[0]).toBe('p.yaml document 1 (Pod "a"): metadata.annotations.x: every value must be a string (quote numbers and booleans)');
    expect(problems[1]).toMatch(/^p\.yaml document 2: not valid YAML/);
  });

  it('reads nodes.yaml, node-local configs, Multus settings; refuses unknown node needs and duplicates', () => {
    const ok = loadRepro(reproDir({ 'p.yaml': POD + '---\n' + NAD, 'nodes.yaml': 'nodes: 3\nnetdevsim VFs: 4\n', 'multus-config.json': '{"namespaceIsolation": true}', 'net.d/x.conf': '{"name":"x","type":"macvlan"}' }));
    expect(ok.nodeNeeds).toEqual({ nodes: 3, 'netdevsim VFs': 4 });
    expect(ok.multusSettings).toEqual({ namespaceIsolation: true });
    expect(Object.keys(ok.nodeCniConfigs)).toEqual(['x.conf']);
    const problems = problemsOf(() => loadRepro(reproDir({ 'p.yaml': `${POD}---\n${POD}`, 'nodes.yaml': 'netdevsim vfs: 4\n', 'net.d/y.txt': '{}' })));
    expect(problems).toContainEqual(expect.stringMatching(/^.*nodes\.yaml: Unrecognized key: "netdevsim vfs"; it may say "nodes: N" and "netdevsim VFs: N"/));
    expect(problems).toContainEqual(expect.stringMatching(/net\.d\/y\.txt: a node-local CNI config must end in \.conf, \.conflist or \.json/));
    expect(problems).toContainEqual(expect.stringMatching(/document 2: Pod team\/a is already defined in .*document 1/));
  });

  it('needs a pod, and netdevsim VFs in nodes.yaml for a pod asking for netdevsim.io/vf', () => {
    expect(problemsOf(() => loadRepro(reproDir({ 'n.yaml': NAD })))).toEqual([expect.stringMatching(/no Pod in any manifest/)]);
    const vfPod = POD.replace('containers: [{ name: app, image: pause }]', 'containers: [{ name: app, image: pause, resources: { limits: { netdevsim.io/vf: "1" } } }]');
    expect(problemsOf(() => loadRepro(reproDir({ 'p.yaml': vfPod })))).toEqual([expect.stringMatching(/asks for netdevsim\.io\/vf, but nodes\.yaml does not say "netdevsim VFs: N"/)]);
  });

  it('lists namespaces the objects use but no document creates', () => {
    const input = loadRepro(reproDir({ 'p.yaml': `${POD}---\napiVersion: v1\nkind: Namespace\nmetadata: { name: other }\n` }));
    expect(impliedNamespaces(input, ['default'])).toEqual(['team']);
  });

  it('loads cluster up\'s node files, naming a missing one', () => {
    const dir = reproDir({ 's.json': '{"logLevel":"debug"}' });
    expect(loadNodeFiles({ multusSettings: path.join(dir, 's.json') }).multusSettings).toEqual({ logLevel: 'debug' });
    expect(problemsOf(() => loadNodeFiles({ daemonConfig: path.join(dir, 'nope.json') }))).toEqual([`daemonConfig: ${path.join(dir, 'nope.json')} does not exist`]);
  });
});
