import { hostname, userInfo } from "node:os";
import type { TokenCredential } from "@azure/core-auth";
import type { StorageSettings } from "../config";

/**
 * Who writes the desired state, for its change log: the identity that signs in to Table
 * Storage. With Entra ID, the access token the storage requests carry names it (a person
 * by upn/unique_name, an app or managed identity by appid/oid): verified, since Storage
 * authorises the write with that very token. With a connection string (a shared key,
 * Azurite) Storage knows no person: the OS user and host, unverified.
 */
export interface Actor {
  name: string;
  verified: boolean;
}

export const STORAGE_SCOPE = "https://storage.azure.com/.default";

/** The claims of a JWT, undefined when it is not one. The signature is not checked: the token came to us from the token endpoint over TLS. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as unknown;
    return typeof claims === "object" && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const text = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v.trim().slice(0, 200) : undefined);

/** A person by upn or unique_name; an app or managed identity by its app id (and object id). */
export function actorFromClaims(claims: Record<string, unknown>): Actor | undefined {
  const person = text(claims.upn) ?? text(claims.unique_name) ?? text(claims.preferred_username);
  if (person) return { name: person, verified: true };
  const app = text(claims.appid) ?? text(claims.azp);
  const oid = text(claims.oid);
  if (app) return { name: `app ${app}${oid ? ` (object ${oid})` : ""}`, verified: true };
  if (oid) return { name: `object ${oid}`, verified: true };
  return undefined;
}

export function osActor(): Actor {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.USERNAME ?? "unknown";
  }
  return { name: `${user}@${hostname()}`, verified: false };
}

/**
 * The actor of this process's storage writes. `credential` stands in for the
 * DefaultAzureCredential an endpoint URL uses (tests); a token that cannot be had or read
 * leaves the OS user, unverified, and says why in the name.
 */
export async function resolveStorageActor(storage: StorageSettings, credential?: TokenCredential): Promise<Actor> {
  if (storage.kind === "connectionString") return osActor();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cred = credential ?? new (require("@azure/identity") as typeof import("@azure/identity")).DefaultAzureCredential();
    const token = await cred.getToken(STORAGE_SCOPE);
    const claims = token ? jwtClaims(token.token) : undefined;
    const actor = claims && actorFromClaims(claims);
    if (actor) return actor;
  } catch {
    // The write itself will fail the same way and say why; the log names the OS user meanwhile.
  }
  const os = osActor();
  return { name: `${os.name} (the storage token named no one)`, verified: false };
}
