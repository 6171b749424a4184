import { renderFaultTable } from "../integration/faultMatrix";
import { renderSettingsTable } from "./settingsTable";

/** The parts of docs/ that code renders; `npm run docs` rewrites them, the doc tests check them. */
export const GENERATED_BLOCKS: readonly { file: string; name: string; render: () => string }[] = [
  { file: "docs/settings.md", name: "settings table", render: () => renderSettingsTable() },
  { file: "docs/reliability.md", name: "fault table", render: () => renderFaultTable() },
];
