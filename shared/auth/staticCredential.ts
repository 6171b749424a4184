import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { registerSecret } from "../core";

/**
 * PARTNER_CENTER_AUTH=static: a bearer token from the environment (the simulator, a
 * short test against a sandbox). The token sits in a #private field so that printing the
 * object never shows it.
 */
export class StaticTokenCredential implements TokenCredential {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
    registerSecret(token);
  }

  async getToken(): Promise<AccessToken> {
    return { token: this.#token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000 };
  }
}
