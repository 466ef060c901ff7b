// Kubernetes objects that install the plugin under test on a kind cluster: RBAC for what the plugin
// does through the API, and a DaemonSet — the bundled installer on each node; upstream
// Multus thin or thick shaped like upstream's own deployments/multus-daemonset{,-thick}.yml (v4.2.2),
// with an image built locally from the user's binaries; or an upstream thin image the user supplies.
import { stringify } from 'yaml';
import type { MultusConfigShape } from '../provider.ts';
import { IMAGE_BIN_DIR, IMAGE_RECORDER, cniBinaryName, type UpstreamPlugin } from './plugin-image.ts';
import {
  BUNDLED_DAEMON,
  BUNDLED_RECORDER,
  CNI_BIN_DIR,
  CNI_CONF_DIR,
  INSTALLER_SCRIPT,
  NODE_RUNTIME,
  PLUGIN_KUBECONFIG,
  PLUGIN_LOG_FILE,
  SERVICE_ACCOUNT_COPY,
  UPSTREAM_PLUGIN_DIR,
} from './node-paths.ts';

export const INSTALL_NAMESPACE = 'kube-system';
export const INSTALL_NAME = 'multus-e2e';
export const DAEMONSET_LABELS = { app: 'multus-e2e', tier: 'node' } as const;
/** Plugin log verbosity: the per-call lines the latency report reads must be written. */
export const PLUGIN_LOG_LEVEL = 'verbose';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * What the plugin does through the API during ADD/DEL: read the pod (annotations, UID), write its
 * network-status (pods/status), read NADs, and record events for failed attachments.
 */
export const PLUGIN_RBAC_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
  { apiGroups: [''], resources: ['pods/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
];

function rbacObjects(): K8sObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: INSTALL_NAME, namespace: INSTALL_NAMESPACE } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: INSTALL_NAME }, rules: PLUGIN_RBAC_RULES },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: INSTALL_NAME },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: INSTALL_NAME },
      subjects: [{ kind: 'ServiceAccount', name: INSTALL_NAME, namespace: INSTALL_NAMESPACE }],
    },
  ];
}

function daemonSet(podSpec: Record<string, unknown>, podAnnotations: Record<string, string> = {}): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: INSTALL_NAME, namespace: INSTALL_NAMESPACE, labels: { ...DAEMONSET_LABELS } },
    spec: {
      selector: { matchLabels: { ...DAEMONSET_LABELS } },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: { ...DAEMONSET_LABELS }, annotations: podAnnotations },
        spec: {
          hostNetwork: true,
          serviceAccountName: INSTALL_NAME,
          // Every node, the control plane included, runs pods through the plugin.
          tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute' }],
          terminationGracePeriodSeconds: 10,
          ...podSpec,
        },
      },
    },
  };
}

/**
 * The installer's argv inside the node's root (plugin/install flag names; paths as the node sees them).
 * With a binary, the installer copies it to /opt/cni/bin/multus; without, the plugin is installed by
 * someone else (upstream thin's init container) and the installer only writes the configuration.
 */
export function installerArgs(pluginBinary?: string, shape: MultusConfigShape = 'delegates'): string[] {
  return [
    `--cni-conf-dir=${CNI_CONF_DIR}`,
    `--cni-bin-dir=${CNI_BIN_DIR}`,
    pluginBinary ? `--multus-binary=${pluginBinary}` : '--skip-multus-binary-copy',
    '--multus-conf-file=auto',
    `--multus-config-shape=${shape}`,
    `--multus-kubeconfig-file-host=${PLUGIN_KUBECONFIG}`,
    `--multus-log-file=${PLUGIN_LOG_FILE}`,
    `--multus-log-level=${PLUGIN_LOG_LEVEL}`,
    `--service-account-dir=${SERVICE_ACCOUNT_COPY}`,
    '--wait-for-default-network=120',
    '--cleanup-config-on-exit',
  ];
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Pod annotation carrying a digest of the copied plugin files: a new build changes the pod template, so
 * re-applying to a reused cluster rolls the DaemonSet and the installer copies the new plugin. */
export const PAYLOAD_DIGEST_ANNOTATION = 'multus-e2e.io/payload-sha256';

/**
 * The container command that runs the bundled installer: it copies the pod's service-account
 * credentials into the node's filesystem and execs the installer chroot'ed into the node's root
 * (mounted at /host), where the copied Node.js finds the node's own libc. The installer stays running
 * (--cleanup-config-on-exit) and removes the Multus config when the DaemonSet is deleted.
 */
function installerCommand(args: string[], then?: string[]): string[] {
  const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
  const installer = `chroot /host ${NODE_RUNTIME} ${INSTALLER_SCRIPT} ${args.map(shellQuote).join(' ')}`;
  const script = [
    'set -e',
    `mkdir -p /host${SERVICE_ACCOUNT_COPY}`,
    `cp ${sa}/token ${sa}/ca.crt /host${SERVICE_ACCOUNT_COPY}/`,
    ...(then ? [installer, `exec chroot /host ${then.map(shellQuote).join(' ')}`] : [`exec ${installer}`]),
  ].join('\n');
  return ['sh', '-c', script];
}

/** The bundled installer's argv for thick mode: the recorder (in front of the shim) as multus-shim, and daemon-config.json. */
export function thickInstallerArgs(): string[] {
  return [
    '--thick',
    `--cni-conf-dir=${CNI_CONF_DIR}`,
    `--cni-bin-dir=${CNI_BIN_DIR}`,
    `--multus-binary=${BUNDLED_RECORDER}`,
    `--multus-log-file=${PLUGIN_LOG_FILE}`,
    `--multus-log-level=${PLUGIN_LOG_LEVEL}`,
    `--service-account-dir=${SERVICE_ACCOUNT_COPY}`,
    `--daemon-socket-dir=${BUNDLED_DAEMON_SOCKET_DIR}`,
  ];
}

/** Where the bundled daemon listens on the node (upstream's default) and the shim connects. */
export const BUNDLED_DAEMON_SOCKET_DIR = '/run/multus';

/** Ready once the installer has written the Multus config into the node's CNI config dir. */
const MULTUS_CONFIG_WRITTEN = { exec: { command: ['sh', '-c', `ls /host${CNI_CONF_DIR} | grep -q '^00-multus\\.conf'`] }, periodSeconds: 2 };

/**
 * The bundled plugin in thick mode: per node, the installer (chroot'ed into the node's root, as for
 * thin) installs the recorder as /opt/cni/bin/multus-shim in front of the shim and writes
 * daemon-config.json, then the container becomes multus-daemon, chroot'ed too. The daemon is a
 * Node.js program: in the node's root it runs on the Node.js copied there, and it executes the
 * delegates, reads netns paths and keeps IPAM state exactly where a thin plugin would (no image to
 * build, no chrootDir). hostPID as upstream's thick DaemonSet; the node name for its pod watch.
 */
export function bundledThickManifests(installerImage: string, payloadDigest: string): K8sObject[] {
  return [
    ...rbacObjects(),
    daemonSet({
      hostPID: true,
      containers: [
        {
          name: 'multus-daemon',
          image: installerImage,
          imagePullPolicy: 'IfNotPresent',
          command: installerCommand(thickInstallerArgs(), [NODE_RUNTIME, BUNDLED_DAEMON, `--config=${CNI_CONF_DIR}/multus.d/daemon-config.json`]),
          env: [{ name: 'MULTUS_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
          securityContext: { privileged: true },
          readinessProbe: MULTUS_CONFIG_WRITTEN,
          resources: { requests: { cpu: '50m', memory: '50Mi' } },
          terminationMessagePolicy: 'FallbackToLogsOnError',
          // HostToContainer: the network namespaces the runtime mounts under /run/netns after the daemon
          // started must show up in its view of the node; without it the delegates find an empty tmpfs
          // there ("unknown FS magic") instead of each pod's nsfs mount.
          volumeMounts: [{ name: 'host-root', mountPath: '/host', mountPropagation: 'HostToContainer' }],
        },
      ],
      volumes: [{ name: 'host-root', hostPath: { path: '/', type: 'Directory' } }],
    }, { [PAYLOAD_DIGEST_ANNOTATION]: payloadDigest }),
  ];
}

/**
 * The bundled plugin's DaemonSet. The node runtime, plugin, CNI call recorder and installer were copied
 * into the node (PAYLOAD_DIR) beforehand, so the container only needs a shell; the installer copies
 * the recorder to /opt/cni/bin/multus, in front of the plugin.
 */
export function bundledPluginManifests(installerImage: string, payloadDigest: string, shape: MultusConfigShape = 'delegates'): K8sObject[] {
  return [
    ...rbacObjects(),
    daemonSet({
      containers: [
        {
          name: 'install-multus',
          image: installerImage,
          imagePullPolicy: 'IfNotPresent',
          command: installerCommand(installerArgs(BUNDLED_RECORDER, shape)),
          securityContext: { privileged: true },
          readinessProbe: MULTUS_CONFIG_WRITTEN,
          resources: { requests: { cpu: '10m', memory: '30Mi' } },
          terminationMessagePolicy: 'FallbackToLogsOnError',
          volumeMounts: [{ name: 'host-root', mountPath: '/host' }],
        },
      ],
      volumes: [{ name: 'host-root', hostPath: { path: '/', type: 'Directory' } }],
    }, { [PAYLOAD_DIGEST_ANNOTATION]: payloadDigest }),
  ];
}

/** An upstream Multus thin DaemonSet running the user's image (its /install_multus and /thin_entrypoint). */
export function upstreamPluginManifests(image: string): K8sObject[] {
  const hostMounts = [
    { name: 'cni', mountPath: `/host${CNI_CONF_DIR}` },
    { name: 'cnibin', mountPath: `/host${CNI_BIN_DIR}` },
  ];
  return [
    ...rbacObjects(),
    daemonSet({
      initContainers: [
        {
          name: 'install-multus-binary',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['/install_multus'],
          args: ['--type', 'thin'],
          securityContext: { privileged: true },
          volumeMounts: [{ name: 'cnibin', mountPath: `/host${CNI_BIN_DIR}`, mountPropagation: 'Bidirectional' }],
        },
      ],
      containers: [
        {
          name: 'kube-multus',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['/thin_entrypoint'],
          args: [
            '--multus-conf-file=auto',
            `--multus-autoconfig-dir=/host${CNI_CONF_DIR}`,
            `--cni-conf-dir=/host${CNI_CONF_DIR}`,
            `--multus-log-file=${PLUGIN_LOG_FILE}`,
            `--multus-log-level=${PLUGIN_LOG_LEVEL}`,
          ],
          securityContext: { privileged: true },
          terminationMessagePolicy: 'FallbackToLogsOnError',
          volumeMounts: hostMounts,
        },
      ],
      volumes: [
        { name: 'cni', hostPath: { path: CNI_CONF_DIR } },
        { name: 'cnibin', hostPath: { path: CNI_BIN_DIR } },
      ],
    }),
  ];
}

/** Names, labels and namespace of upstream's deployments/multus-daemonset{,-thick}.yml (v4.2.2). */
export const UPSTREAM_DAEMONSET = 'kube-multus-ds';
const UPSTREAM_SA = 'multus';
const UPSTREAM_LABELS = { tier: 'node', app: 'multus', name: 'multus' } as const;
/** Thick's daemon config, as upstream's ConfigMap names it. */
export const DAEMON_CONFIG_MAP = 'multus-daemon-config';

/** Upstream's ClusterRole: thin reads and updates pods; thick's daemon also lists and watches them. */
export function upstreamRbacRules(kind: UpstreamPlugin['kind']): PolicyRule[] {
  return [
    { apiGroups: ['k8s.cni.cncf.io'], resources: ['*'], verbs: ['*'] },
    { apiGroups: [''], resources: ['pods', 'pods/status'], verbs: kind === 'thin' ? ['get', 'update'] : ['get', 'list', 'update', 'watch'] },
    { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  ];
}

function upstreamRbacObjects(kind: UpstreamPlugin['kind']): K8sObject[] {
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: UPSTREAM_SA }, rules: upstreamRbacRules(kind) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: UPSTREAM_SA },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: UPSTREAM_SA },
      subjects: [{ kind: 'ServiceAccount', name: UPSTREAM_SA, namespace: INSTALL_NAMESPACE }],
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: UPSTREAM_SA, namespace: INSTALL_NAMESPACE } },
  ];
}

function upstreamDaemonSet(podSpec: Record<string, unknown>, image: string): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: UPSTREAM_DAEMONSET, namespace: INSTALL_NAMESPACE, labels: { ...UPSTREAM_LABELS } },
    spec: {
      selector: { matchLabels: { name: UPSTREAM_LABELS.name } },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        // The image name carries a digest of its content: a new build rolls the DaemonSet.
        metadata: { labels: { ...UPSTREAM_LABELS }, annotations: { [PAYLOAD_DIGEST_ANNOTATION]: image.slice(image.lastIndexOf(':') + 1) } },
        spec: {
          hostNetwork: true,
          tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute' }],
          serviceAccountName: UPSTREAM_SA,
          terminationGracePeriodSeconds: 10,
          ...podSpec,
        },
      },
    },
  };
}

/**
 * Upstream's init container "install-multus-binary", with one difference: the binary goes to
 * /opt/multus-e2e/plugin and the CNI call recorder takes its name in /opt/cni/bin (and runs it), so
 * every call is recorded. Copied under a temporary name and renamed, so containerd never runs a
 * half-written file.
 */
function installBinaryContainer(name: ReturnType<typeof cniBinaryName>, image: string): Record<string, unknown> {
  return {
    name: 'install-multus-binary',
    image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', [
      `mkdir -p /host${UPSTREAM_PLUGIN_DIR}`,
      `cp ${IMAGE_BIN_DIR}/${name} /host${UPSTREAM_PLUGIN_DIR}/${name}`,
      `cp ${IMAGE_RECORDER} /host${CNI_BIN_DIR}/${name}.multus-e2e-new`,
      `mv /host${CNI_BIN_DIR}/${name}.multus-e2e-new /host${CNI_BIN_DIR}/${name}`,
    ].join(' && ')],
    resources: { requests: { cpu: '10m', memory: '15Mi' } },
    securityContext: { privileged: true },
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [
      { name: 'cnibin', mountPath: `/host${CNI_BIN_DIR}`, mountPropagation: 'Bidirectional' },
      { name: 'multus-e2e-plugin', mountPath: `/host${UPSTREAM_PLUGIN_DIR}` },
    ],
  };
}

const hostPathVolume = (name: string, path: string): Record<string, unknown> => ({ name, hostPath: { path } });

/**
 * Upstream thin (deployments/multus-daemonset.yml): the init container installs the user's `multus`
 * binary from the locally built image. Upstream's main container runs /thin_entrypoint, which
 * generates 00-multus.conf; here the bundled installer (the same flags, from the node payload) writes
 * that config, so upstream thin and the bundled plugin are tested with the same configuration.
 */
export function upstreamThinManifests(image: string, shape: MultusConfigShape = 'delegates'): K8sObject[] {
  return [
    ...upstreamRbacObjects('thin'),
    upstreamDaemonSet({
      containers: [
        {
          name: 'kube-multus',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: installerCommand(installerArgs(undefined, shape)),
          resources: { requests: { cpu: '10m', memory: '30Mi' } },
          securityContext: { privileged: true },
          readinessProbe: MULTUS_CONFIG_WRITTEN,
          terminationMessagePolicy: 'FallbackToLogsOnError',
          volumeMounts: [{ name: 'hostroot', mountPath: '/host' }],
        },
      ],
      initContainers: [installBinaryContainer('multus', image)],
      volumes: [
        hostPathVolume('cnibin', CNI_BIN_DIR),
        hostPathVolume('multus-e2e-plugin', UPSTREAM_PLUGIN_DIR),
        hostPathVolume('hostroot', '/'),
      ],
    }, image),
  ];
}

/**
 * Upstream's daemon-config.json, plus a log file on the node (upstream logs to stderr only) so the
 * suite can read the daemon's lines per node as it reads the thin plugin's.
 */
export function thickDaemonConfig(): Record<string, unknown> {
  return {
    chrootDir: '/hostroot',
    cniVersion: '0.3.1',
    logLevel: PLUGIN_LOG_LEVEL,
    logToStderr: true,
    logFile: PLUGIN_LOG_FILE,
    cniConfigDir: `/host${CNI_CONF_DIR}`,
    multusAutoconfigDir: `/host${CNI_CONF_DIR}`,
    multusConfigFile: 'auto',
    socketDir: '/host/run/multus/',
  };
}

/**
 * Upstream thick (deployments/multus-daemonset-thick.yml): multus-daemon per node from the locally
 * built image, its ConfigMap, upstream's mounts, and the init container installing multus-shim.
 * Upstream also copies a `passthru` CNI plugin from its image; no scenario uses it and it is not
 * among the binaries given, so it is left out.
 */
export function upstreamThickManifests(image: string): K8sObject[] {
  return [
    ...upstreamRbacObjects('thick'),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: DAEMON_CONFIG_MAP, namespace: INSTALL_NAMESPACE, labels: { tier: UPSTREAM_LABELS.tier, app: UPSTREAM_LABELS.app } },
      data: { 'daemon-config.json': `${JSON.stringify(thickDaemonConfig(), null, 4)}\n` },
    },
    upstreamDaemonSet({
      hostPID: true,
      containers: [
        {
          name: 'kube-multus',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: [`${IMAGE_BIN_DIR}/multus-daemon`],
          resources: { requests: { cpu: '100m', memory: '50Mi' }, limits: { cpu: '100m', memory: '50Mi' } },
          securityContext: { privileged: true },
          terminationMessagePolicy: 'FallbackToLogsOnError',
          volumeMounts: [
            { name: 'cni', mountPath: `/host${CNI_CONF_DIR}` },
            { name: 'cnibin', mountPath: CNI_BIN_DIR },
            { name: 'host-run', mountPath: '/host/run' },
            { name: 'host-var-lib-cni-multus', mountPath: '/var/lib/cni/multus' },
            { name: 'host-var-lib-kubelet', mountPath: '/var/lib/kubelet', mountPropagation: 'HostToContainer' },
            { name: 'host-run-k8s-cni-cncf-io', mountPath: '/run/k8s.cni.cncf.io' },
            { name: 'host-run-netns', mountPath: '/run/netns', mountPropagation: 'HostToContainer' },
            { name: 'multus-daemon-config', mountPath: `${CNI_CONF_DIR}/multus.d`, readOnly: true },
            { name: 'hostroot', mountPath: '/hostroot', mountPropagation: 'HostToContainer' },
            { name: 'multus-conf-dir', mountPath: '/etc/cni/multus/net.d' },
            { name: 'multus-log', mountPath: PLUGIN_LOG_FILE.slice(0, PLUGIN_LOG_FILE.lastIndexOf('/')) },
          ],
          env: [{ name: 'MULTUS_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        },
      ],
      initContainers: [installBinaryContainer('multus-shim', image)],
      volumes: [
        hostPathVolume('cni', CNI_CONF_DIR),
        hostPathVolume('cnibin', CNI_BIN_DIR),
        hostPathVolume('hostroot', '/'),
        { name: 'multus-daemon-config', configMap: { name: DAEMON_CONFIG_MAP, items: [{ key: 'daemon-config.json', path: 'daemon-config.json' }] } },
        hostPathVolume('host-run', '/run'),
        hostPathVolume('host-var-lib-cni-multus', '/var/lib/cni/multus'),
        hostPathVolume('host-var-lib-kubelet', '/var/lib/kubelet'),
        hostPathVolume('host-run-k8s-cni-cncf-io', '/run/k8s.cni.cncf.io'),
        hostPathVolume('host-run-netns', '/run/netns/'),
        hostPathVolume('multus-conf-dir', '/etc/cni/multus/net.d'),
        hostPathVolume('multus-e2e-plugin', UPSTREAM_PLUGIN_DIR),
        hostPathVolume('multus-log', PLUGIN_LOG_FILE.slice(0, PLUGIN_LOG_FILE.lastIndexOf('/'))),
      ],
    }, image),
  ];
}

/** Multi-document YAML for `kubectl apply -f`. */
export function manifestsYaml(objects: K8sObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}
