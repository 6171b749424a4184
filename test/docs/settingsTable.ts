import { SETTING_SPECS, type SettingSpec } from "../../shared/config/settings";

export const SETTINGS_TABLE_HEADER = "| name | meaning | default | set by infra/ |";

/** The settings table of docs/settings.md: one row per entry of SETTING_SPECS, in its order. */
export function renderSettingsTable(specs: readonly SettingSpec[] = SETTING_SPECS): string {
  const row = (spec: SettingSpec) =>
    `| \`${spec.name}\` | ${escapeCell(spec.meaning)} | ${spec.default === undefined ? "" : `\`${spec.default}\``} | ${spec.production ? "yes" : ""} |`;
  return [SETTINGS_TABLE_HEADER, "|---|---|---|---|", ...specs.map(row)].join("\n");
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|");
}
