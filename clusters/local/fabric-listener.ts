// Run inside the fabric netns (by fabric-relay.ts): binds the API address there and hands the
// listening socket to the parent over IPC, then exits. The socket stays in the fabric netns while
// the parent (in the host netns) accepts on it — one process serving two namespaces, no extra daemon.
import { createServer } from 'node:net';

const [host, port] = process.argv.slice(2);
if (!host || !port || !process.send) {
  console.error('usage (spawned with an IPC channel): fabric-listener.ts HOST PORT');
  process.exit(2);
}
const server = createServer();
server.on('error', (err) => {
  console.error(`fabric-listener: ${err.message}`);
  process.exit(1);
});
server.listen({ host, port: Number(port) }, () => {
  process.send!('listening', server, { keepOpen: false }, () => {
    server.close();
    process.disconnect();
  });
});
