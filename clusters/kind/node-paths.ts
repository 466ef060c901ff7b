// Where the kind provider puts things inside a node container. Shared by the payload copy, the
// installer DaemonSet (which runs chroot'ed into the node's root) and the Cluster's log readers.
export const PAYLOAD_DIR = '/opt/multus-e2e';
/** Node.js runtime for the bundled plugin; linked as /usr/local/bin/node so `#!/usr/bin/env node` finds it. */
export const NODE_RUNTIME = `${PAYLOAD_DIR}/bin/node`;
export const NODE_ON_PATH = '/usr/local/bin/node';
/** Static busybox providing pod-side tools the node image lacks (ping). */
export const BUSYBOX = `${PAYLOAD_DIR}/bin/busybox`;
export const PLUGIN_BINARY = `${PAYLOAD_DIR}/multus`;
/** The bundled plugin's thick mode: its shim (sh + curl, started by the recorder) and its daemon (Node.js). */
export const BUNDLED_SHIM = `${PAYLOAD_DIR}/multus-shim`;
export const BUNDLED_DAEMON = `${PAYLOAD_DIR}/multus-daemon`;
/** The CNI call recorder in front of the bundled plugin (or, thick, its shim); the installer copies it to /opt/cni/bin. */
export const BUNDLED_RECORDER = `${PAYLOAD_DIR}/cni-call-recorder`;
/** Upstream binaries (thin multus, multus-shim) as their DaemonSet's init container installs them; the recorder takes their name in CNI_BIN_DIR. */
export const UPSTREAM_PLUGIN_DIR = `${PAYLOAD_DIR}/plugin`;
export const INSTALLER_SCRIPT = `${PAYLOAD_DIR}/multus-install`;
export const CNI_BIN_DIR = '/opt/cni/bin';
export const CNI_CONF_DIR = '/etc/cni/net.d';
export const PLUGIN_LOG_FILE = '/var/log/multus/multus.log';
export const PLUGIN_KUBECONFIG = `${CNI_CONF_DIR}/multus.d/multus.kubeconfig`;
/** The installer's service-account token and CA, copied out of the pod so the chroot'ed installer sees them. */
export const SERVICE_ACCOUNT_COPY = '/var/lib/multus-e2e/serviceaccount';
