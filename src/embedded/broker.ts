// The embedded MQTT broker for the default mode: aedes on a TCP port, in-process, in-memory persistence.
import net from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(opts: { host: string; port: number }): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker({ heartbeatInterval: 60_000 });
  const server = net.createServer((socket) => {
    // Acks are small and latency-bound: no Nagle delay.
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `MQTT port ${opts.port} is in use: set MQTT_PORT to a free port, or MQTT_URL to use that broker`,
            )
          : err,
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const connectHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    url: `mqtt://${connectHost}:${port}`,
    port,
    stop: async () => {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
