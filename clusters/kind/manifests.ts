// Kubernetes objects that install the plugin under test on a kind cluster: RBAC for what the plugin
// does through the API, and a DaemonSet — either running the bundled installer (contract B) on each
// node, or an upstream Multus thin image the user supplies.
import { stringify } from 'yaml';
import {
  CNI_BIN_DIR,
  CNI_CONF_DIR,
  INSTALLER_SCRIPT,
  NODE_RUNTIME,
  PLUGIN_BINARY,
  PLUGIN_KUBECONFIG,
  PLUGIN_LOG_FILE,
  SERVICE_ACCOUNT_COPY,
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

/** The installer's argv inside the node's root (contract B flag names; paths as the node sees them). */
export function installerArgs(): string[] {
  return [
    `--cni-conf-dir=${CNI_CONF_DIR}`,
    `--cni-bin-dir=${CNI_BIN_DIR}`,
    `--multus-binary=${PLUGIN_BINARY}`,
    '--multus-conf-file=auto',
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
 * The bundled plugin's DaemonSet. The node runtime, plugin and installer were copied into the node
 * (PAYLOAD_DIR) beforehand, so the container only needs a shell: it copies its service-account
 * credentials into the node's filesystem and execs the installer chroot'ed into the node's root, where
 * the copied Node.js finds the node's own libc. The installer stays running (--cleanup-config-on-exit)
 * and removes the Multus config when the DaemonSet is deleted.
 */
export function bundledPluginManifests(installerImage: string, payloadDigest: string): K8sObject[] {
  const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
  const script = [
    'set -e',
    `mkdir -p /host${SERVICE_ACCOUNT_COPY}`,
    `cp ${sa}/token ${sa}/ca.crt /host${SERVICE_ACCOUNT_COPY}/`,
    `exec chroot /host ${NODE_RUNTIME} ${INSTALLER_SCRIPT} ${installerArgs().map(shellQuote).join(' ')}`,
  ].join('\n');
  return [
    ...rbacObjects(),
    daemonSet({
      containers: [
        {
          name: 'install-multus',
          image: installerImage,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', script],
          securityContext: { privileged: true },
          readinessProbe: {
            exec: { command: ['sh', '-c', `ls /host${CNI_CONF_DIR} | grep -q '^00-multus\\.conf'`] },
            periodSeconds: 2,
          },
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

/** Multi-document YAML for `kubectl apply -f`. */
export function manifestsYaml(objects: K8sObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}
