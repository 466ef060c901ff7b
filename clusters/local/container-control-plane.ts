// etcd and kube-apiserver from container images (`--control-plane container:<version>`), started with
// testcontainers on the Docker engine that DOCKER_HOST (or the default socket) names. Same result shape
// as startApiServer, so the rest of the cluster does not care which one runs.
//
// - The harness generates the certificates, keys and token (real-control-plane.ts) and bind-mounts
//   their directory read-only at the same path, so the argument lists are the binaries'.
// - kube-apiserver joins etcd's network namespace (as the containers of one pod share theirs) and
//   reaches it on 127.0.0.1; the etcd container publishes the API port on 127.0.0.1 only, so the API
//   is reached exactly like the binaries' (the fabric relay forwards the nodes to it).
// - testcontainers' reaper (ryuk) is a container image of its own that an offline machine does not
//   have; it is turned off and the containers are removed by their ids and labels (teardown.ts).
// - Both containers are labelled with the cluster name and their ids are reported before they start,
//   so destroy() finds them after any crash.
import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningApiServer } from './apiserver/index.ts';
import { freePort, kubeApiserverArgs, etcdArgs, logTails, tokenFileText, waitReady, writeControlPlaneSecrets } from './real-control-plane.ts';

export interface ContainerControlPlane {
  /** Kubernetes version, as the image tag: v1.20.2. */
  version: string;
  apiserverImage: string;
  etcdImage: string;
}

/** The label on every container of a local cluster; its value is the cluster name. */
export const CLUSTER_LABEL = 'multus-e2e.cluster';

/**
 * kubeadm's etcd for each Kubernetes minor (at that minor's release); kube-apiserver works with any
 * etcd 3.x of its era, so a newer patch is fine and --etcd-image overrides it.
 */
const ETCD_FOR_MINOR: Record<number, string> = {
  17: '3.4.3-0', 18: '3.4.3-0', 19: '3.4.13-0', 20: '3.4.13-0', 21: '3.4.13-0', 22: '3.5.0-0', 23: '3.5.1-0', 24: '3.5.3-0',
  25: '3.5.4-0', 26: '3.5.6-0', 27: '3.5.7-0', 28: '3.5.9-0', 29: '3.5.10-0', 30: '3.5.12-0', 31: '3.5.15-0', 32: '3.5.16-0', 33: '3.5.21-0',
};

export const KUBERNETES_VERSION = /^v1\.(\d+)\.\d+(-[0-9A-Za-z.-]+)?$/;

/** The official images of a version unless given; a version without a known etcd needs etcdImage. */
export function resolveContainerControlPlane(o: { version: string; apiserverImage?: string; etcdImage?: string }): ContainerControlPlane {
  const m = KUBERNETES_VERSION.exec(o.version);
  if (!m) throw new Error(`control plane version "${o.version}" is not a Kubernetes version like v1.20.2`);
  const etcd = ETCD_FOR_MINOR[Number(m[1])];
  if (!o.etcdImage && !etcd) {
    throw new Error(`no default etcd image for Kubernetes ${o.version} (known: v1.${Object.keys(ETCD_FOR_MINOR).join(', v1.')}); give --etcd-image`);
  }
  return {
    version: o.version,
    apiserverImage: o.apiserverImage ?? `registry.k8s.io/kube-apiserver:${o.version}`,
    etcdImage: o.etcdImage ?? `registry.k8s.io/etcd:${etcd}`,
  };
}

type Testcontainers = typeof import('testcontainers');

/** testcontainers, with its reaper off (loaded on first use: most clusters need no Docker). */
async function testcontainers(): Promise<Testcontainers> {
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  return import('testcontainers');
}

/**
 * Both images present locally, or pulled now; otherwise an error naming the missing one. Run before
 * anything of the cluster is created.
 */
export async function ensureImages(cp: ContainerControlPlane): Promise<void> {
  const tc = await testcontainers();
  let client: Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>;
  try {
    client = await tc.getContainerRuntimeClient();
  } catch (err) {
    throw new Error(`--control-plane container:${cp.version} needs a Docker engine (DOCKER_HOST or /var/run/docker.sock): ${(err as Error).message}`);
  }
  for (const image of [cp.etcdImage, cp.apiserverImage]) {
    const name = tc.ImageName.fromString(image);
    if (await client.image.exists(name)) continue;
    try {
      await client.image.pull(name);
    } catch (err) {
      throw new Error(`image ${image} is not on the Docker engine and could not be pulled (${(err as Error).message}); load it, or name a local one with --${image === cp.etcdImage ? 'etcd' : 'apiserver'}-image`);
    }
  }
}

const API_PORT = 6443;
const ETCD_CLIENT = 2379;
const ETCD_PEER = 2380;

export async function startContainerControlPlane(opts: {
  cp: ContainerControlPlane;
  clusterName: string;
  /** Holds certs, keys and the token file; mounted read-only into kube-apiserver at the same path. */
  dir: string;
  /** Where etcd.log and kube-apiserver.log go (the containers' output). */
  logDir: string;
  sans: string[];
  /** Called with each container's id once it exists, before it starts. */
  onContainer: (id: string) => void;
}): Promise<RunningApiServer> {
  const tc = await testcontainers();
  const client = await tc.getContainerRuntimeClient();
  const secrets = await writeControlPlaneSecrets(opts.dir, opts.sans);
  const port = await freePort();
  const started: { id: string; stop(): Promise<unknown> }[] = [];
  const failed: string[] = [];
  /** Appends a container's output to LOGDIR/<component>.log (appending: a restarted kube-apiserver keeps the earlier output). */
  const follow = (component: string, stream: NodeJS.ReadableStream, onEnd: () => void) => {
    stream.pipe(createWriteStream(join(opts.logDir, `${component}.log`), { flags: 'a' }));
    stream.on('end', onEnd);
  };

  /** A control plane container, named and labelled after the cluster. */
  class ControlPlaneContainer extends tc.GenericContainer {
    constructor(image: string, component: string, private readonly publishApiOn?: number) {
      super(image);
      this.withName(`multus-e2e-${opts.clusterName}-${component}`)
        .withLabels({ [CLUSTER_LABEL]: opts.clusterName })
        .withStartupTimeout(60_000)
        // The output ends when the container stops: while the cluster starts, that is a failure.
        .withLogConsumer((stream) => follow(component, stream, () => failed.push(`the ${component} container stopped`)));
    }

    /** Published on 127.0.0.1 only (testcontainers' own port option binds every address). */
    protected override async beforeContainerCreated(): Promise<void> {
      if (this.publishApiOn === undefined) return;
      this.createOpts.ExposedPorts = { [`${API_PORT}/tcp`]: {} };
      this.hostConfig.PortBindings = { [`${API_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(this.publishApiOn) }] };
    }

    protected override async containerCreated(id: string): Promise<void> {
      opts.onContainer(id);
    }
  }

  const stopAll = async () => {
    // kube-apiserver (first in `started`) before etcd.
    for (const c of started) await c.stop().catch(() => undefined);
  };
  try {
    // etcd holds the network namespace, so it publishes kube-apiserver's port.
    const etcd = await new ControlPlaneContainer(opts.cp.etcdImage, 'etcd', port)
      .withEntrypoint(['/usr/local/bin/etcd'])
      .withCommand(etcdArgs('/var/lib/etcd', ETCD_CLIENT, ETCD_PEER))
      .start();
    started.push({ id: etcd.getId(), stop: () => etcd.stop({ remove: true, removeVolumes: true, timeout: 5_000 }) });
    const apiserver = await new ControlPlaneContainer(opts.cp.apiserverImage, 'kube-apiserver')
      .withEntrypoint(['/usr/local/bin/kube-apiserver'])
      .withCommand(kubeApiserverArgs({ etcdUrl: `http://127.0.0.1:${ETCD_CLIENT}`, bindAddress: '0.0.0.0', port: API_PORT, secrets }))
      .withNetworkMode(`container:${etcd.getId()}`)
      .withBindMounts([{ source: opts.dir, target: opts.dir, mode: 'ro' }])
      .start();
    started.unshift({ id: apiserver.getId(), stop: () => apiserver.stop({ remove: true, removeVolumes: true, timeout: 5_000 }) });
    await waitReady(`https://127.0.0.1:${port}/readyz`, secrets.token, secrets.certs.caPem, async () => failed[0]);
  } catch (err) {
    await stopAll();
    throw new Error(`control plane containers (${opts.cp.apiserverImage}, ${opts.cp.etcdImage}) did not start: ${(err as Error).message}\n${logTails(opts.logDir)}`);
  }
  const apiserver = client.container.getById(started[0]!.id);
  // An outage of the API server alone: etcd keeps the objects, and the same container serves them again.
  const stop = async () => {
    if ((await apiserver.inspect()).State.Running) await apiserver.stop({ t: 5 });
  };
  const start = async () => {
    if ((await apiserver.inspect()).State.Running) return;
    const since = Math.floor(Date.now() / 1000);
    await apiserver.start();
    follow('kube-apiserver', await client.container.logs(apiserver, { since }), () => undefined);
    await waitReady(`https://127.0.0.1:${port}/readyz`, secrets.token, secrets.certs.caPem, async () => undefined);
  };
  return {
    url: `https://127.0.0.1:${port}`, port, caFile: secrets.certs.caFile, caPem: secrets.certs.caPem, token: secrets.token,
    serviceAccountToken: secrets.serviceAccountToken,
    close: stopAll,
    stop,
    start,
    // The token file is bind-mounted, and kube-apiserver reads it only when it starts (real-control-plane.ts).
    setServiceAccountToken: async (next) => {
      writeFileSync(secrets.files.tokens, tokenFileText(secrets.token, next), { mode: 0o600 });
      await stop();
      await start();
    },
  };
}

/** A Docker engine is configured the ordinary way: containers may exist only then. */
export function dockerConfigured(): boolean {
  return !!process.env.DOCKER_HOST || existsSync('/var/run/docker.sock');
}

/** Removes the cluster's containers: the recorded ids, and any other with its label (created before its id was recorded). */
export async function removeClusterContainers(clusterName: string, ids: readonly string[]): Promise<void> {
  const tc = await testcontainers();
  const client = await tc.getContainerRuntimeClient();
  const labelled = await clusterContainers(clusterName, client);
  // kube-apiserver lives in etcd's network namespace: the newest (kube-apiserver) goes first.
  for (const id of [...new Set([...[...ids].reverse(), ...labelled])]) {
    await client.container.dockerode.getContainer(id).remove({ force: true, v: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }
}

/** Ids of the containers (running or not) labelled with the cluster name. */
export async function clusterContainers(clusterName: string, client?: Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>): Promise<string[]> {
  const c = client ?? await (await testcontainers()).getContainerRuntimeClient();
  const list = await c.container.dockerode.listContainers({ all: true, filters: { label: [`${CLUSTER_LABEL}=${clusterName}`] } });
  return list.sort((a, b) => b.Created - a.Created).map((x) => x.Id);
}
