import { CronExpressionParser } from "cron-parser";

/**
 * The next time an NCRONTAB schedule fires after `from`, in UTC as the Functions host
 * evaluates it (unless WEBSITE_TIME_ZONE says otherwise, which status does not model).
 */
export function nextRun(schedule: string, from: Date): string | undefined {
  try {
    return CronExpressionParser.parse(schedule, { currentDate: from, tz: "UTC" }).next().toISOString() ?? undefined;
  } catch {
    return undefined;
  }
}
