// Developer entry: run any command in the guest, or just build the cached image.
//   node --import tsx clusters/vm/main.ts [--setup-only] [--verbose] [--share DIR]... [-- CMD ARGS...]
// Without --share, the current directory is shared read-write. Exits with the guest command's status.
import { ensureVmImage } from './image.ts';
import { GUEST_MODULES, runGuest } from './guest-run.ts';

const args = process.argv.slice(2);
const shares: string[] = [];
let setupOnly = false;
let verbose = false;
while (args.length && args[0] !== '--') {
  const a = args.shift()!;
  if (a === '--setup-only') setupOnly = true;
  else if (a === '--verbose') verbose = true;
  else if (a === '--share' && args[0]) shares.push(args.shift()!);
  else {
    console.error(`usage: main.ts [--setup-only] [--verbose] [--share DIR]... [-- CMD ARGS...] (unknown: ${a})`);
    process.exit(2);
  }
}
args.shift();
const progress = (l: string): void => console.error(l);
const t0 = Date.now();
const image = await ensureVmImage(progress);
progress(`vm: image ready (${((Date.now() - t0) / 1000).toFixed(1)} s): ${image.dir}`);
if (!setupOnly) {
  const argv = args.length ? args : ['sh', '-c', 'uname -r; nproc; free -m | head -2'];
  const r = await runGuest(image, {
    argv, cwd: process.cwd(), shares: shares.length ? shares : [process.cwd()], modules: GUEST_MODULES, verbose,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', TERM: 'dumb' },
    output: (l) => console.log(l),
  });
  progress(`vm: guest exited ${r.exitCode} after ${(r.wallMs / 1000).toFixed(1)} s`);
  process.exit(r.exitCode);
}
