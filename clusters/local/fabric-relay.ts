// Makes the API server (listening on 127.0.0.1 in the host netns) reachable at 198.18.0.1 in the
// fabric netns: a socket bound there by fabric-listener.ts, relayed to 127.0.0.1:port.
import { fork } from 'node:child_process';
import { connect, type Server } from 'node:net';
import { nodeScript } from './node-script.ts';

export function listenInFabric(fabricNetns: string, host: string, port: number, target: { host: string; port: number }): Promise<Server> {
  const listener = nodeScript(new URL('./fabric-listener.ts', import.meta.url));
  const child = fork(listener.script, [host, String(port)], {
    execPath: 'nsenter',
    execArgv: [`--net=/run/netns/${fabricNetns}`, '--', process.execPath, ...listener.execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (_msg, handle) => {
      const server = handle as Server;
      server.on('connection', (client) => {
        const upstream = connect(target.port, target.host);
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      resolve(server);
    });
    child.once('exit', (code) => reject(new Error(`fabric listener for ${host}:${port} in ${fabricNetns} exited with ${code}`)));
  });
}
