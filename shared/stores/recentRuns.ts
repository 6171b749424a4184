import { mapWithConcurrency } from "../core";
import { completeDays } from "./checkRows";
import type { HistoryRecord, HistoryStore } from "./historyStore";

const DAY_MS = 86_400_000;
/** Windows stop growing here: the next one reaches back to the oldest row. */
const MAX_WINDOW_DAYS = 256;
/** The per-target reads left over at once. */
const FALLBACK_CONCURRENCY = 8;

/**
 * The `limit` newest runs of each target, as HistoryStore.list gives them, without a query
 * per target: on Azurite every query scans the whole table, so thousands of per-target
 * queries grow with targets x rows. Instead, queries across partitions over windows of
 * whole UTC days, newest first, each twice as long as the one before; a target is done once
 * its rows so far hold `limit` records (the rows of older days cannot change the newest
 * ones: list reads whole days in key order too). When the targets still short of `limit`
 * are fewer than the pages the next window would take, they are read one by one.
 */
export async function newestRunsOf(
  history: Pick<HistoryStore, "rowsBetween" | "readRow" | "list">,
  targets: readonly string[],
  limit: number,
  options: { columns?: "summary" | "status" | "public"; now?: Date; rowsPerPage?: number } = {},
): Promise<HistoryRecord[][]> {
  const done = new Map<string, HistoryRecord[]>();
  const rows = new Map<string, Record<string, unknown>[]>(targets.map((t) => [t, []]));
  const today = Math.floor((options.now ?? new Date()).getTime() / DAY_MS) * DAY_MS;
  let to: number | undefined;
  let days = Math.max(1, limit);
  let read = 0;
  let spanned = 0;
  for (;;) {
    const from = days > MAX_WINDOW_DAYS ? undefined : (to ?? today + DAY_MS) - days * DAY_MS;
    for await (const page of history.rowsBetween(from === undefined ? undefined : new Date(from), to === undefined ? undefined : new Date(to), { columns: options.columns })) {
      read += page.length;
      for (const entity of page) rows.get(String(entity.partitionKey))?.push(entity);
    }
    spanned += days;
    for (const [target, kept] of rows) {
      const records = await newest(kept, history, limit);
      if (records.length >= limit || from === undefined) {
        done.set(target, records);
        rows.delete(target);
      }
    }
    if (rows.size === 0) break;
    to = from;
    days *= 2;
    // A query per target left costs about what a page of a query across targets costs.
    const pages = ((read / spanned) * days) / (options.rowsPerPage ?? 1000);
    if (rows.size <= pages) {
      const left = [...rows.keys()];
      const lists = await mapWithConcurrency(left, FALLBACK_CONCURRENCY, (t) => history.list(t, { limit, columns: options.columns }));
      left.forEach((t, i) => done.set(t, lists[i]));
      break;
    }
  }
  return targets.map((t) => done.get(t) ?? []);
}

async function newest(entities: Record<string, unknown>[], history: Pick<HistoryStore, "readRow">, limit: number): Promise<HistoryRecord[]> {
  const out: HistoryRecord[] = [];
  async function* one() {
    yield entities;
  }
  for await (const record of completeDays(one(), (e) => history.readRow(e), limit)) out.push(record);
  return out.slice(0, limit);
}
