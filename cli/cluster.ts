// `multus-e2e cluster up|down|status|kubeconfig`: a cluster to poke at by hand. Only the kubeconfig
// path goes to stdout, so `kubectl --kubeconfig "$(multus-e2e cluster kubeconfig)"` works.
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { createClusterWithSetup } from '../clusters/node-setup.ts';
import type { ClusterProvider } from '../clusters/provider.ts';
import { loadNodeFiles } from '../repro/manifests.ts';
import { loadProvider } from '../steps/providers.ts';
import { RUN_STATE_FILE } from '../steps/run-state.ts';
import type { ClusterCommand } from './args.ts';
import { removeEmptyWorkRoot } from './paths.ts';
import { ensurePlugin } from './plugin.ts';

type Progress = (line: string) => void;

/** Providers that can remove a cluster from its name and work dir even when it cannot be attached. */
type ForceDestroy = { destroy(name: string, workDir: string): Promise<void> };
const canForceDestroy = (p: ClusterProvider): p is ClusterProvider & ForceDestroy =>
  typeof (p as Partial<ForceDestroy>).destroy === 'function';

export async function clusterCommand(cmd: ClusterCommand, progress: Progress): Promise<number> {
  if (cmd.provider === 'vm') throw new Error('cluster commands support the local and kind providers');
  const provider = await loadProvider(cmd.provider);
  switch (cmd.action) {
    case 'up': {
      await ensurePlugin(cmd.plugin, progress);
      progress(`bringing up ${cmd.provider} cluster "${cmd.name}" with ${cmd.nodes} nodes in ${cmd.workDir} …`);
      const { multusSettings, daemonConfig, nodeCniConfigs } = loadNodeFiles(cmd.setup);
      const { cluster, notes, extras } = await createClusterWithSetup(provider, {
        name: cmd.name, nodes: cmd.nodes, plugin: cmd.plugin, multusConfig: cmd.multusConfig, workDir: cmd.workDir, progress, ...cmd.controlPlane,
      }, {
        ...(cmd.setup.netdevsimVfs !== undefined ? { netdevsimVfs: cmd.setup.netdevsimVfs } : {}),
        ...(multusSettings ? { multusSettings } : {}), ...(daemonConfig ? { daemonConfig } : {}), nodeCniConfigs,
      });
      for (const n of notes) progress(`node setup: ${n}`);
      // Made outside the cluster's own teardown: a person removes them after "cluster down".
      if (extras.length) progress(`these stay on the host until removed by hand: ${extras.join(', ')}`);
      progress(`cluster "${cmd.name}" is up: kubectl --kubeconfig ${cluster.kubeconfigPath} get nodes`);
      process.stdout.write(`${cluster.kubeconfigPath}\n`);
      return 0;
    }
    case 'down': {
      progress(`tearing down cluster "${cmd.name}" (${cmd.workDir}) …`);
      try {
        await (await provider.attach(cmd.name, cmd.workDir)).destroy();
      } catch (err) {
        if (!canForceDestroy(provider)) throw err;
        progress(`cannot attach (${(err as Error).message}); removing what is left of it`);
        await provider.destroy(cmd.name, cmd.workDir);
      }
      // A `run --keep` leaves its run state for this cluster in the work dir; it goes with the cluster.
      await rm(path.join(cmd.workDir, RUN_STATE_FILE), { force: true });
      await rmdir(cmd.workDir).catch(() => undefined);
      await removeEmptyWorkRoot();
      progress(`cluster "${cmd.name}" is gone`);
      return 0;
    }
    case 'status': {
      const cluster = await provider.attach(cmd.name, cmd.workDir);
      const nodes = await cluster.nodeNames();
      process.stdout.write(`cluster ${cluster.name} (${cluster.provider}): running\nnodes: ${nodes.join(', ')}\nkubeconfig: ${cluster.kubeconfigPath}\n`);
      return 0;
    }
    case 'kubeconfig': {
      const cluster = await provider.attach(cmd.name, cmd.workDir);
      process.stdout.write(`${cluster.kubeconfigPath}\n`);
      return 0;
    }
  }
}
