// The kind provider: real kind clusters through the kind CLI, for users with Docker. create() brings
// up (or reuses) a cluster, gives the workers eth1, installs the reference CNI plugins, the NAD CRD and
// the plugin under test, and waits until every node is Ready with Multus configured.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { POD_IMAGE } from '../../fixtures/templates.ts';
import type { ClusterOptions, ClusterProvider, MultusConfigShape, PluginUnderTest } from '../provider.ts';
import { KIND_CONFIG_FILE, KIND_NETWORK, KindCluster, kindClusterExists, kindNodes, readState, writeState, type KindClusterState } from './cluster.ts';
import { kindConfigYaml, controlPlaneNodeName } from './kind-config.ts';
import { Kubectl } from './kubectl.ts';
import {
  bundledPluginManifests, bundledThickManifests, manifestsYaml, upstreamPluginManifests, upstreamThickManifests, upstreamThinManifests,
  INSTALL_NAME, INSTALL_NAMESPACE, UPSTREAM_DAEMONSET, type K8sObject,
} from './manifests.ts';
import { CNI_CONF_DIR } from './node-paths.ts';
import {
  disableBridgeNetfilter, installNodePayload, installPodTools, installReferencePlugins, payloadDigest, type NodePayload,
} from './node-payload.ts';
import { buildPluginImage, checkPluginImageInputs, type UpstreamPlugin } from './plugin-image.ts';
import { installPrimaryNetwork } from './primary-network.ts';
import { attachEth1, ensureEth1Network, eth1NetworkName } from './second-nic.ts';
import { kindSettingsFromEnv, primaryNetworkLabel, validateClusterName, type KindSettings } from './settings.ts';
import { CommandFailedError, checkPrerequisites, zxRunner, type ToolRunner } from './tools.ts';

export { kindSettingsFromEnv, defaultKindSettings, parsePrimaryNetwork, type KindSettings, type PrimaryNetwork } from './settings.ts';
export { kindNetdevsimAvailability } from './netdevsim.ts';
export { KindCluster } from './cluster.ts';

const READY_TIMEOUT = '300s';
const READY_TIMEOUT_MS = 300_000;
const NAD_CRD = 'network-attachment-definitions.k8s.cni.cncf.io';

/** How the plugin under test gets onto the nodes. */
type Installation =
  /** The bundled plugin (thin, or thick's shim and daemon), installer and Node.js copied into the nodes; a busybox DaemonSet runs the installer (and thick's daemon). */
  | { kind: 'bundled'; payload: NodePayload; installerImage: string }
  /** Upstream thin or thick from the user's binaries: an upstream-shaped DaemonSet with an image built here. */
  | { kind: 'upstream'; plugin: UpstreamPlugin; busybox: string; payload?: NodePayload }
  /** An upstream thin image the user supplies (--plugin-image). */
  | { kind: 'image'; image: string };

/** Decides how to install the plugin, refusing missing files before anything is created. */
function planInstallation(settings: KindSettings, plugin: PluginUnderTest): Installation {
  if (settings.pluginImage) {
    if (plugin.kind !== 'bundled') throw new Error('--plugin-image installs its own plugin: give it without --plugin');
    return { kind: 'image', image: settings.pluginImage };
  }
  const dist = join(settings.repoRoot, 'plugin/dist');
  const needed = (what: string, file: string): string => {
    if (!existsSync(file)) throw new Error(`${what} not found at ${file}${file.startsWith(dist) ? ' (run `npm run build` first)' : ''}`);
    return file;
  };
  const runtime = (): Omit<NodePayload, 'plugin'> => {
    if (!existsSync(settings.nodeBinary)) throw new Error(`Node.js runtime for the nodes not found at ${settings.nodeBinary}`);
    return { nodeBinary: settings.nodeBinary, installer: needed('plugin installer', join(dist, 'multus-install')) };
  };
  if (plugin.kind === 'bundled') {
    return { kind: 'bundled', payload: { ...runtime(), plugin: needed('plugin under test', join(dist, 'multus')) }, installerImage: settings.installerImage };
  }
  // The bundled build's thick mode (its own shim and daemon, as `--plugin bundled-thick` gives them) runs from the node's root like thin.
  if (plugin.kind === 'thick' && resolve(plugin.shim) === join(dist, 'multus-shim') && resolve(plugin.daemon) === join(dist, 'multus-daemon')) {
    const thick = { shim: needed('bundled multus-shim', plugin.shim), daemon: needed('bundled multus-daemon', plugin.daemon) };
    return { kind: 'bundled', payload: { ...runtime(), thick }, installerImage: settings.installerImage };
  }
  const upstream: UpstreamPlugin = plugin.kind === 'thin' ? { kind: 'thin', path: resolve(plugin.path) } : { kind: 'thick', shim: resolve(plugin.shim), daemon: resolve(plugin.daemon) };
  const busybox = checkPluginImageInputs(upstream, settings.busybox);
  // Thin's configuration is written by the bundled installer, which needs Node.js on the nodes; thick's daemon writes its own.
  return { kind: 'upstream', plugin: upstream, busybox, ...(upstream.kind === 'thin' ? { payload: runtime() } : {}) };
}

function crdPath(settings: KindSettings): string {
  const file = join(settings.repoRoot, 'fixtures/crds/network-attachment-definition.yaml');
  if (!existsSync(file)) throw new Error(`NAD CRD manifest not found at ${file}`);
  return file;
}

/**
 * Nothing is pulled: every image the cluster needs must be in the local Docker already (or is built
 * here), so offline machines work and a missing one is named before anything is created.
 */
async function checkImagesPresent(runner: ToolRunner, images: string[]): Promise<void> {
  const missing: string[] = [];
  for (const image of new Set(images)) {
    const found = await runner.run('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { allowFail: true });
    if (found.code !== 0) missing.push(image);
  }
  if (missing.length > 0) {
    throw new Error(
      `the kind provider pulls no images, and ${missing.length === 1 ? 'this one is' : 'these are'} not in the local Docker: ` +
        `${missing.join(', ')}. Make ${missing.length === 1 ? 'it' : 'them'} available first (\`docker pull IMAGE\` where a registry is ` +
        `reachable, or \`docker load\` / \`docker build\` from local files).`,
    );
  }
}

/**
 * Side-loads a local image into the nodes. `kind load docker-image` fails with "content digest … not
 * found" for multi-platform images under Docker's containerd image store (kubernetes-sigs/kind#3795);
 * then the image is saved for its one platform and loaded as an archive, kind's documented workaround.
 */
async function sideLoadImage(runner: ToolRunner, cluster: string, image: string, workDir: string): Promise<void> {
  const loaded = await runner.run('kind', ['load', 'docker-image', image, '--name', cluster], { allowFail: true });
  if (loaded.code === 0) return;
  if (!/content digest .* not found/.test(loaded.stdout + loaded.stderr)) {
    throw new CommandFailedError('kind', ['load', 'docker-image', image, '--name', cluster], loaded);
  }
  const platform = await runner.run('docker', ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', image]);
  const archive = join(workDir, `${image.replace(/[^A-Za-z0-9_.-]/g, '_')}.tar`);
  await runner.run('docker', ['image', 'save', '--platform', platform.stdout.trim(), '--output', archive, image]);
  await runner.run('kind', ['load', 'image-archive', archive, '--name', cluster]);
  rmSync(archive, { force: true });
}

/**
 * The NAD CRD must be served before anything uses it, and kubectl's discovery cache (~/.kube/cache),
 * filled by the provider's own earlier kubectl calls, must know it: otherwise the user's first
 * `kubectl get net-attach-def` after `cluster up` fails with "doesn't have a resource type".
 * `kubectl api-resources` re-reads discovery and rewrites that cache.
 */
async function installNadCrd(kubectl: Kubectl, crd: string): Promise<void> {
  await kubectl.runRetrying(['apply', '-f', crd]);
  await kubectl.run(['wait', '--for=condition=Established', `crd/${NAD_CRD}`, '--timeout=60s']);
  const served = await kubectl.run(['api-resources', '--api-group=k8s.cni.cncf.io', '-o', 'name']);
  if (!served.stdout.split('\n').map((l) => l.trim()).includes(NAD_CRD)) {
    throw new Error(`the API server does not list ${NAD_CRD} after the CRD was established:\n${served.stdout}`);
  }
}

/** Waits until the plugin's installer (or thick's daemon) has written the Multus config on every node. */
async function waitForMultusConfig(runner: ToolRunner, nodes: string[], timeoutMs: number, pollMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const node of nodes) {
    for (;;) {
      const listed = await runner.run('docker', ['exec', node, 'ls', CNI_CONF_DIR], { allowFail: true });
      if (listed.stdout.split('\n').some((f) => f.startsWith('00-multus.conf'))) break;
      if (Date.now() > deadline) throw new Error(`no 00-multus.conf* in ${CNI_CONF_DIR} of ${node} after ${timeoutMs / 1000} s: ${listed.stdout.trim() || listed.stderr.trim()}`);
      await sleep(pollMs);
    }
  }
}

/** Namespace and pod selector of every DaemonSet in a manifest file written by create(). */
function daemonSetsIn(manifestText: string): { namespace: string; selector: string }[] {
  return parseAllDocuments(manifestText)
    .map((doc) => doc.toJS() as K8sObject & { spec?: { selector?: { matchLabels?: Record<string, string> } } })
    .filter((o) => o?.kind === 'DaemonSet')
    .map((o) => ({
      namespace: o.metadata.namespace ?? 'default',
      selector: Object.entries(o.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    }));
}

/**
 * A reused cluster may still run the plugin an earlier run installed from this work dir. Its DaemonSet
 * would keep (or, a thick daemon, rewrite) its 00-multus.conf, and the new run would judge the old plugin.
 * So its objects are deleted, its pods waited out, and then its Multus config leaves every node.
 */
async function removePreviousInstallation(runner: ToolRunner, kubectl: Kubectl, nodes: string[], manifest: string, progress: (line: string) => void): Promise<void> {
  if (!existsSync(manifest)) return;
  progress(`removing the plugin installed earlier on this cluster (${manifest})`);
  const daemonSets = daemonSetsIn(readFileSync(manifest, 'utf8'));
  await kubectl.runRetrying(['delete', '-f', manifest, '--ignore-not-found', '--wait']);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (const ds of daemonSets.filter((d) => d.selector)) {
    for (;;) {
      const left = (await kubectl.run(['-n', ds.namespace, 'get', 'pods', '-l', ds.selector, '-o', 'name'])).stdout.trim();
      if (!left) break;
      if (Date.now() > deadline) throw new Error(`the earlier plugin's pods are still there ${READY_TIMEOUT_MS / 1000} s after deleting its DaemonSet: ${left.replace(/\n/g, ', ')}`);
      await sleep(1000);
    }
  }
  for (const node of nodes) await runner.run('docker', ['exec', node, 'sh', '-c', `rm -rf ${CNI_CONF_DIR}/00-multus.conf* ${CNI_CONF_DIR}/multus.d`]);
  rmSync(manifest, { force: true });
}

function installObjects(installation: Installation, image: string, shape: MultusConfigShape): { objects: K8sObject[]; daemonSet: string } {
  switch (installation.kind) {
    case 'bundled':
      return {
        objects: installation.payload.thick
          ? bundledThickManifests(image, payloadDigest(installation.payload))
          : bundledPluginManifests(image, payloadDigest(installation.payload), shape),
        daemonSet: INSTALL_NAME,
      };
    case 'upstream':
      return {
        objects: installation.plugin.kind === 'thin' ? upstreamThinManifests(image, shape) : upstreamThickManifests(image),
        daemonSet: UPSTREAM_DAEMONSET,
      };
    case 'image':
      return { objects: upstreamPluginManifests(image), daemonSet: INSTALL_NAME };
  }
}

/** The kind provider; destroy() is what `multus-e2e cluster down` falls back to when attach() fails. */
export interface KindProvider extends ClusterProvider {
  create(opts: ClusterOptions): Promise<KindCluster>;
  attach(name: string, workDir: string): Promise<KindCluster>;
  /**
   * Removes a cluster that cannot be attached: with its recorded state, what that state says is ours;
   * without state (lost work dir), the kind cluster of that name and its eth1 network, as asked.
   */
  destroy(name: string, workDir: string): Promise<void>;
}

export function createKindProvider(settings: KindSettings, runner: ToolRunner = zxRunner(settings.env)): KindProvider {
  return {
    name: 'kind',

    async create(opts: ClusterOptions): Promise<KindCluster> {
      const progress = opts.progress ?? (() => {});
      validateClusterName(opts.name);
      // Bad input is refused before anything is created.
      const config = kindConfigYaml({ workers: opts.nodes, disableDefaultCNI: settings.primary.kind !== 'kindnet' });
      const installation = planInstallation(settings, opts.plugin);
      const shape = opts.multusConfig ?? 'delegates';
      const installerWritesConfig = (installation.kind === 'bundled' && !installation.payload.thick) || (installation.kind === 'upstream' && installation.plugin.kind === 'thin');
      if (shape !== 'delegates' && !installerWritesConfig) {
        throw new Error(`--multus-config ${shape} needs a plugin whose config the bundled installer writes (bundled or thin); this plugin's DaemonSet writes its own`);
      }
      const crd = crdPath(settings);
      await checkPrerequisites(runner, settings.env);
      await checkImagesPresent(runner, [
        ...(settings.image ? [settings.image] : []),
        ...(installation.kind === 'bundled' ? [installation.installerImage] : installation.kind === 'image' ? [installation.image] : []),
        POD_IMAGE,
      ]);

      const workDir = resolve(opts.workDir);
      mkdirSync(workDir, { recursive: true });
      let image: string;
      if (installation.kind === 'upstream') {
        progress(`building the upstream ${installation.plugin.kind} Multus image from the given binaries (docker build, FROM scratch)`);
        image = await buildPluginImage(runner, installation.plugin, installation.busybox, workDir);
      } else {
        image = installation.kind === 'bundled' ? installation.installerImage : installation.image;
      }
      const state: KindClusterState = {
        name: opts.name,
        kubeconfigPath: join(workDir, 'kubeconfig'),
        eth1Network: eth1NetworkName(opts.name),
        createdCluster: false,
        createdEth1Network: false,
        installManifest: join(workDir, 'multus-e2e-install.yaml'),
        netdevsimIds: [],
      };
      // A cluster this workDir's earlier `cluster up` created stays ours to delete when it is reused.
      const previous = readState(workDir);
      state.primary = primaryNetworkLabel(settings.primary);
      if (previous?.name === opts.name) {
        if (previous.primary && previous.primary !== state.primary) {
          throw new Error(
            `kind cluster ${opts.name} recorded in ${workDir} was made with the ${previous.primary} primary network and this run asks for ${state.primary}: ` +
              `remove it first (multus-e2e cluster down --provider kind --name ${opts.name} --work-dir ${workDir}) or use another --name`,
          );
        }
        state.createdCluster = previous.createdCluster;
        state.createdEth1Network = previous.createdEth1Network;
        if (previous.createdKindNetwork) state.createdKindNetwork = true;
        state.netdevsimIds = previous.netdevsimIds;
      }
      const cluster = new KindCluster(runner, workDir, state);
      const reused = await kindClusterExists(runner, opts.name);
      if (reused) {
        // Refused before the try: a cluster that does not fit is left as it is, not deleted as a failed create.
        const workers = (await kindNodes(runner, opts.name)).filter((n) => n !== controlPlaneNodeName(opts.name));
        if (workers.length !== opts.nodes) {
          throw new Error(`the existing kind cluster ${opts.name} has ${workers.length} workers and this run asks for ${opts.nodes}: remove it first or use another --name`);
        }
      }
      try {
        if (reused) {
          progress(`reusing existing kind cluster ${opts.name}`);
        } else {
          const configPath = join(workDir, KIND_CONFIG_FILE);
          writeFileSync(configPath, config);
          progress(`creating kind cluster ${opts.name} (1 control plane, ${opts.nodes} workers)`);
          state.createdCluster = true;
          state.createdKindNetwork = (await runner.run('docker', ['network', 'inspect', KIND_NETWORK], { allowFail: true })).code !== 0;
          writeState(workDir, state);
          await runner.run('kind', [
            'create', 'cluster', '--name', opts.name, '--config', configPath, '--kubeconfig', state.kubeconfigPath,
            ...(settings.image ? ['--image', settings.image] : []),
          ]);
        }
        const kubeconfig = await runner.run('kind', ['get', 'kubeconfig', '--name', opts.name]);
        writeFileSync(state.kubeconfigPath, kubeconfig.stdout, { mode: 0o600 });
        const kubectl = new Kubectl(runner, state.kubeconfigPath);

        const nodes = await kindNodes(runner, opts.name);
        const workers = nodes.filter((n) => n !== controlPlaneNodeName(opts.name));
        if (reused) await removePreviousInstallation(runner, kubectl, nodes, state.installManifest, progress);

        progress(`attaching eth1 (${settings.eth1Subnet}) to ${workers.join(', ')}`);
        if (await ensureEth1Network(runner, state.eth1Network, settings.eth1Subnet)) state.createdEth1Network = true;
        writeState(workDir, state);
        for (const worker of workers) await attachEth1(runner, state.eth1Network, worker);

        await installPrimaryNetwork(runner, kubectl, settings.primary);

        const payload = installation.kind === 'image' ? undefined : installation.payload;
        for (const node of nodes) {
          progress(`installing reference CNI plugins${payload ? `, Node.js and the ${payload.plugin || payload.thick ? 'plugin' : 'installer'}` : ''} on ${node}`);
          await installReferencePlugins(runner, node, settings.referencePluginsDir);
          if (payload) await installNodePayload(runner, node, payload);
          const tools = await installPodTools(runner, node, settings.busybox);
          if (tools.unavailable.length > 0) {
            progress(
              `warning: ${node} has no ${tools.unavailable.join(', ')} and no static busybox was found on this host ` +
                `(apt-get install busybox-static, or set MULTUS_E2E_KIND_BUSYBOX): scenarios that use it from pods will fail`,
            );
          }
          await disableBridgeNetfilter(runner, node);
        }

        await installNadCrd(kubectl, crd);
        for (const loaded of [image, POD_IMAGE]) {
          progress(`side-loading ${loaded} into the nodes`);
          await sideLoadImage(runner, opts.name, loaded, workDir);
        }
        const { objects, daemonSet } = installObjects(installation, image, shape);
        writeFileSync(state.installManifest, manifestsYaml(objects));
        await kubectl.runRetrying(['apply', '-f', state.installManifest]);
        writeState(workDir, state);

        progress('waiting for the plugin DaemonSet, its Multus config on every node, and every node to be Ready');
        await kubectl.run(['-n', INSTALL_NAMESPACE, 'rollout', 'status', `daemonset/${daemonSet}`, `--timeout=${READY_TIMEOUT}`]);
        await waitForMultusConfig(runner, nodes, READY_TIMEOUT_MS);
        await kubectl.run(['wait', '--for=condition=Ready', 'nodes', '--all', `--timeout=${READY_TIMEOUT}`]);
        progress(`kind cluster ${opts.name} ready; kubeconfig ${state.kubeconfigPath}`);
        return cluster;
      } catch (err) {
        const logsDir = settings.failureLogsDir ?? join(workDir, 'kind-logs');
        const exported = await runner.run('kind', ['export', 'logs', logsDir, '--name', opts.name], { allowFail: true });
        const where = exported.code === 0 ? `; kind logs exported to ${logsDir}` : '';
        if (!settings.keepOnFailure) await cluster.destroy().catch(() => {});
        const message = err instanceof Error ? err.message : String(err);
        throw new Error(`kind cluster ${opts.name} failed to come up: ${message}${where}`, { cause: err });
      }
    },

    async attach(name: string, workDir: string): Promise<KindCluster> {
      validateClusterName(name);
      await checkPrerequisites(runner, settings.env);
      const dir = resolve(workDir);
      const state = readState(dir);
      if (!state || state.name !== name) {
        throw new Error(`no kind cluster state for "${name}" in ${dir} (create it with \`multus-e2e cluster up --provider kind\`)`);
      }
      if (!(await kindClusterExists(runner, name))) {
        throw new Error(`kind cluster "${name}" recorded in ${dir} no longer exists (\`kind get clusters\` does not list it)`);
      }
      const kubeconfig = await runner.run('kind', ['get', 'kubeconfig', '--name', name]);
      writeFileSync(state.kubeconfigPath, kubeconfig.stdout, { mode: 0o600 });
      return new KindCluster(runner, dir, state);
    },

    async destroy(name: string, workDir: string): Promise<void> {
      validateClusterName(name);
      await checkPrerequisites(runner, settings.env);
      const dir = resolve(workDir);
      const recorded = readState(dir);
      const state: KindClusterState = recorded?.name === name ? recorded : {
        name,
        kubeconfigPath: join(dir, 'kubeconfig'),
        eth1Network: eth1NetworkName(name),
        createdCluster: true,
        createdEth1Network: true,
        installManifest: join(dir, 'multus-e2e-install.yaml'),
        netdevsimIds: [],
      };
      await new KindCluster(runner, dir, state).destroy();
    },
  };
}

/** The kind provider configured from MULTUS_E2E_KIND_* environment variables (read when it is used). */
export const kindProvider: KindProvider = {
  name: 'kind',
  create: (opts) => createKindProvider(kindSettingsFromEnv()).create(opts),
  attach: (name, workDir) => createKindProvider(kindSettingsFromEnv()).attach(name, workDir),
  destroy: (name, workDir) => createKindProvider(kindSettingsFromEnv()).destroy(name, workDir),
};
