// Upstream Multus in thick mode on a local node, installed as upstream's
// deployments/multus-daemonset-thick.yml does it on a real one (v4.2.2): `multus-shim` copied into the
// CNI bin dir (the init container), and `multus-daemon --config daemon-config.json` running on the
// node (the DaemonSet's container: host network, the node's CNI dirs, in-cluster credentials,
// MULTUS_NODE_NAME). With `multusConfigFile: "auto"` the daemon writes 00-multus.conf itself (type
// multus-shim, "clusterNetwork" naming the node's primary conflist) and serves the shim on a unix
// socket. Here the daemon runs in the node's network and mount namespace, so it sees the node's own
// /etc/cni/net.d, /opt/cni/bin, /var/lib/cni and /run/multus, and no chroot is needed.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { copyBinary } from '../../plugin/install/install.ts';
import { NODE_CNI_BIN_DIR, NODE_CNI_CONF_DIR } from './libcni.ts';
import { bindIntoNode, hostPathOf, nodeExecArgv, serviceAccountDir } from './node-host.ts';
import { processRef, type ProcessRef } from './process-identity.ts';

/** The daemon's default --config path (upstream pkg/server/types.go DefaultMultusDaemonConfigFile). */
export const DAEMON_CONFIG_FILE = '/etc/cni/net.d/multus.d/daemon-config.json';
/** Node-private (bind-mounted) dir holding the daemon's socket dir. */
export const DAEMON_RUN_DIR = '/run/multus';
/**
 * Where the daemon listens and the shim connects. Upstream's default is /run/multus/ itself, but the
 * daemon removes and recreates its socket dir at start-up, which fails on a mount point (EBUSY); the
 * DaemonSet avoids that by mounting the host's whole /run. A node's /run is the host's, so the socket
 * dir is a subdir of the node-private DAEMON_RUN_DIR, named to the shim through "daemonSocketDir".
 */
export const DAEMON_SOCKET_DIR = `${DAEMON_RUN_DIR}/socket/`;
/** Where client-go's in-cluster configuration reads the token and CA, as in any pod. */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The log the multus logic writes (the same path as the thin plugin's, so pluginLog() finds it). */
export const MULTUS_LOG = '/var/log/multus/multus.log';
/** The daemon's stdout and stderr: start-up failures and Go panics land here, not in MULTUS_LOG. */
export const DAEMON_OUTPUT_LOG = '/var/log/multus/multus-daemon.log';
export const SHIM_TYPE = 'multus-shim';
const GENERATED_CONF = join(NODE_CNI_CONF_DIR, '00-multus.conf');
const READY_TIMEOUT_MS = 90_000;

/**
 * daemon-config.json: the keys of upstream's thick ConfigMap with the node's own paths (no /host
 * prefix, no chrootDir: the daemon already runs in the node's mount namespace). The daemon also
 * copies every key of this file over each CNI config the shim sends, so binDir, cniDir and confDir
 * set the multus logic's paths as well. cniVersion is the cluster network's, as thin's
 * --multus-conf-file=auto takes it, so thin and thick hand the same version to the delegates.
 */
export function daemonConfig(cniVersion: string): Record<string, unknown> {
  return {
    cniVersion,
    logLevel: 'verbose',
    logFile: MULTUS_LOG,
    logToStderr: false,
    cniConfigDir: NODE_CNI_CONF_DIR,
    multusAutoconfigDir: NODE_CNI_CONF_DIR,
    // A user-provided file would make v4.2.2 exit right after start-up (no config manager keeps it running).
    multusConfigFile: 'auto',
    socketDir: DAEMON_SOCKET_DIR,
    // Copied by the daemon into the 00-multus.conf it generates, so the shim finds the socket.
    daemonSocketDir: DAEMON_SOCKET_DIR,
    binDir: NODE_CNI_BIN_DIR,
    cniDir: '/var/lib/cni/multus',
    confDir: '/etc/cni/multus/net.d',
  };
}

/** The DaemonSet container's environment: the API service address and the downward-API node name. */
export function daemonEnv(api: { host: string; port: number }, nodeName: string, path: string): NodeJS.ProcessEnv {
  return { PATH: path, KUBERNETES_SERVICE_HOST: api.host, KUBERNETES_SERVICE_PORT: String(api.port), MULTUS_NODE_NAME: nodeName };
}

/**
 * Runs the daemon on the node with `marker` as its argv[0], so the cluster's teardown finds it by name
 * even when its pid never reached state.json (nsenter and bash exec in place: the pid stays the same).
 */
export function daemonArgv(holderPid: number, daemonBinary: string, marker: string): string[] {
  return nodeExecArgv(holderPid, ['bash', '-c', 'exec -a "$0" "$@"', marker, daemonBinary, `--config=${DAEMON_CONFIG_FILE}`]);
}

/**
 * Checks the 00-multus.conf the daemon generated: a config whose plugin is the shim, whose cluster
 * network is the node's primary config and whose socket dir is the daemon's. Returns a problem, or undefined when it is what we expect.
 */
export function shimConfProblem(text: string, primaryConfPath: string): string | undefined {
  let conf: Record<string, unknown>;
  try {
    conf = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    return `is not JSON (${(err as Error).message})`;
  }
  const plugin = Array.isArray(conf.plugins) ? (conf.plugins[0] as Record<string, unknown> | undefined) : conf;
  if (plugin?.type !== SHIM_TYPE) return `has plugin type ${JSON.stringify(plugin?.type)}, not "${SHIM_TYPE}"`;
  if (plugin.clusterNetwork !== primaryConfPath) return `names clusterNetwork ${JSON.stringify(plugin.clusterNetwork)}, not ${primaryConfPath}`;
  if (plugin.daemonSocketDir !== DAEMON_SOCKET_DIR) return `names daemonSocketDir ${JSON.stringify(plugin.daemonSocketDir)}, not ${DAEMON_SOCKET_DIR}`;
  return undefined;
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return `(${file} does not exist)`;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
}

/** GET /healthz on the daemon's unix socket, as upstream's api.WaitUntilAPIReady does. */
function healthy(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/healthz', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** What starting a node's daemon needs: at install, and again after stopThickDaemon. */
export interface ThickDaemonRun {
  holderPid: number;
  nodeName: string;
  nodeDir: string;
  daemon: string;
  /** The node's primary network config as the node sees it (the generated 00-multus.conf must name it). */
  primaryConfPath: string;
  api: { host: string; port: number };
  /** argv[0] of the daemon process; must contain the cluster's process marker (see daemonMarker). */
  marker: string;
  path: string;
  onProcess: (ref: ProcessRef) => void;
}

export interface ThickInstall extends ThickDaemonRun {
  shim: string;
  onMount: (m: { source: string; target: string }) => void;
}

/** The daemon's argv[0] on a node: the cluster's process marker, so teardown finds it by name. */
export function daemonMarker(processMarker: string, nodeName: string): string {
  return `${processMarker}-${nodeName}-multus-daemon`;
}

/** Host dir bind-mounted at DAEMON_RUN_DIR inside the node. */
const daemonRunDir = (nodeDir: string): string => join(nodeDir, 'run-multus');

/** Installs the shim, starts the daemon and returns once it serves /healthz and has written the shim's config. */
export async function installThick(o: ThickInstall): Promise<void> {
  // The pod's service-account volume and the daemon's socket dir, private to this node.
  await bindIntoNode(o.holderPid, serviceAccountDir(o.nodeDir), SERVICE_ACCOUNT_MOUNT, o.onMount);
  const runDir = daemonRunDir(o.nodeDir);
  mkdirSync(runDir, { recursive: true });
  await bindIntoNode(o.holderPid, runDir, DAEMON_RUN_DIR, o.onMount);

  copyBinary(o.shim, hostPathOf(o.nodeDir, NODE_CNI_BIN_DIR), SHIM_TYPE);
  const primary = JSON.parse(readFileSync(hostPathOf(o.nodeDir, o.primaryConfPath), 'utf8')) as { cniVersion?: string };
  const configFile = hostPathOf(o.nodeDir, DAEMON_CONFIG_FILE);
  mkdirSync(join(configFile, '..'), { recursive: true });
  writeFileSync(configFile, `${JSON.stringify(daemonConfig(primary.cniVersion ?? '0.3.1'), null, 2)}\n`);
  await startThickDaemon(o);
}

/**
 * Starts the daemon on an installed node (its config, mounts and shim in place) and returns once it
 * serves /healthz and its 00-multus.conf is there, as the DaemonSet's pod does when (re)started.
 */
export async function startThickDaemon(o: ThickDaemonRun): Promise<void> {
  const outputLog = hostPathOf(o.nodeDir, DAEMON_OUTPUT_LOG);
  const fd = openSync(outputLog, 'a');
  const [cmd, ...args] = daemonArgv(o.holderPid, o.daemon, o.marker);
  const child = spawn(cmd!, args, { detached: true, stdio: ['ignore', fd, fd], env: daemonEnv(o.api, o.nodeName, o.path) });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${o.daemon} on ${o.nodeName}`);
  child.unref();
  o.onProcess(processRef(child.pid));
  await awaitReady(o, child, join(daemonRunDir(o.nodeDir), 'socket', 'multus.sock'), outputLog);
}

async function awaitReady(o: ThickDaemonRun, child: ChildProcess, socketPath: string, outputLog: string): Promise<void> {
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ? `was killed by ${signal}` : `exited with status ${code}`));
  const conf = hostPathOf(o.nodeDir, GENERATED_CONF);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let waitingFor = `${DAEMON_SOCKET_DIR}multus.sock to answer /healthz`;
  for (;;) {
    if (exit !== undefined) throw daemonFailure(o, `${o.daemon} ${exit} during start-up`, outputLog);
    if (existsSync(socketPath) && (await healthy(socketPath))) {
      waitingFor = GENERATED_CONF;
      if (existsSync(conf)) {
        const problem = shimConfProblem(readFileSync(conf, 'utf8'), o.primaryConfPath);
        if (!problem) return;
        // The daemon writes the file in place (truncate, then write): text that does not parse yet may be
        // a write in progress, read between the two (seen once: "Unexpected end of JSON input").
        waitingFor = `${GENERATED_CONF}, which ${problem}`;
        if (!problem.startsWith('is not JSON')) throw daemonFailure(o, `the ${GENERATED_CONF} that ${o.daemon} wrote ${problem}`, outputLog);
      }
    }
    if (Date.now() > deadline) throw daemonFailure(o, `${o.daemon} was not ready after ${READY_TIMEOUT_MS / 1000} s (waiting for ${waitingFor})`, outputLog);
    await sleep(100);
  }
}

function daemonFailure(o: ThickDaemonRun, what: string, outputLog: string): Error {
  return new Error(
    `multus-daemon on ${o.nodeName}: ${what}\n` +
      `--- ${DAEMON_OUTPUT_LOG} (last lines) ---\n${tail(outputLog, 20)}\n` +
      `--- ${MULTUS_LOG} (last lines) ---\n${tail(hostPathOf(o.nodeDir, MULTUS_LOG), 20)}`,
  );
}
