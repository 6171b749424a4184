import type { Engine } from "../../shared/engine";
import { readChangeLog, settlePending } from "../../shared/engine";
import type { ChangeEntry } from "../../shared/stores";
import { shownFields, shownReason } from "../changeViews";

/**
 * The report's "Changes to the desired state": the change log of the period, newest
 * first: who (verified or not), when, via, why, each field before and after (masked
 * unless --show-personal), and the changes made outside billing-sync.
 */
export interface DesiredChangeRow {
  at: string;
  target: string;
  kind: ChangeEntry["kind"];
  /** The entry did not happen (abandoned) or may still be in flight (pending). */
  state: ChangeEntry["state"];
  actor: string;
  verified: boolean;
  via: string;
  command: string;
  reason?: string;
  fields: { field: string; before: string | null; after: string | null; masked: boolean }[];
}

/** Entries shown at most; beyond, the report says how many more `desired log` lists. */
export const MAX_CHANGE_ROWS = 2_000;

/** `targets` undefined: every target in the log, deleted ones included (a deletion is what an auditor asks about). */
export async function readDesiredChanges(engine: Engine, targets: readonly string[] | undefined, since: Date, showPersonal: boolean): Promise<{ rows: DesiredChangeRow[]; more: number }> {
  const all: ChangeEntry[] = [];
  if (targets) all.push(...(await Promise.all(targets.map((t) => readChangeLog(engine, t, { since: since.toISOString() })))).flat());
  else for await (const entry of engine.changes.all({ since: since.toISOString() })) all.push(entry.state === "pending" ? await settlePending(engine, entry, undefined) : entry);
  all.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const rows = all.slice(0, MAX_CHANGE_ROWS).map((entry) => {
    const plain = shownFields(entry, true);
    return {
      at: entry.at,
      target: entry.target,
      kind: entry.kind,
      state: entry.state,
      actor: entry.actor,
      verified: entry.verified,
      via: entry.via,
      command: entry.command,
      reason: shownReason(entry, showPersonal),
      fields: shownFields(entry, showPersonal).map((f, i) => ({ ...f, masked: f.before !== plain[i].before || f.after !== plain[i].after })),
    };
  });
  return { rows, more: Math.max(0, all.length - MAX_CHANGE_ROWS) };
}
