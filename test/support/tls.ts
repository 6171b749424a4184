import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";

/**
 * A throwaway self-signed certificate for 127.0.0.1/localhost, for local HTTPS stand-ins
 * (the Application Insights ingestion capture, a fake Key Vault). Trust it in a child
 * process with NODE_EXTRA_CA_CERTS=certPath (read at start-up only), or in this process
 * through an Azure SDK client's `tlsOptions: { ca }`.
 */
export interface TestCertificate {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

export async function createTestCertificate(): Promise<TestCertificate> {
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keySize: 2048,
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), "billing-sync-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  writeFileSync(certPath, pems.cert);
  writeFileSync(keyPath, pems.private);
  return { cert: pems.cert, key: pems.private, certPath, keyPath };
}
