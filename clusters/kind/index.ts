// The kind provider: real kind clusters through the kind CLI, for users with Docker. create() brings
// up (or reuses) a cluster, gives the workers eth1, installs the reference CNI plugins, the NAD CRD and
// the plugin under test, and waits until every node is Ready with Multus configured.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClusterOptions, ClusterProvider, PluginUnderTest } from '../provider.ts';
import { KindCluster, kindClusterExists, kindNodes, readState, writeState, type KindClusterState } from './cluster.ts';
import { kindConfigYaml, controlPlaneNodeName } from './kind-config.ts';
import { Kubectl } from './kubectl.ts';
import { bundledPluginManifests, manifestsYaml, upstreamPluginManifests, INSTALL_NAME, INSTALL_NAMESPACE } from './manifests.ts';
import { installBundledPayload, installPodTools, installReferencePlugins, payloadDigest, type BundledPayload } from './node-payload.ts';
import { installPrimaryNetwork } from './primary-network.ts';
import { attachEth1, ensureEth1Network, eth1NetworkName } from './second-nic.ts';
import { kindSettingsFromEnv, validateClusterName, type KindSettings } from './settings.ts';
import { CommandFailedError, checkPrerequisites, zxRunner, type ToolRunner } from './tools.ts';

export { kindSettingsFromEnv, defaultKindSettings, parsePrimaryNetwork, type KindSettings, type PrimaryNetwork } from './settings.ts';
export { kindNetdevsimAvailability } from './netdevsim.ts';
export { KindCluster } from './cluster.ts';

const READY_TIMEOUT = '300s';

function pluginFiles(settings: KindSettings, plugin: PluginUnderTest): BundledPayload {
  const dist = join(settings.repoRoot, 'plugin/dist');
  const installer = join(dist, 'multus-install');
  if (plugin.kind === 'thick') throw new Error('the kind provider cannot install --plugin thick:…: it installs a thin binary, or an upstream Multus DaemonSet image given with --plugin-image');
  const pluginPath = plugin.kind === 'bundled' ? join(dist, 'multus') : resolve(plugin.path);
  for (const [what, file] of [['plugin under test', pluginPath], ['plugin installer', installer]] as const) {
    if (!existsSync(file)) {
      throw new Error(`${what} not found at ${file}${file.startsWith(dist) ? ' (run `npm run build` first)' : ''}`);
    }
  }
  if (!existsSync(settings.nodeBinary)) throw new Error(`Node.js runtime for the nodes not found at ${settings.nodeBinary}`);
  return { nodeBinary: settings.nodeBinary, plugin: pluginPath, installer };
}

function crdPath(settings: KindSettings): string {
  const file = join(settings.repoRoot, 'fixtures/crds/network-attachment-definition.yaml');
  if (!existsSync(file)) throw new Error(`NAD CRD manifest not found at ${file}`);
  return file;
}

/**
 * Makes an image present in the local Docker (pulling it if needed) and side-loads it into the nodes.
 * `kind load docker-image` fails with "content digest … not found" for multi-platform images under
 * Docker's containerd image store (kubernetes-sigs/kind#3795); then the image is saved for its one
 * platform and loaded as an archive, kind's documented workaround.
 */
async function sideLoadImage(runner: ToolRunner, cluster: string, image: string, workDir: string): Promise<void> {
  const inspectPlatform = ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', image];
  let local = await runner.run('docker', inspectPlatform, { allowFail: true });
  if (local.code !== 0) {
    await runner.run('docker', ['pull', image]);
    local = await runner.run('docker', inspectPlatform);
  }
  const loaded = await runner.run('kind', ['load', 'docker-image', image, '--name', cluster], { allowFail: true });
  if (loaded.code === 0) return;
  if (!/content digest .* not found/.test(loaded.stdout + loaded.stderr)) {
    throw new CommandFailedError('kind', ['load', 'docker-image', image, '--name', cluster], loaded);
  }
  const archive = join(workDir, `${image.replace(/[^A-Za-z0-9_.-]/g, '_')}.tar`);
  await runner.run('docker', ['image', 'save', '--platform', local.stdout.trim(), '--output', archive, image]);
  await runner.run('kind', ['load', 'image-archive', archive, '--name', cluster]);
  rmSync(archive, { force: true });
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
      const payload = settings.pluginImage ? undefined : pluginFiles(settings, opts.plugin);
      const crd = crdPath(settings);
      await checkPrerequisites(runner, settings.env);

      const workDir = resolve(opts.workDir);
      mkdirSync(workDir, { recursive: true });
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
      if (previous?.name === opts.name) {
        state.createdCluster = previous.createdCluster;
        state.createdEth1Network = previous.createdEth1Network;
        state.netdevsimIds = previous.netdevsimIds;
      }
      const cluster = new KindCluster(runner, workDir, state);
      try {
        if (await kindClusterExists(runner, opts.name)) {
          progress(`reusing existing kind cluster ${opts.name}`);
        } else {
          const configPath = join(workDir, 'kind-config.yaml');
          writeFileSync(configPath, config);
          progress(`creating kind cluster ${opts.name} (1 control plane, ${opts.nodes} workers)`);
          state.createdCluster = true;
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

        progress(`attaching eth1 (${settings.eth1Subnet}) to ${workers.join(', ')}`);
        if (await ensureEth1Network(runner, state.eth1Network, settings.eth1Subnet)) state.createdEth1Network = true;
        writeState(workDir, state);
        for (const worker of workers) await attachEth1(runner, state.eth1Network, worker);

        await installPrimaryNetwork(runner, kubectl, settings.primary);

        for (const node of nodes) {
          progress(`installing reference CNI plugins${payload ? ', Node.js and the plugin' : ''} on ${node}`);
          await installReferencePlugins(runner, node, settings.referencePluginsDir);
          if (payload) await installBundledPayload(runner, node, payload);
          const tools = await installPodTools(runner, node, settings.busybox);
          if (tools.unavailable.length > 0) {
            progress(
              `warning: ${node} has no ${tools.unavailable.join(', ')} and no static busybox was found on this host ` +
                `(apt-get install busybox-static, or set MULTUS_E2E_KIND_BUSYBOX): scenarios that use it from pods will fail`,
            );
          }
        }

        await kubectl.run(['apply', '-f', crd]);
        const image = settings.pluginImage ?? settings.installerImage;
        await sideLoadImage(runner, opts.name, image, workDir);
        const objects = payload ? bundledPluginManifests(image, payloadDigest(payload)) : upstreamPluginManifests(image);
        writeFileSync(state.installManifest, manifestsYaml(objects));
        await kubectl.run(['apply', '-f', state.installManifest]);
        writeState(workDir, state);

        progress('waiting for the plugin DaemonSet and every node to be Ready');
        await kubectl.run(['-n', INSTALL_NAMESPACE, 'rollout', 'status', `daemonset/${INSTALL_NAME}`, `--timeout=${READY_TIMEOUT}`]);
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
