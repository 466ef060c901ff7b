// The generic step of scenarios generated from a repro (repro/feature.ts) whose shape no other sentence
// says: the repro's objects applied as they are, in the scenario's own namespace (the pods' namespace
// becomes the scenario's, every other one a per-scenario namespace), node-local CNI configs on every node.
import path from 'node:path';
import { When } from '@cucumber/cucumber';
import type { CniConfig } from '../fixtures/templates.ts';
import { loadRepro, manifestsOf, podSpecOf } from '../repro/manifests.ts';
import { NODE_MULTUS_CONF_DIR, writeNodeFile } from './multus-config.ts';
import type { E2EWorld } from './world.ts';

const PACKAGE_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

When('the manifests of the repro {string} are applied', async function (this: E2EWorld, reproPath: string) {
  const input = loadRepro(path.resolve(PACKAGE_ROOT, reproPath));
  if (input.multusSettings || input.daemonConfig) throw new Error(`${reproPath} sets Multus settings or a daemon config; a scenario cannot apply those (run the repro itself: multus-e2e repro ${reproPath})`);
  const home = manifestsOf(input, 'Pod')[0]?.object.metadata.namespace ?? 'default';
  const realNs = async (ns: string | undefined): Promise<string> => {
    if (ns === undefined || ns === home) return this.namespace;
    return this.extraNamespaces.get(ns) ?? this.createNamespace(ns);
  };
  for (const m of manifestsOf(input, 'Namespace')) if (m.object.metadata.name !== home) await realNs(m.object.metadata.name);
  for (const [file, content] of Object.entries(input.nodeCniConfigs)) {
    const target = `${NODE_MULTUS_CONF_DIR}/${file}`;
    for (const node of await this.cluster.nodeNames()) {
      this.cleanups.push({ what: `removing ${target} on ${node}`, run: async () => void (await this.nodeExecOk(node, ['rm', '-f', target])) });
      await writeNodeFile(this, node, target, content);
    }
  }
  for (const m of manifestsOf(input, 'NetworkAttachmentDefinition')) {
    const text = (m.object as { spec?: { config?: string } }).spec?.config;
    const config = text && text.trim() !== '' ? (JSON.parse(text) as CniConfig) : undefined;
    const ns = m.object.metadata.namespace;
    await this.createNad(await realNs(ns), m.object.metadata.name, config, {
      ...(ns !== home ? { reference: `${ns}/${m.object.metadata.name}` } : {}),
      ...(m.object.metadata.annotations ? { annotations: m.object.metadata.annotations } : {}),
    });
  }
  for (const m of manifestsOf(input, 'Pod')) {
    const spec = podSpecOf(m);
    const resources = Object.assign({}, ...spec.containers.map((c) => c.resources?.limits ?? {})) as Record<string, string>;
    const annotations = Object.fromEntries(Object.entries(m.object.metadata.annotations ?? {}).map(([k, v]) => [k, this.realText(v)]));
    await this.createPod({
      name: m.object.metadata.name,
      ...(spec.nodeName && /^node-\d+$/.test(spec.nodeName) ? { node: await this.nodeNamed(spec.nodeName) } : {}),
      annotations,
      resources,
    });
  }
});
