// The requirements a delegate is certified against, each with the CNI spec section it comes from and its
// level: MUST where the spec says must, SHOULD where it says should (a certificate needs both; the level
// tells a reader how hard the spec is about it). Version-specific requirements are judged once per CNI
// version the delegate claims.

export type Level = 'MUST' | 'SHOULD';

export const MULTI_NETWORK_SPEC = 'Multi-network spec v1.3';
/** Which delegates a requirement concerns: interface plugins, IPAM plugins (--ipam-only), or both. */
export type Applies = 'interface' | 'ipam' | 'both';

export interface Requirement {
  id: string;
  title: string;
  /** Section in the CNI spec of the version under test (1.0.0 for versions up to 1.0.0), or in `spec`. */
  section: string;
  /** The document the section is of, when not the CNI spec of the version under test (Part 2). */
  spec?: string;
  level: Level;
  applies: Applies;
  /** Lowest CNI version it exists in (e.g. CHECK came with 0.4.0, STATUS and GC with 1.1.0). */
  since?: string;
  /** Judged once per claimed version (true) or once for the delegate. */
  perVersion: boolean;
}

export const REQUIREMENTS: readonly Requirement[] = [
  { id: 'version.well-formed', title: 'VERSION prints the version asked and a list of supported versions', section: '§2 VERSION; §5 Version', level: 'MUST', applies: 'both', perVersion: false },
  { id: 'version.unsupported-refused', title: 'A cniVersion the plugin does not support is refused with code 1', section: '§5 Error (code 1)', level: 'MUST', applies: 'both', perVersion: false },
  { id: 'env.missing', title: 'ADD without CNI_CONTAINERID, CNI_NETNS or CNI_IFNAME is refused with code 4 naming the variable', section: '§2 Parameters; §5 Error (code 4)', level: 'MUST', applies: 'both', perVersion: false },
  { id: 'env.invalid', title: 'An unknown CNI_COMMAND is refused with code 4 naming the variable', section: '§2 Parameters; §5 Error (code 4)', level: 'MUST', applies: 'both', perVersion: false },
  { id: 'stdin.malformed', title: 'A configuration that is not JSON is refused with code 6', section: '§5 Error (code 6)', level: 'MUST', applies: 'both', perVersion: false },
  { id: 'error.well-formed', title: 'Every error is a JSON object with code and msg on stdout, with a non-zero exit', section: '§2 Errors; §5 Error', level: 'MUST', applies: 'both', perVersion: false },
  { id: 'add.result-schema', title: 'The ADD result has the shape of its version', section: '§5 ADD Success', level: 'MUST', applies: 'both', perVersion: true },
  { id: 'add.result-true', title: 'The interfaces, MACs, MTUs, addresses and routes the ADD result lists are what the kernel shows', section: '§5 ADD Success', level: 'MUST', applies: 'interface', perVersion: true },
  { id: 'add.ifname', title: 'The interface is created as CNI_IFNAME in CNI_NETNS, and a name it cannot use is refused', section: '§2 Parameters (CNI_IFNAME, CNI_NETNS); §2 ADD', level: 'MUST', applies: 'interface', perVersion: true },
  { id: 'add.runtime-config', title: 'Declared capabilities (ips, mac) passed in runtimeConfig are honoured', section: '§3 Deriving runtimeConfig', level: 'MUST', applies: 'both', perVersion: true },
  { id: 'add.concurrent', title: '8 ADDs of different containers at once all succeed with distinct addresses', section: '§2 ADD; §3 Lifecycle & Ordering', level: 'MUST', applies: 'both', perVersion: true },
  { id: 'check.healthy', title: 'CHECK with the ADD result as prevResult succeeds on a healthy attachment', section: '§2 CHECK; §3 Checking an attachment', level: 'MUST', applies: 'both', since: '0.4.0', perVersion: true },
  { id: 'check.missing-interface', title: 'CHECK fails once the interface was removed by hand', section: '§2 CHECK', level: 'SHOULD', applies: 'interface', since: '0.4.0', perVersion: true },
  { id: 'del.removes-everything', title: 'DEL removes what ADD created: links, addresses, routes, host-side state, IPAM allocation', section: '§2 DEL; §3 Deleting an attachment', level: 'MUST', applies: 'both', perVersion: true },
  { id: 'del.idempotent', title: 'A second DEL of the same attachment succeeds', section: '§2 DEL', level: 'MUST', applies: 'both', perVersion: true },
  { id: 'del.without-prevresult', title: 'DEL without prevResult succeeds and cleans up', section: '§2 DEL', level: 'SHOULD', applies: 'both', since: '0.4.0', perVersion: true },
  { id: 'del.netns-gone', title: 'DEL after the network namespace is gone succeeds and releases host-side state and addresses', section: '§2 DEL', level: 'SHOULD', applies: 'both', perVersion: true },
  { id: 'del.after-failed-add', title: 'DEL after a failed ADD succeeds and leaves nothing', section: '§2 DEL; §3 Lifecycle & Ordering', level: 'SHOULD', applies: 'interface', perVersion: true },
  { id: 'status.ready', title: 'STATUS succeeds for a plugin that can serve ADD', section: '§2 STATUS', level: 'MUST', applies: 'both', since: '1.1.0', perVersion: true },
  { id: 'gc.releases-stale', title: 'GC releases the attachments cni.dev/attachments no longer lists and keeps the others', section: '§2 GC; §3 Garbage-collecting a network', level: 'SHOULD', applies: 'both', since: '1.1.0', perVersion: true },
  // Part 2 (profile full): the delegate as a Multus delegate, on a local cluster with the plugin under test.
  { id: 'multus.attach-twice', title: 'The delegate\'s network, as a NetworkAttachmentDefinition selected twice, gives each pod net1 and net2, two separate attachments', section: '§3.4.1; §4.1.1; §4.2, §4.2.1', spec: MULTI_NETWORK_SPEC, level: 'MUST', applies: 'both', perVersion: false },
  { id: 'multus.network-status', title: 'The network-status annotation lists the cluster network as default and net1, net2 of the network, with the interfaces, MACs and IPs the kernel shows', section: '§4.2; §5.1.1; §5.2; §5.3.1–§5.3.4', spec: MULTI_NETWORK_SPEC, level: 'MUST', applies: 'both', perVersion: false },
  { id: 'multus.pod-to-pod', title: 'Two pods on the network reach each other between their net1 addresses', section: '— (beyond the specs: the attachment carries traffic)', spec: MULTI_NETWORK_SPEC, level: 'SHOULD', applies: 'both', perVersion: false },
  { id: 'multus.delete-clean', title: 'Deleting the pods tears down every attachment and leaves nothing on their nodes: links, addresses, network namespaces, IPAM allocations, caches', section: '§7.2; CNI spec §2 DEL', spec: MULTI_NETWORK_SPEC, level: 'MUST', applies: 'both', perVersion: false },
  { id: 'multus.latency', title: 'Every ADD and DEL of the pods through Multus succeeded and timed the delegate for each attachment (ADD/DEL p50/p95 in the certificate)', section: '— (beyond the specs: measured)', spec: MULTI_NETWORK_SPEC, level: 'SHOULD', applies: 'both', perVersion: false },
];

/** Ids of the Part 2 requirements, in the order the certificate lists them. */
export const MULTUS_REQUIREMENTS: readonly string[] = REQUIREMENTS.filter((r) => r.id.startsWith('multus.')).map((r) => r.id);

export function requirement(id: string): Requirement {
  const r = REQUIREMENTS.find((x) => x.id === id);
  if (!r) throw new Error(`unknown certification requirement "${id}"`);
  return r;
}

const parts = (v: string): number[] => v.split('.').map(Number);
export function versionAtLeast(v: string, min: string): boolean {
  const [a, b] = [parts(v), parts(min)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** The spec document a version's requirements are cited from. */
export const specFor = (version: string | undefined): string => (version && versionAtLeast(version, '1.1.0') ? 'CNI spec 1.1.0' : 'CNI spec 1.0.0');
