/**
 * In-sync checks, compacted: a target's in-sync runs of one UTC day share one history row
 * (count, first and last check, the last run's details) instead of a row each. Every other
 * outcome keeps its own row. The check row sits where the day's last moment would, so a
 * newest-first read still meets the days in order.
 */
/** What compaction reads of a run (a HistoryRecord; named here, not imported, so the history store can use this file). */
export interface CheckRun {
  outcome: string;
  runId: string;
  startedAt: string;
  putMade: boolean;
  putPending?: boolean;
  putRequestId?: string;
  checks?: Checks;
}

export interface Checks {
  count: number;
  /** Start time of the day's first and last check (ISO, UTC). */
  first: string;
  last: string;
}

/** As HistoryStore keys rows: the time left until year 2286, so newer rows sort first. */
const MAX_TIME = 9_999_999_999_999;
const DAY_MS = 24 * 60 * 60 * 1000;
export const CHECK_ROW_SUFFIX = "_checks";

/** A run that changed nothing and tried nothing: an in-sync check with no PUT and no write-ahead row. */
export function isCompactedCheck(record: CheckRun): boolean {
  return record.outcome === "in-sync" && !record.putMade && !record.putPending && record.putRequestId === undefined && record.checks === undefined;
}

/** The UTC day of an ISO time, as YYYY-MM-DD. */
export function utcDay(iso: string | number): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/** The check row of the UTC day of `startedAt`: keyed at that day's last millisecond. */
export function checkRowKey(startedAt: string): string {
  const dayEnd = Date.parse(`${utcDay(startedAt)}T00:00:00.000Z`) + DAY_MS - 1;
  return `${String(MAX_TIME - dayEnd).padStart(13, "0")}${CHECK_ROW_SUFFIX}`;
}

/** The time a history RowKey stands for (a check row: the end of its day). */
export function rowKeyTime(rowKey: string): number {
  return MAX_TIME - Number(rowKey.slice(0, 13));
}

export function isCheckRowKey(rowKey: string): boolean {
  return rowKey.endsWith(CHECK_ROW_SUFFIX);
}

/** The day's checks with `record` counted in; `before` is the check row as read (undefined: the day's first). */
export function checksAfter(before: CheckRun | undefined, record: CheckRun): Checks {
  const prior = before?.checks;
  if (!prior) return { count: 1, first: record.startedAt, last: record.startedAt };
  return {
    count: prior.count + 1,
    first: record.startedAt < prior.first ? record.startedAt : prior.first,
    last: record.startedAt > prior.last ? record.startedAt : prior.last,
  };
}

function newestFirst(a: CheckRun, b: CheckRun): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0;
}

/**
 * Records newest first from entities in RowKey order: each UTC day's rows (its check row
 * first by key) are put in time order, and reading stops only at the end of the day in
 * which `limit` records were reached.
 */
export async function* completeDays<R extends CheckRun>(
  pages: AsyncIterable<Record<string, unknown>[]>,
  read: (entity: Record<string, unknown>) => R,
  limit: number,
  keep: (record: R) => boolean = () => true,
): AsyncGenerator<R> {
  let day: string | undefined;
  let group: R[] = [];
  let yielded = 0;
  for await (const page of pages) {
    for (const entity of page) {
      const rowDay = utcDay(rowKeyTime(String(entity.rowKey)));
      if (rowDay !== day) {
        group.sort(newestFirst);
        for (const r of group) yield r;
        yielded += group.length;
        group = [];
        day = rowDay;
        if (yielded >= limit) return;
      }
      const record = read(entity);
      if (keep(record)) group.push(record);
    }
  }
  group.sort(newestFirst);
  for (const r of group) yield r;
}
