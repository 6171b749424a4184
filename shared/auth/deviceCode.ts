import { sleep as defaultSleep, registerSecret, SyncError } from "../core";
import { authErrorFromTokenEndpoint } from "./authErrors";
import type { ClientAuthentication } from "./clientAuth";
import {
  deviceCodeEndpointUrl,
  DEVICE_CODE_GRANT_TYPE,
  postTokenForm,
  readTokenResponse,
  tokenEndpointUrl,
  type TokenRequestOptions,
  type TokenResponse,
} from "./tokenEndpoint";

/**
 * The device authorization grant (RFC 8628), for the one interactive consent of
 * `billing-sync auth login`: works over SSH, since the browser can be on another device.
 */
export interface DeviceCodePrompt {
  verificationUri: string;
  userCode: string;
  expiresInSeconds: number;
}

export interface DeviceCodeLoginOptions {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  /** The delegated scope, `{API base}/user_impersonation`. */
  scope: string;
  /** The app's credential: a confidential client's refresh token can only be redeemed with one later. */
  clientAuth?: ClientAuthentication;
  /** Shows the operator where to sign in; gets no token. */
  onPrompt: (prompt: DeviceCodePrompt) => void;
  tokenRequest?: TokenRequestOptions;
  sleep?: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
  now?: () => number;
  abortSignal?: AbortSignal;
}

/** RFC 8628 section 3.5: on slow_down the interval grows by 5 s. */
const SLOW_DOWN_STEP_IN_MS = 5_000;

function str(body: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) if (typeof body[name] === "string" && body[name] !== "") return body[name] as string;
  return undefined;
}

function num(body: Record<string, unknown>, name: string, fallback: number): number {
  const v = typeof body[name] === "string" ? Number(body[name]) : body[name];
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : fallback;
}

/** Runs the whole device-code sign-in; resolves with the tokens, which the caller stores and never prints. */
export async function signInWithDeviceCode(options: DeviceCodeLoginOptions): Promise<TokenResponse> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const scope = `${options.scope} offline_access`;
  const started = await postTokenForm(
    deviceCodeEndpointUrl(options.authorityHost, options.tenantId),
    { client_id: options.clientId, scope },
    { ...options.tokenRequest, abortSignal: options.abortSignal, action: "login" },
  );
  if (!started.ok) throw authErrorFromTokenEndpoint(started.refusal, { action: "login" });
  const deviceCode = str(started.body, "device_code");
  const userCode = str(started.body, "user_code");
  // v2.0 says verification_uri; the older endpoint said verification_url.
  const verificationUri = str(started.body, "verification_uri", "verification_url");
  if (!deviceCode || !userCode || !verificationUri) {
    throw new SyncError("AuthError", "The device-code answer lacks device_code, user_code or verification_uri.", { serviceCode: "invalid_device_code_response" });
  }
  // The device code can be redeemed for tokens until it expires: a secret like them.
  registerSecret(deviceCode);
  const expiresInSeconds = num(started.body, "expires_in", 900);
  let intervalInMs = num(started.body, "interval", 5) * 1000;
  options.onPrompt({ verificationUri, userCode, expiresInSeconds });

  const deadline = now() + expiresInSeconds * 1000;
  for (;;) {
    await sleep(intervalInMs, options.abortSignal);
    const clientFields = options.clientAuth ? await options.clientAuth({ abortSignal: options.abortSignal }) : {};
    const polled = await postTokenForm(
      tokenEndpointUrl(options.authorityHost, options.tenantId),
      { grant_type: DEVICE_CODE_GRANT_TYPE, client_id: options.clientId, device_code: deviceCode, ...clientFields },
      { ...options.tokenRequest, abortSignal: options.abortSignal, action: "login" },
    );
    if (polled.ok) return readTokenResponse(polled.body);
    const error = polled.refusal.error;
    if (error === "authorization_pending" && now() < deadline) continue;
    if (error === "slow_down" && now() < deadline) {
      intervalInMs += SLOW_DOWN_STEP_IN_MS;
      continue;
    }
    if (error === "authorization_pending" || error === "expired_token" || polled.refusal.aadsts === "70020") {
      throw new SyncError("AuthError", "The code expired before the sign-in finished: run `billing-sync auth login` again and sign in within the time shown.", {
        statusCode: polled.refusal.status,
        serviceCode: polled.refusal.aadsts ? `AADSTS${polled.refusal.aadsts}` : "expired_token",
      });
    }
    if (error === "authorization_declined" || error === "access_denied") {
      throw new SyncError("AuthError", "The sign-in was declined: nothing was stored.", { statusCode: polled.refusal.status, serviceCode: error });
    }
    throw authErrorFromTokenEndpoint(polled.refusal, { action: "login" });
  }
}
