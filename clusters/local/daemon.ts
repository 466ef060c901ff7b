// The cluster daemon: `node --import tsx clusters/local/daemon.ts --work-dir D --marker M`,
// started detached by create(). Builds the fabric and nodes, runs the API server, the scheduler and
// one node agent per node, installs the plugin, and keeps state.json current so destroy() can clean
// up after a crash. Talks to its creator over IPC until the cluster is ready.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { kubeconfigYaml, startApiServer, type RunningApiServer } from './apiserver/index.ts';
import { ApiClient } from './api-client.ts';
import type { KilledPlugin } from '../provider.ts';
import { serveControl, type ControlRequest } from './control.ts';
import { createFabric, deleteNetns, wireNode } from './fabric.ts';
import { listenInFabric } from './fabric-relay.ts';
import { clusterNames, FABRIC_HOST_IP, nodeFabricIp, nodeName, nodeNetns, nodePodCidr } from './names.ts';
import { applyNadCrd } from './nad-crd.ts';
import { NamespaceFinalizer } from './namespace-finalizer.ts';
import { DEFAULT_CNI_TIMEOUT_MS } from './libcni.ts';
import { NodeAgent, type NodeAgentOptions } from './node-agent.ts';
import { prepareNodeFilesystem, serviceAccountDir, startHolder } from './node-host.ts';
import type { DaemonOptions } from './options.ts';
import { installPlugin, type PluginInstall } from './plugin-install.ts';
import { PodScheduler } from './pod-scheduler.ts';
import { processRef } from './process-identity.ts';
import { startContainerControlPlane } from './container-control-plane.ts';
import { startRealControlPlane } from './real-control-plane.ts';
import { controlPlaneDir } from './teardown.ts';
import { readState, writeState, type LocalClusterState } from './state.ts';

export type DaemonMessage = { type: 'progress'; line: string } | { type: 'ready' } | { type: 'error'; message: string };

const { values } = parseArgs({ options: { 'work-dir': { type: 'string' }, marker: { type: 'string' } } });
const workDir = values['work-dir'];
const marker = values.marker;
if (!workDir || !marker) {
  console.error('usage: daemon.ts --work-dir DIR --marker MARKER');
  process.exit(2);
}
const opts = JSON.parse(readFileSync(join(workDir, 'options.json'), 'utf8')) as DaemonOptions;

function tell(msg: DaemonMessage): void {
  if (process.connected) process.send?.(msg);
}

function log(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`);
}

function progress(line: string): void {
  log(line);
  tell({ type: 'progress', line });
}

const names = clusterNames(opts.name);
const state: LocalClusterState = readState(workDir) ?? {
  name: opts.name,
  prefix: names.prefix,
  workDir,
  phase: 'starting',
  createdAt: new Date().toISOString(),
  plugin: opts.plugin,
  fabricNetns: names.fabricNetns,
  nodes: [],
  kubeconfigPath: join(workDir, 'kubeconfig'),
  cniCallsPath: join(workDir, 'cni-calls.jsonl'),
  daemonLog: join(workDir, 'daemon.log'),
};
state.daemon = processRef(process.pid);
writeState(state);

let server: RunningApiServer | undefined;
let api: ApiClient | undefined;
const agents = new Map<string, { agent: NodeAgent; options: NodeAgentOptions }>();
let scheduler: PodScheduler | undefined;
let namespaceFinalizer: NamespaceFinalizer | undefined;
let control: Server | undefined;
/** The API server's address in the fabric (fabric-relay.ts); closed while a fault stops the API server. */
let apiRelay: Server | undefined;
/** How each node's plugin was installed: a thin plugin's installer runs again when its credentials are renewed. */
const installs = new Map<string, PluginInstall>();
/** Whether node agents create a failed pod's sandbox again, and after how long (ms); set by fault scenarios. */
let sandboxRetryMs: number | undefined;

async function bringUp(): Promise<void> {
  progress(`creating fabric ${state.fabricNetns}`);
  await createFabric(state.fabricNetns);

  if (opts.controlPlane) {
    progress(`starting etcd and kube-apiserver (${opts.controlPlane.kubeApiserver})`);
    state.controlPlane = [];
    server = await startRealControlPlane({
      binaries: opts.controlPlane,
      dir: controlPlaneDir(workDir!, names.prefix),
      logDir: workDir!,
      sans: [FABRIC_HOST_IP],
      onProcess: (ref) => {
        state.controlPlane!.push(ref);
        writeState(state);
      },
    });
  } else if (opts.containerControlPlane) {
    const cp = opts.containerControlPlane;
    progress(`starting etcd and kube-apiserver ${cp.version} as containers (${cp.apiserverImage}, ${cp.etcdImage})`);
    state.containers = [];
    writeState(state);
    server = await startContainerControlPlane({
      cp,
      clusterName: opts.name,
      dir: controlPlaneDir(workDir!, names.prefix),
      logDir: workDir!,
      sans: [FABRIC_HOST_IP],
      onContainer: (id) => {
        state.containers!.push(id);
        writeState(state);
      },
    });
  } else {
    progress('starting the API server');
    server = await startApiServer({ hosts: ['127.0.0.1'], port: 0, certDir: join(workDir!, 'pki'), sans: [FABRIC_HOST_IP] });
  }
  await relayApi(server);
  state.api = { url: server.url, port: server.port, caFile: server.caFile, token: server.token, fabricHost: FABRIC_HOST_IP };
  writeFileSync(state.kubeconfigPath, kubeconfigYaml(server.url, server.caPem, server.token, opts.name), { mode: 0o600 });
  writeState(state);
  api = new ApiClient(server.url, server.token, server.caPem);
  await applyNadCrd(api);

  // Nodes are independent of each other: build and install them in parallel.
  const indexes = Array.from({ length: opts.nodes }, (_, i) => i + 1);
  state.nodes = indexes.map((i) => {
    const name = nodeName(i);
    return { name, index: i, netns: nodeNetns(names.prefix, name), dir: join(workDir!, 'nodes', name), fabricIp: nodeFabricIp(i), podCidr: nodePodCidr(i), links: [], mounts: [] };
  });
  writeState(state);
  const running = server;
  const client = api;
  await Promise.all(state.nodes.map(async (node) => {
    progress(`creating node ${node.name}`);
    node.links = await wireNode({ prefix: names.prefix, fabricNetns: state.fabricNetns, netns: node.netns, index: node.index, nodeCount: opts.nodes });
    const holder = await startHolder(node.netns, `${marker}-${node.name}`);
    node.holder = holder;
    writeState(state);
    await prepareNodeFilesystem({ holderPid: holder.pid, nodeDir: node.dir, index: node.index, onMount: (m) => node.mounts.push(m) });
    // The plugin's own service account token, not the harness's: a fault scenario revokes it alone.
    writeFileSync(join(serviceAccountDir(node.dir), 'token'), running.serviceAccountToken, { mode: 0o600 });
    writeFileSync(join(serviceAccountDir(node.dir), 'ca.crt'), running.caPem);
    writeFileSync(join(serviceAccountDir(node.dir), 'namespace'), 'kube-system');
    writeState(state);
    if (opts.plugin) {
      progress(`installing the plugin under test on ${node.name}`);
      const install: PluginInstall = {
        holderPid: holder.pid,
        nodeName: node.name,
        nodeDir: node.dir,
        plugin: opts.plugin,
        multusConfig: opts.multusConfig,
        apiHost: FABRIC_HOST_IP,
        apiPort: running.port,
        serviceAccountDir: serviceAccountDir(node.dir),
        processMarker: marker!,
        onMount: (m) => {
          node.mounts.push(m);
          writeState(state);
        },
        onProcess: (ref) => {
          node.multusDaemon = ref;
          writeState(state);
        },
      };
      installs.set(node.name, install);
      await installPlugin(install);
    }
    const agentOptions: NodeAgentOptions = {
      api: client,
      prefix: names.prefix,
      node: { ...node, holder },
      cniCallsPath: state.cniCallsPath,
      devices: opts.extendedResources[node.name] ?? {},
      log,
    };
    const agent = new NodeAgent(agentOptions);
    await agent.register();
    agent.start();
    agents.set(node.name, { agent, options: agentOptions });
  }));
  scheduler = new PodScheduler(api, log);
  scheduler.start();
  if (opts.controlPlane || opts.containerControlPlane) {
    // kube-apiserver alone never empties a deleted namespace (that is kube-controller-manager's job).
    namespaceFinalizer = new NamespaceFinalizer(api, log);
    namespaceFinalizer.start();
  }
  control = await serveControl(workDir!, injectFault);
  state.phase = 'ready';
  writeState(state);
  progress(`cluster ${opts.name} is ready (${opts.nodes} node(s), API ${server.url})`);
  tell({ type: 'ready' });
}

function agentOn(node: string): { agent: NodeAgent; options: NodeAgentOptions } {
  const found = agents.get(node);
  if (!found) throw new Error(`cluster ${opts.name} has no node "${node}" (nodes: ${[...agents.keys()].join(', ')})`);
  return found;
}

async function relayApi(to: RunningApiServer): Promise<void> {
  apiRelay = await listenInFabric(state.fabricNetns, FABRIC_HOST_IP, to.port, { host: '127.0.0.1', port: to.port });
}

/** Faults a scenario injects through the control socket (LocalCluster.faults). */
async function injectFault(req: ControlRequest): Promise<unknown> {
  switch (req.op) {
    case 'stop-api-server':
    case 'start-api-server': {
      const stopping = req.op === 'stop-api-server';
      const act = stopping ? server?.stop : server?.start;
      if (!act) throw new Error(`this cluster's API server cannot be ${stopping ? 'stopped' : 'started'} on its own`);
      log(`fault: ${stopping ? 'stopping the API server' : 'starting the API server again'}`);
      // The relay goes with it: a stopped API server refuses connections ("connection refused", naming
      // its address), where a relay still accepting would hand clients an EOF or a reset instead, by timing.
      if (!stopping) {
        await act.call(server);
        return relayApi(server!);
      }
      apiRelay?.close();
      apiRelay = undefined;
      return act.call(server);
    }
    case 'stop-pod-sandbox':
      log(`fault: stopping the sandbox of pod ${req.namespace}/${req.pod} on ${req.node}`);
      return agentOn(req.node).agent.stopSandbox(req.namespace, req.pod);
    case 'restart-node': {
      // A reboot: the agent goes away, /run/netns (a tmpfs) comes back empty, and the new agent finds
      // the old sandboxes in the runtime's store, tears them down and starts the pods again.
      log(`fault: restarting ${req.node}`);
      const { agent, options } = agentOn(req.node);
      const sandboxes = await agent.stop();
      for (const sb of sandboxes.values()) if (sb.network) await deleteNetns(sb.netns);
      const restarted = new NodeAgent({ ...options, staleSandboxes: sandboxes });
      restarted.retrySandboxes(sandboxRetryMs);
      agents.set(req.node, { agent: restarted, options });
      await restarted.register();
      restarted.start();
      return undefined;
    }
    case 'set-cni-timeout': {
      const ms = req.ms ?? DEFAULT_CNI_TIMEOUT_MS;
      log(`fault: the runtime gives up on a CNI call after ${ms / 1000} s`);
      for (const entry of agents.values()) {
        entry.agent.cni.setTimeout(ms);
        // A restarted node's new agent keeps it.
        entry.options.cniTimeoutMs = ms;
      }
      return undefined;
    }
    case 'kill-cni-plugin':
      return killCniPlugin(req.node, req.namespace, req.pod);
    case 'retry-failed-sandboxes':
      sandboxRetryMs = req.seconds === null ? undefined : req.seconds * 1000;
      log(`node agents ${sandboxRetryMs === undefined ? 'no longer retry failed sandboxes' : `retry failed sandboxes every ${req.seconds} s`}`);
      for (const { agent } of agents.values()) agent.retrySandboxes(sandboxRetryMs);
      return undefined;
    case 'hold-cni-adds':
      log(`fault: ${req.hold ? 'holding' : 'releasing'} new sandboxes before their CNI ADD on ${req.node}`);
      agentOn(req.node).agent.holdAdds(req.hold);
      return undefined;
    case 'revoke-plugin-credentials':
      return changePluginCredentials(null);
    case 'renew-plugin-credentials':
      return changePluginCredentials(randomBytes(24).toString('hex'));
    case 'restore-plugin-credentials':
      return changePluginCredentials(server?.serviceAccountToken ?? null);
  }
}

/**
 * Revokes the plugin's service account token (the API server refuses it with 401), or issues a new one
 * and hands it to the plugin as its DaemonSet's pods get it: the token file of the service-account
 * mount (a thick daemon reads it there), and for a thin plugin its kubeconfig, which the installer
 * generates from that file (run again, as the thin DaemonSet's entrypoint does when the token changes).
 */
async function changePluginCredentials(next: string | null): Promise<void> {
  const set = server?.setServiceAccountToken;
  if (!set) throw new Error('this cluster\'s API server cannot change the tokens it accepts');
  const what = next === null ? 'revoking' : next === server?.serviceAccountToken ? 'restoring the first' : 'renewing';
  log(`fault: ${what} the plugin's service account token`);
  await set.call(server, next);
  if (next === null) return;
  for (const node of state.nodes) writeFileSync(join(serviceAccountDir(node.dir), 'token'), next, { mode: 0o600 });
  for (const install of installs.values()) if (install.plugin.kind !== 'thick') await installPlugin(install);
}

/** SIGKILL to the plugin process the node's runtime runs for the pod's ADD (the one it executed, by pid). */
function killCniPlugin(node: string, namespace: string, pod: string): KilledPlugin {
  const running = agentOn(node).agent.cni.running(namespace, pod).filter((p) => p.verb === 'ADD');
  if (running.length !== 1) {
    throw new Error(`the runtime on ${node} runs ${running.length} ADD plugin processes for pod ${namespace}/${pod}, not one: ${running.map((p) => `${p.type} (pid ${p.pid})`).join(', ') || 'none'}`);
  }
  const { pid, type } = running[0]!;
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  log(`fault: SIGKILL to the ${type} plugin process (pid ${pid}: ${command}) of pod ${namespace}/${pod}'s ADD on ${node}`);
  process.kill(pid, 'SIGKILL');
  return { pid, type, command };
}

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    log('stopping');
    await scheduler?.stop();
    namespaceFinalizer?.stop();
    control?.close();
    await Promise.allSettled([...agents.values()].map((a) => a.agent.stop()));
    api?.close();
    await server?.close().catch(() => undefined);
  }
  process.exit(code);
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
// The creator may go away once the cluster is up; the daemon stays.
process.on('disconnect', () => undefined);

bringUp().catch((err: Error) => {
  log(`bring-up failed: ${err.stack ?? err.message}`);
  state.phase = 'failed';
  state.error = err.message;
  writeState(state);
  tell({ type: 'error', message: err.message });
  void shutdown(1);
});
