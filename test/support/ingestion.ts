import { randomUUID } from "node:crypto";
import * as https from "node:https";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { createTestCertificate, type TestCertificate } from "./tls";

/**
 * A local stand-in for the Application Insights ingestion endpoint (POST /v2.1/track),
 * over HTTPS with a throwaway certificate, since the exporter upgrades http to https. It
 * keeps every byte it receives (decompressed when the exporter gzips) and answers as
 * Breeze does: 200 with itemsReceived/itemsAccepted.
 */
export interface Envelope {
  name: string;
  time: string;
  iKey?: string;
  instrumentationKey?: string;
  tags: Record<string, string>;
  data: { baseType: string; baseData: Record<string, unknown> & { properties?: Record<string, string> } };
}

export interface IngestionRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export class IngestionCapture {
  readonly requests: IngestionRequest[] = [];
  readonly instrumentationKey = randomUUID();
  private server?: https.Server;
  private certificate?: TestCertificate;

  async start(): Promise<void> {
    this.certificate = await createTestCertificate();
    this.server = https.createServer({ cert: this.certificate.cert, key: this.certificate.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        let raw = Buffer.concat(chunks);
        if (/gzip/i.test(String(req.headers["content-encoding"] ?? ""))) raw = gunzipSync(raw);
        const body = raw.toString("utf8");
        this.requests.push({ path: req.url ?? "", headers: req.headers, body });
        const count = this.parse(body).length;
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ itemsReceived: count, itemsAccepted: count, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** PEM file to trust in a child process through NODE_EXTRA_CA_CERTS. */
  get caPath(): string {
    return this.certificate!.certPath;
  }

  get ca(): string {
    return this.certificate!.cert;
  }

  connectionString(endpoint = this.url): string {
    return `InstrumentationKey=${this.instrumentationKey};IngestionEndpoint=${endpoint}/`;
  }

  /** Every byte received, for leak checks. */
  get bytes(): string {
    return this.requests.map((r) => r.body).join("\n");
  }

  envelopes(): Envelope[] {
    return this.requests.flatMap((r) => this.parse(r.body));
  }

  clear(): void {
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private parse(body: string): Envelope[] {
    const text = body.trim();
    if (text === "") return [];
    // A JSON array; newline-delimited JSON is accepted too, as Breeze does.
    return text.startsWith("[") ? (JSON.parse(text) as Envelope[]) : text.split("\n").map((l) => JSON.parse(l) as Envelope);
  }
}

/** A port that accepts connections and never answers: the worst ingestion endpoint. */
export async function startSilentEndpoint(): Promise<{ url: string; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on. */
export async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `https://127.0.0.1:${port}`;
}
