/**
 * The next time an NCRONTAB schedule fires after `from`, in UTC as the Functions host
 * evaluates it: on Flex Consumption always (WEBSITE_TIME_ZONE and TZ are not supported).
 * cron-parser is loaded here, on first use: only status needs it.
 */
export function nextRun(schedule: string, from: Date): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { CronExpressionParser } = require("cron-parser") as typeof import("cron-parser");
    return CronExpressionParser.parse(schedule, { currentDate: from, tz: "UTC" }).next().toISOString() ?? undefined;
  } catch {
    return undefined;
  }
}
