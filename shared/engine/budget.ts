/**
 * The account's budget of Partner Center calls a minute (PARTNER_CENTER_CALLS_PER_MINUTE)
 * is for the whole Function App, not for each instance: every instance's rate controller
 * keeps its own calls under it, so what keeps the instances together under it is the pace
 * at which queue messages become visible. A target costs a GET, and a PUT when it drifted
 * (a retry now and then): the fan-out paces targets so that their calls fit the budget.
 */
export const CALLS_PER_TARGET = 1.1;

/** Targets a minute a fan-out may make visible within a budget of calls a minute. */
export function fanOutTargetsPerMinute(budgetPerMinute: number): number {
  return budgetPerMinute / CALLS_PER_TARGET;
}
