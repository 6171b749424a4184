import { randomUUID } from "node:crypto";
import { toSyncError } from "../core";
import type { AccountRef, DesiredState } from "../model";
import type { ImportPlan } from "./bulkDesired";
import type { Engine } from "./engine";

/**
 * The partner's customer list, read once per account for one command (one paged listing:
 * about 20 calls for 10,000 customers, not one GET per customer), so that an import or a
 * `desired set` can refuse a customer id that is not the partner's customer, before a
 * row is written that would answer 404 on every run.
 */
export class CustomerList {
  private readonly lists = new Map<string, Promise<Set<string>>>();

  constructor(private readonly engine: Pick<Engine, "partnerClient">) {}

  /** The account's customer ids (lower case); throws when Partner Center cannot be reached. */
  ids(account: AccountRef = {}): Promise<Set<string>> {
    const key = `${account.tenantId ?? ""}|${account.credentialRef ?? ""}`;
    let list = this.lists.get(key);
    if (!list) {
      list = this.load(account);
      this.lists.set(key, list);
    }
    return list;
  }

  private async load(account: AccountRef): Promise<Set<string>> {
    const ids = new Set<string>();
    const correlationId = randomUUID();
    for await (const page of this.engine.partnerClient(account).listCustomers({ correlationId })) {
      for (const customer of page.customers) ids.add(customer.id.toLowerCase());
    }
    return ids;
  }
}

/** What a check of rows against the list found. */
export interface CustomerListCheck {
  /** Rows (by index of the input) whose customer is not in the list, with the message. */
  unknown: { index: number; message: string }[];
  /** The list could not be read: nothing was checked, and why. */
  notChecked?: string;
}

/**
 * Checks customer rows against their account's customer list. Partner Center that cannot
 * be reached (no network, no consent yet) is not an error: the rows are written unchecked
 * and the caller says so, as `desired set` does for the country's rules.
 */
export async function checkCustomerIds(list: CustomerList, states: readonly DesiredState[]): Promise<CustomerListCheck> {
  const check: CustomerListCheck = { unknown: [] };
  for (const [index, state] of states.entries()) {
    const { kind, id } = state.resource;
    if (!kind.key || id === undefined) continue;
    let ids: Set<string>;
    try {
      ids = await list.ids(state.account);
    } catch (err) {
      check.notChecked = `Not checked against the partner's customer list (Partner Center could not be reached: ${toSyncError(err).message}).`;
      return { unknown: [], notChecked: check.notChecked };
    }
    if (!ids.has(id.toLowerCase())) {
      check.unknown.push({ index, message: `${kind.key.property} ${id} is not a customer of the partner (not in the customer list of ${ids.size}); check the id, or use --no-check` });
    }
  }
  return check;
}

/**
 * An import's rows whose customer is not the partner's become problems naming their row
 * (the file is then refused, as for any invalid row). Returns a note when nothing could
 * be checked.
 */
export async function checkImportCustomers(engine: Pick<Engine, "partnerClient">, plan: ImportPlan): Promise<string | undefined> {
  const check = await checkCustomerIds(new CustomerList(engine), plan.rows.map((r) => r.state));
  if (check.unknown.length === 0) return check.notChecked;
  const unknown = new Map(check.unknown.map((u) => [u.index, u.message]));
  const kept: ImportPlan["rows"] = [];
  plan.rows.forEach((row, i) => {
    const message = unknown.get(i);
    if (message === undefined) kept.push(row);
    else plan.problems.push({ row: row.row, target: row.target, message });
  });
  plan.rows = kept;
  plan.problems.sort((a, b) => a.row - b.row);
  return undefined;
}
