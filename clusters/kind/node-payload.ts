// Files the suite needs inside each kind node, copied with `docker cp` rather than baked into an
// image: no image build (and so no Dockerfile or registry) is needed, and the delegates are the very
// binaries the local provider uses, so results compare across providers.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ToolRunner } from './tools.ts';
import { recorderScript } from './cni-call-recorder.ts';
import { BUNDLED_DAEMON, BUNDLED_RECORDER, BUNDLED_SHIM, BUSYBOX, CNI_BIN_DIR, INSTALLER_SCRIPT, NODE_ON_PATH, NODE_RUNTIME, PAYLOAD_DIR, PLUGIN_BINARY } from './node-paths.ts';

/** Regular executable files in dir (the reference CNI plugins), sorted. */
export function referencePlugins(dir: string): string[] {
  if (!existsSync(dir)) {
    throw new Error(
      `reference CNI plugins not found in ${dir}: install them (Debian: apt-get install containernetworking-plugins) or set MULTUS_E2E_KIND_CNI_PLUGINS_DIR to a directory of Linux CNI plugin binaries`,
    );
  }
  return readdirSync(dir)
    .filter((name) => {
      const st = statSync(join(dir, name));
      return st.isFile() && (st.mode & 0o111) !== 0;
    })
    .sort();
}

/**
 * Copies the reference plugins the node image lacks into /opt/cni/bin. kindest/node's own
 * host-local, loopback, ptp and portmap stay: kindnet is configured against them.
 */
export async function installReferencePlugins(runner: ToolRunner, container: string, pluginsDir: string): Promise<string[]> {
  const present = new Set((await runner.run('docker', ['exec', container, 'ls', '-1', CNI_BIN_DIR])).stdout.split('\n').map((s) => s.trim()));
  const missing = referencePlugins(pluginsDir).filter((name) => !present.has(name));
  for (const name of missing) {
    await runner.run('docker', ['cp', join(pluginsDir, name), `${container}:${CNI_BIN_DIR}/${name}`]);
  }
  return missing;
}

/** What is copied into every node: Node.js and the bundled installer, and the bundled plugin (thin, or thick's shim and daemon) when it is the one under test. */
export interface NodePayload {
  nodeBinary: string;
  installer: string;
  /** The bundled plugin; absent when an upstream plugin's DaemonSet installs the plugin itself. */
  plugin?: string;
  /** The bundled plugin in thick mode: the shim containerd runs and the daemon the DaemonSet runs. */
  thick?: { shim: string; daemon: string };
}

/** sha256 over the plugin and installer as copied into the nodes. */
export function payloadDigest(payload: NodePayload): string {
  const hash = createHash('sha256');
  for (const file of [payload.plugin, payload.installer, payload.thick?.shim, payload.thick?.daemon]) if (file) hash.update(readFileSync(file));
  return hash.digest('hex');
}

/**
 * Copies Node.js and the installer (and the bundled plugin with its CNI call recorder) into
 * PAYLOAD_DIR, links node onto the node's PATH (the plugin is `#!/usr/bin/env node`, started by
 * containerd), and checks the copied runtime starts there — a host node linked against libraries the
 * node image lacks fails here, early.
 */
export async function installNodePayload(runner: ToolRunner, container: string, payload: NodePayload): Promise<void> {
  await runner.run('docker', ['exec', container, 'mkdir', '-p', `${PAYLOAD_DIR}/bin`, '/var/log/multus']);
  await runner.run('docker', ['cp', payload.nodeBinary, `${container}:${NODE_RUNTIME}`]);
  if (payload.plugin) await runner.run('docker', ['cp', payload.plugin, `${container}:${PLUGIN_BINARY}`]);
  if (payload.thick) {
    await runner.run('docker', ['cp', payload.thick.shim, `${container}:${BUNDLED_SHIM}`]);
    await runner.run('docker', ['cp', payload.thick.daemon, `${container}:${BUNDLED_DAEMON}`]);
  }
  const recorded = payload.thick ? BUNDLED_SHIM : payload.plugin ? PLUGIN_BINARY : undefined;
  if (recorded) {
    await runner.run('docker', ['exec', '-i', container, 'sh', '-c', `cat > ${BUNDLED_RECORDER} && chmod 755 ${BUNDLED_RECORDER}`], {
      input: recorderScript(recorded),
    });
  }
  await runner.run('docker', ['cp', payload.installer, `${container}:${INSTALLER_SCRIPT}`]);
  await runner.run('docker', ['exec', container, 'ln', '-sf', NODE_RUNTIME, NODE_ON_PATH]);
  const check = await runner.run('docker', ['exec', container, NODE_ON_PATH, '--version'], { allowFail: true });
  if (check.code !== 0) {
    throw new Error(
      `the Node.js runtime copied from ${payload.nodeBinary} does not start inside kind node ${container}: ` +
        `${(check.stderr || check.stdout).trim()}\nSet MULTUS_E2E_KIND_NODE_BINARY to a Node.js >= 20 build for ` +
        `the node image's glibc (e.g. the official linux-x64 tarball's bin/node).`,
    );
  }
}

/**
 * br_netfilter (loaded on kind's hosts: kube-proxy and Docker want it) hands bridged frames to
 * iptables, where kindnet masquerades everything not bound for the pod CIDR, so pod-to-pod traffic
 * over a `bridge` attachment would be SNATed and its replies lost. The provider turns bridged-frame
 * filtering off in every node's network namespace (the sysctls are per netns) and reads it back.
 */
export const BRIDGE_NF_SYSCTLS = ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables'] as const;

export async function disableBridgeNetfilter(runner: ToolRunner, container: string): Promise<void> {
  const present = await runner.run('docker', ['exec', container, 'test', '-e', '/proc/sys/net/bridge/bridge-nf-call-iptables'], { allowFail: true });
  if (present.code !== 0) return; // no br_netfilter in this kernel: bridged frames never reach iptables
  for (const key of BRIDGE_NF_SYSCTLS) {
    await runner.run('docker', ['exec', container, 'sysctl', '-w', `${key}=0`]);
    const value = (await runner.run('docker', ['exec', container, 'sysctl', '-n', key])).stdout.trim();
    if (value !== '0') throw new Error(`${key} on kind node ${container} is ${value} after setting it to 0`);
  }
}

/** Commands the suite runs inside pods (through the node's binaries) that kindest/node does not ship. */
export const POD_TOOLS = ['ping'] as const;

/**
 * Gives the node the pod-side tools it lacks as links to a static busybox copied from the host.
 * Tools still missing afterwards (no busybox given) are returned as unavailable for the caller to report.
 */
export async function installPodTools(
  runner: ToolRunner,
  container: string,
  busybox: string | undefined,
): Promise<{ linked: string[]; unavailable: string[] }> {
  const missing: string[] = [];
  for (const tool of POD_TOOLS) {
    const found = await runner.run('docker', ['exec', container, 'sh', '-c', `command -v ${tool}`], { allowFail: true });
    if (found.code !== 0) missing.push(tool);
  }
  if (missing.length === 0 || !busybox) return { linked: [], unavailable: missing };
  await runner.run('docker', ['exec', container, 'mkdir', '-p', `${PAYLOAD_DIR}/bin`]);
  await runner.run('docker', ['cp', busybox, `${container}:${BUSYBOX}`]);
  for (const tool of missing) await runner.run('docker', ['exec', container, 'ln', '-sf', BUSYBOX, `/usr/local/bin/${tool}`]);
  return { linked: missing, unavailable: [] };
}
