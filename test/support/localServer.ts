import type * as http from "node:http";
import type * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";

/**
 * A local stand-in's server on a free loopback port, whose close() also ends kept-alive
 * connections (a client's keep-alive socket would otherwise hold close() open).
 */
export interface LocalServer {
  port: number;
  close(): Promise<void>;
}

export async function listenLocal(server: http.Server | https.Server): Promise<LocalServer> {
  const sockets = new Set<Socket>();
  const event = "setSecureContext" in server ? "secureConnection" : "connection";
  server.on(event, (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
