// The image of an upstream Multus DaemonSet (thin or thick), built locally from the binaries the user
// gave: no registry, no base image. Laid out like upstream's own image (binaries under
// /usr/src/multus-cni/bin), plus a static busybox for the shell the DaemonSet's commands use and the
// CNI call recorder the init container installs in front of the plugin.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { PluginUnderTest } from '../provider.ts';
import { recorderScript } from './cni-call-recorder.ts';
import { UPSTREAM_PLUGIN_DIR } from './node-paths.ts';
import type { ToolRunner } from './tools.ts';

export type UpstreamPlugin = Extract<PluginUnderTest, { kind: 'thin' | 'thick' }>;

/** Where upstream's images keep the binaries (deployments/multus-daemonset*.yml copy them from here). */
export const IMAGE_BIN_DIR = '/usr/src/multus-cni/bin';
/** The recorder inside the image, ready to be copied to /opt/cni/bin/<CNI binary name>. */
export const IMAGE_RECORDER = '/usr/src/multus-e2e/cni-call-recorder';
/** Changes whenever the image's layout beyond the given files changes, so an image of an older layout is not reused. */
const IMAGE_LAYOUT_VERSION = '3';
/** busybox applets the DaemonSet commands use (sh -c "mkdir … && cp … && mv …", chroot for the installer). */
const SHELL_TOOLS = ['sh', 'cp', 'mv', 'mkdir', 'chroot', 'ls', 'grep', 'cat'];

/** The binary containerd runs as the CNI plugin: thin `multus`, or thick `multus-shim`. */
export function cniBinaryName(plugin: UpstreamPlugin): 'multus' | 'multus-shim' {
  return plugin.kind === 'thin' ? 'multus' : 'multus-shim';
}

/** Image files: path inside the image → host file. */
function imageBinaries(plugin: UpstreamPlugin): [string, string][] {
  return plugin.kind === 'thin'
    ? [[`${IMAGE_BIN_DIR}/multus`, plugin.path]]
    : [[`${IMAGE_BIN_DIR}/multus-shim`, plugin.shim], [`${IMAGE_BIN_DIR}/multus-daemon`, plugin.daemon]];
}

/** The image's name: its kind and a digest of everything in it, so a new build gets a new tag. */
export function pluginImageName(plugin: UpstreamPlugin, busybox: string): string {
  const hash = createHash('sha256');
  for (const [inImage, file] of imageBinaries(plugin)) hash.update(inImage).update(readFileSync(file));
  hash.update(readFileSync(busybox)).update(recorderScript(`${UPSTREAM_PLUGIN_DIR}/${cniBinaryName(plugin)}`)).update(IMAGE_LAYOUT_VERSION);
  return `multus-e2e.local/multus-${plugin.kind}:${hash.digest('hex').slice(0, 12)}`;
}

/** Refuses, before anything is made, what the image cannot be built from. */
export function checkPluginImageInputs(plugin: UpstreamPlugin, busybox: string | undefined): string {
  for (const [, file] of imageBinaries(plugin)) {
    if (!existsSync(file)) throw new Error(`plugin under test not found at ${file}`);
  }
  if (!busybox || !existsSync(busybox)) {
    throw new Error(
      `the ${plugin.kind} Multus DaemonSet image is built locally around a static busybox, and none was found ` +
        `(Debian: apt-get install busybox-static, or set MULTUS_E2E_KIND_BUSYBOX=PATH)`,
    );
  }
  return busybox;
}

/**
 * Builds the image with `docker build` from a `FROM scratch` context in workDir (nothing is pulled),
 * unless an image of that name (same content digest) is already there. Returns its name.
 */
export async function buildPluginImage(runner: ToolRunner, plugin: UpstreamPlugin, busybox: string, workDir: string): Promise<string> {
  const image = pluginImageName(plugin, busybox);
  const present = await runner.run('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { allowFail: true });
  if (present.code === 0) return image;
  const context = join(workDir, `image-multus-${plugin.kind}`);
  rmSync(context, { recursive: true, force: true });
  try {
    const root = join(context, 'rootfs');
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(busybox, join(root, 'bin/busybox'));
    for (const tool of SHELL_TOOLS) symlinkSync('busybox', join(root, 'bin', tool));
    for (const [inImage, file] of imageBinaries(plugin)) {
      mkdirSync(join(root, inImage, '..'), { recursive: true });
      copyFileSync(file, join(root, inImage));
    }
    // multus-daemon refuses to start unless os/user resolves uid 0 to a user (upstream's image has a passwd).
    mkdirSync(join(root, 'etc'));
    // Pods' netns paths are /var/run/netns/cni-…; the DaemonSet mounts the node's /run/netns, and a
    // distribution image (as upstream's is) has /var/run pointing at /run.
    mkdirSync(join(root, 'var'));
    symlinkSync('../run', join(root, 'var/run'));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
    mkdirSync(join(root, IMAGE_RECORDER, '..'), { recursive: true });
    writeFileSync(join(root, IMAGE_RECORDER), recorderScript(`${UPSTREAM_PLUGIN_DIR}/${cniBinaryName(plugin)}`), { mode: 0o755 });
    writeFileSync(
      join(context, 'Dockerfile'),
      `# Built by multus-e2e from ${imageBinaries(plugin).map(([, f]) => basename(f)).join(', ')} and a static busybox.\nFROM scratch\nCOPY rootfs/ /\n`,
    );
    await runner.run('docker', ['build', '--tag', image, context]);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return image;
}
