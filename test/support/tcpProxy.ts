import * as net from "node:net";

/**
 * A TCP relay in front of a real server (Azurite), so a test can take "the storage
 * account" off the network at an exact moment and bring it back with its data: `down()`
 * stops listening and cuts every open connection (clients then get ECONNREFUSED or
 * ECONNRESET, as from a real outage); `up()` listens again on the same port.
 */
export interface TcpProxy {
  readonly port: number;
  readonly isDown: boolean;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    track(client);
    const upstream = net.connect(targetPort, targetHost);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  let isDown = false;
  const cut = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  return {
    port,
    get isDown() {
      return isDown;
    },
    async down() {
      if (isDown) return;
      isDown = true;
      await cut();
    },
    async up() {
      if (!isDown) return;
      await listen(port);
      isDown = false;
    },
    async close() {
      if (!isDown) await cut();
      isDown = true;
    },
  };
}
