import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFeature, parseExpectation } from './feature.ts';
import { loadRepro, parseManifests, type ReproInput } from './manifests.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const EXAMPLES = ['two-nads-one-macvlan-master', 'default-route-override', 'sriov-vf'];

function inputOf(yaml: string): ReproInput {
  const problems: string[] = [];
  const manifests = parseManifests(yaml, 'x.yaml', problems);
  expect(problems).toEqual([]);
  return { source: 'x.yaml', manifests, nodeNeeds: {}, nodeCniConfigs: {} };
}

const pod = (annotation: string, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: a
  annotations:
    k8s.v1.cni.cncf.io/networks: '${annotation}'
spec:
  containers: [{ name: c, image: i${extra} }]
`;
const nad = (name: string, config: string) => `---
apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata: { name: ${name} }
spec:
  config: '${config}'
`;

describe('scenario generation', () => {
  it('the committed scenarios of fixtures/repros are what --to-feature generates', () => {
    for (const example of EXAMPLES) {
      const reproPath = `fixtures/repros/${example}`;
      const committed = readFileSync(path.join(ROOT, 'features', `repro-${example}.feature`), 'utf8');
      // The committed files were written after a run on the bundled plugin (or, for the VF, with --expect running).
      const generated = generateFeature(loadRepro(path.join(ROOT, reproPath)), { title: example.replace(/-/g, ' '), reproPath, expect: { running: true } });
      expect(generated.notes).toEqual([]);
      expect(generated.text).toBe(committed);
    }
  });

  it('uses the suite\'s sentences: macvlan and bridge networks, the comma form, network-status in order', () => {
    const f = generateFeature(inputOf(pod('m, b@blue0') +
      nad('m', '{"cniVersion":"0.3.1","name":"m","type":"macvlan","master":"eth1","mode":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"198.18.90.0/24"}]]}}') +
      nad('b', '{"cniVersion":"1.0.0","name":"b","type":"bridge","bridge":"brb","ipam":{"type":"host-local","ranges":[[{"subnet":"198.18.91.0/24"}]]}}')),
    { title: 't', reproPath: 'r' });
    expect(f.tags).toEqual(['@repro', '@core']);
    expect(f.text).toContain('    Given a macvlan network "m" on master eth1 with subnet 198.18.90.0/24\n    And a bridge network "b" with subnet 198.18.91.0/24\n');
    expect(f.text).toContain('    When pod "a" starts on node-1 attached to "m, b@blue0"\n    Then pod "a" has interface net1 with an IP in 198.18.90.0/24\n    And pod "a" has interface blue0 with an IP in 198.18.91.0/24\n');
    expect(f.text).toContain('      | blue0     | b                 | no      |');
  });

  it('asserts a pod that did not start, with the text --expect names', () => {
    const input = inputOf(pod('m') + nad('m', '{"cniVersion":"1.0.0","name":"m","type":"macvlan","master":"eth9","mode":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"198.18.90.0/24"}]]}}'));
    const f = generateFeature(input, { title: 't', reproPath: 'r', expect: parseExpectation('not-running:eth9') });
    expect(f.text).toContain('    When pod "a" is created on node-1 attached to "m"\n    Then pod "a" does not start, and the reason given names "eth9"\n');
    const observed = generateFeature(input, { title: 't', reproPath: 'r', observations: [{ namespace: 'default', name: 'a', node: 'node-2', phase: 'Pending', running: false, interfaces: [], routes: [], ip: {}, cniCalls: [] }] });
    expect(observed.text).toContain('    When pod "a" is created on node-2 attached to "m"\n    Then pod "a" does not start\n');
  });

  it('falls back to the generic step, saying why, for shapes no sentence creates', () => {
    const f = generateFeature(inputOf(pod('[{"name":"m","cni-args":{"x":1}}]') + nad('m', '{"cniVersion":"1.0.0","name":"m","type":"macvlan","master":"eth1","mode":"private","ipam":{"type":"dhcp"}}')),
      { title: 't', reproPath: 'fixtures/repros/x', level: 'quality' });
    expect(f.notes).toEqual([
      'NAD "m" (macvlan) is not a shape the suite\'s network sentences create',
      'pod "a"\'s networks annotation uses cni-args, which the networks table has no column for',
    ]);
    expect(f.tags).toEqual(['@repro', '@quality']);
    expect(f.text).toContain('    When the manifests of the repro "fixtures/repros/x" are applied\n    Then pod "a" is running\n');
    expect(f.text).toContain('    - pod "a"\'s networks annotation uses cni-args');
  });

  it('rejects an --expect it does not know', () => {
    expect(() => parseExpectation('fails')).toThrow('--expect must be running, not-running or not-running:TEXT');
  });
});
