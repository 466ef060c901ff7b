// Finding a pod's network namespace inside a kind node from `crictl inspectp` output.

interface InspectP {
  info?: {
    pid?: number;
    runtimeSpec?: { linux?: { namespaces?: { type?: string; path?: string }[] } };
  };
}

/**
 * The netns path of a pod sandbox: the network namespace path containerd put in the sandbox's OCI
 * spec (/var/run/netns/cni-…), else /proc/PID/ns/net of the sandbox's pause process.
 */
export function netnsFromInspectP(json: string, sandboxId: string): string {
  let parsed: InspectP;
  try {
    parsed = JSON.parse(json) as InspectP;
  } catch {
    throw new Error(`crictl inspectp ${sandboxId}: output is not JSON`);
  }
  const nsPath = parsed.info?.runtimeSpec?.linux?.namespaces?.find((ns) => ns.type === 'network')?.path;
  if (nsPath) return nsPath;
  const pid = parsed.info?.pid;
  if (typeof pid === 'number' && pid > 0) return `/proc/${pid}/ns/net`;
  throw new Error(`crictl inspectp ${sandboxId}: no network namespace path and no sandbox pid in its info`);
}
