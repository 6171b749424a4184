import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { type Engine, type Interruption, MAX_STATUS_PAGE_SIZE } from "../engine";
import { isSyncError, type Logger, PRODUCT_VERSION, SyncError } from "../core";
import { checkTargetName, type MultiRunResult, type RunResult } from "../model";

/** The largest POST /api/sync body accepted: the contract needs a few dozen bytes. */
export const MAX_SYNC_BODY_BYTES = 4096;

export interface SyncRequestBody {
  target?: string;
  dryRun?: boolean;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; response: HttpResponseInit };

export function problem(status: number, code: string, message: string): HttpResponseInit {
  return { status, jsonBody: { error: { code, message } } };
}

const tooLarge = (): HttpResponseInit => problem(413, "BodyTooLarge", `The body is larger than ${MAX_SYNC_BODY_BYTES} bytes.`);

/**
 * The body as text, read chunk by chunk and given up on as soon as it passes `limit`
 * bytes: a large body is never held whole (undefined = too large).
 */
export async function readBodyWithin(request: HttpRequest, limit: number): Promise<string | undefined> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** POST /api/sync body: optional; if present a JSON object with only `target` and `dryRun`. */
export async function parseSyncRequest(request: HttpRequest): Promise<Parsed<SyncRequestBody>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_SYNC_BODY_BYTES) return { ok: false, response: tooLarge() };
  const text = await readBodyWithin(request, MAX_SYNC_BODY_BYTES);
  if (text === undefined) return { ok: false, response: tooLarge() };
  if (text.trim() === "") return { ok: true, value: {} };
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    return { ok: false, response: problem(415, "UnsupportedMediaType", `Send the body as application/json (got "${type.slice(0, 60) || "no content type"}").`) };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, response: problem(400, "InvalidJson", "The body is not valid JSON.") };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, response: problem(400, "InvalidBody", 'The body must be a JSON object like {"target": "default", "dryRun": true}.') };
  }
  const unknown = Object.keys(body).filter((k) => k !== "target" && k !== "dryRun");
  if (unknown.length > 0) {
    return { ok: false, response: problem(400, "UnknownField", `Unknown field${unknown.length > 1 ? "s" : ""} ${unknown.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}; allowed: target, dryRun.`) };
  }
  const { target, dryRun } = body as Record<string, unknown>;
  if (dryRun !== undefined && typeof dryRun !== "boolean") return { ok: false, response: problem(400, "InvalidField", "dryRun must be true or false.") };
  if (target !== undefined) {
    try {
      checkTargetName(target);
    } catch (err) {
      return { ok: false, response: problem(400, "InvalidTargetName", (err as Error).message) };
    }
  }
  return { ok: true, value: { target: target as string | undefined, dryRun: dryRun as boolean | undefined } };
}

/** What an untargeted POST /api/sync answers when it queued the targets (202). */
export interface QueuedSync {
  queued: string[];
  dryRun: boolean;
  /** Where each target's run shows up once the queue function has run it. */
  status: string;
  message: string;
}

export const STATUS_ROUTE = "/api/status";

/**
 * Runs what POST /api/sync asked for and maps it to the HTTP contract. Every target at
 * once is queued when the fan-out queue exists (always in Azure): the queue function runs
 * them under the host's limits, and the HTTP invocation makes no Partner Center call, so
 * a holder of the function key cannot make it do a fan-out's work on demand.
 */
export async function runSyncRequest(engine: Engine, body: SyncRequestBody, log: Logger, interruption?: Interruption): Promise<HttpResponseInit> {
  try {
    if (body.target === undefined && engine.queue) {
      const dryRun = body.dryRun ?? false;
      const { targets: queued } = await engine.enqueueAll("http", { dryRun });
      log.info(`Queued ${queued.length} target(s) for ${dryRun ? "a dry run" : "sync"}`, { targets: queued });
      const result: QueuedSync = {
        queued,
        dryRun,
        status: STATUS_ROUTE,
        message: `${queued.length} target(s) queued; each runs on its own. Follow them with GET ${STATUS_ROUTE}.`,
      };
      return { status: 202, headers: { Location: STATUS_ROUTE }, jsonBody: result };
    }
    if (body.target === undefined) {
      const result: MultiRunResult = { runs: await engine.syncAll({ trigger: "http", dryRun: body.dryRun, log, interruption }) };
      return { status: 200, jsonBody: result };
    }
    if (!(await engine.desired.get(body.target))) return problem(404, "TargetNotFound", `Target "${body.target}" has no desired-state row.`);
    const run: RunResult = await engine.syncTarget({ target: body.target, trigger: "http", dryRun: body.dryRun }, { log, abortSignal: interruption?.abortSignal });
    return { status: run.outcome === "in-progress" ? 409 : 200, jsonBody: run };
  } catch (err) {
    return errorResponse(err, log);
  }
}

/**
 * GET /api/status: a page of per-target statuses (`pageSize`, 1-1000, default 100; the
 * answer's `continuationToken` asks for the next page), `summary=true` adds counts by
 * outcome and the targets that need a person, `target=T` one target. Other query
 * parameters (the function key's `code`) are left alone.
 */
export async function statusResponse(engine: Engine, log: Logger, query: URLSearchParams = new URLSearchParams()): Promise<HttpResponseInit> {
  const target = query.get("target");
  const pageSizeText = query.get("pageSize");
  const pageSize = pageSizeText === null ? undefined : Number(pageSizeText);
  if (pageSize !== undefined && (!/^\d+$/.test(pageSizeText!) || pageSize < 1 || pageSize > MAX_STATUS_PAGE_SIZE)) {
    return problem(400, "InvalidQuery", `pageSize must be a whole number from 1 to ${MAX_STATUS_PAGE_SIZE}.`);
  }
  const summary = query.get("summary");
  if (summary !== null && summary !== "true" && summary !== "false") return problem(400, "InvalidQuery", "summary must be true or false.");
  try {
    if (target !== null) {
      try {
        checkTargetName(target);
      } catch (err) {
        return problem(400, "InvalidTargetName", (err as Error).message);
      }
      if (!(await engine.desired.get(target))) return problem(404, "TargetNotFound", `Target "${target}" has no desired-state row.`);
      return { status: 200, jsonBody: { version: PRODUCT_VERSION, targets: [await engine.targetStatus(target)] } };
    }
    const [page, counts] = await Promise.all([
      engine.statusPage({ pageSize, continuationToken: query.get("continuationToken") ?? undefined }),
      summary === "true" ? engine.statusSummary() : Promise.resolve(undefined),
    ]);
    // The build that answers: which one is deployed, without the portal.
    return { status: 200, jsonBody: { version: PRODUCT_VERSION, ...(counts ? { summary: counts } : {}), ...page } };
  } catch (err) {
    if (isSyncError(err) && err.code === "InvalidRequest") return problem(400, "InvalidQuery", err.message);
    return errorResponse(err, log);
  }
}

/** Errors before or around a run (settings, storage): a 5xx naming the problem, never a stack. */
export function errorResponse(err: unknown, log: Logger): HttpResponseInit {
  const error = isSyncError(err) ? err : new SyncError("StorageError", "Unexpected error; see the function logs.");
  log.error(`Request failed: ${error.code}: ${error.message}`);
  const status = error.code === "ConfigError" ? 500 : 503;
  return problem(status, error.code, error.message);
}
