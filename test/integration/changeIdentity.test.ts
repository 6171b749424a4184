import { randomUUID } from "node:crypto";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { resolveStorageActor, STORAGE_SCOPE } from "../../shared/auth/storageIdentity";
import { writeDesiredRow, writeContextFor } from "../../shared/engine/desiredWrite";
import { TABLES } from "../../shared/stores/tables";
import { FakeTokenEndpoint } from "../support/fakeTokenEndpoint";
import { startHarness, type Harness } from "../support/harness";

/**
 * Who wrote the desired state, from a real JWT: a local stand-in for the identity
 * platform issues signed access tokens with a person's or an app's claims, fetched over
 * HTTP the way a credential fetches its storage token; the change log entry names that
 * identity, verified. A connection string names the OS user, unverified.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());

/** A credential that exchanges a refresh token at the stand-in, as a signed-in CLI user's does. */
function credentialAt(endpoint: FakeTokenEndpoint, secret: string): TokenCredential {
  const refresh = endpoint.mintRefreshToken();
  return {
    getToken: async (scope): Promise<AccessToken> => {
      const form = new URLSearchParams({ grant_type: "refresh_token", client_id: endpoint.options.clientId, client_secret: secret, refresh_token: refresh, scope: String(scope) });
      const answer = await fetch(`${endpoint.url}/${endpoint.options.tenantId}/oauth2/v2.0/token`, { method: "POST", body: form });
      const body = (await answer.json()) as { access_token: string; expires_in: number };
      return { token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000 };
    },
  };
}

async function withEndpoint(claims: Record<string, unknown>, test: (endpoint: FakeTokenEndpoint, secret: string) => Promise<void>): Promise<void> {
  const secret = `cs-${randomUUID()}`;
  const endpoint = new FakeTokenEndpoint({ tenantId: randomUUID(), clientId: randomUUID(), clientSecret: secret, accessTokenClaims: claims });
  await endpoint.start();
  try {
    await test(endpoint, secret);
  } finally {
    await endpoint.stop();
  }
}

const ENTRA_STORAGE = { kind: "endpoint", endpoint: "https://account.table.core.windows.net" } as const;

describe("who writes the desired state", () => {
  it("a person signed in with Entra ID: upn from the storage token, verified, in the change log entry", async () => {
    await withEndpoint({ upn: "alice@contoso.example", oid: randomUUID(), name: "Alice" }, async (endpoint, secret) => {
      const actor = await resolveStorageActor(ENTRA_STORAGE, credentialAt(endpoint, secret));
      expect(actor).toEqual({ name: "alice@contoso.example", verified: true });
      expect(endpoint.exchanges()[0].form.scope).toBe(STORAGE_SCOPE);
      const engine = h.engine();
      await writeDesiredRow(engine, { target: "who-person", after: { PurchaseOrderNumber: "PO-W" } }, await writeContextFor(engine, "desired set", { actor, reason: "test" }));
      const entry = (await h.rawRows(TABLES.desiredChanges)).find((r) => r.partitionKey === "who-person");
      expect(entry).toMatchObject({ Actor: "alice@contoso.example", Verified: true });
      // The token itself goes nowhere.
      expect(JSON.stringify(entry)).not.toContain(endpoint.issued.at(-2)!.slice(0, 40));
    });
  });

  it("an app or managed identity: appid and oid, verified", async () => {
    const appid = randomUUID();
    const oid = randomUUID();
    await withEndpoint({ appid, oid, idtyp: "app" }, async (endpoint, secret) => {
      expect(await resolveStorageActor(ENTRA_STORAGE, credentialAt(endpoint, secret))).toEqual({ name: `app ${appid} (object ${oid})`, verified: true });
    });
  });

  it("unique_name when there is no upn (a guest)", async () => {
    await withEndpoint({ unique_name: "live.com#bob@example.org" }, async (endpoint, secret) => {
      expect(await resolveStorageActor(ENTRA_STORAGE, credentialAt(endpoint, secret))).toEqual({ name: "live.com#bob@example.org", verified: true });
    });
  });

  it("a token that names no one, or none to be had: the OS user, unverified, saying why", async () => {
    const failing: TokenCredential = { getToken: async () => { throw new Error("no identity here"); } };
    const actor = await resolveStorageActor(ENTRA_STORAGE, failing);
    expect(actor.verified).toBe(false);
    expect(actor.name).toMatch(/@.+ \(the storage token named no one\)$/);
  });

  it("a connection string (shared key, Azurite): OS user@host, unverified", async () => {
    const actor = await resolveStorageActor({ kind: "connectionString", connectionString: h.storage.connectionString });
    expect(actor.verified).toBe(false);
    expect(actor.name).toMatch(/^[^@\s]+@[^@\s]+$/);
  });
});
