import { startAzurite, type LocalStorage } from "../../simulator/azurite";
import { runSoak, type SoakReport } from "./soak";

/** The soak at a size for every `npm test` (SOAK_RUNS, default 300); `npm run soak` runs 10,000 and prints the figures. */
const RUNS = Number(process.env.SOAK_RUNS ?? 300);
let storage: LocalStorage;
let report: SoakReport;

beforeAll(async () => {
  storage = await startAzurite();
  report = await runSoak({ runs: RUNS, tableEndpoint: storage.tableEndpoint, seed: Number(process.env.SOAK_SEED ?? 20261122) });
}, 120_000);
afterAll(() => storage.stop());

describe(`soak: ${RUNS} runs with random faults, a concurrent writer and storage outages`, () => {
  it("ran every run, with faults of many kinds actually served", () => {
    expect(report.runs).toBe(RUNS);
    expect(Object.keys(report.faultsInjected).length).toBeGreaterThanOrEqual(8);
    expect(report.faultsTotal).toBeGreaterThan(RUNS / 10);
    expect(report.concurrentWrites).toBeGreaterThan(0);
    expect(report.outcomes.corrected).toBeGreaterThan(0);
    expect(report.storageOutages.beforeRun + report.storageOutages.betweenGetAndPut).toBeGreaterThanOrEqual(2);
  });

  it("lost no record: every run has its history row, or its error line when its history write was failed on purpose", () => {
    expect(report.recordsLost).toBe(0);
    expect(report.recordedButMissing).toBe(0);
    expect(report.unrecordedUnexplained).toBe(0);
    expect(report.unrecordedWithErrorLine).toBe(report.unrecordedDeliberately);
    expect(report.unrecordedDeliberately).toBeGreaterThan(0);
    expect(report.historyRows).toBe(report.historyRowsExpected);
    expect(report.historyRowsExpected).toBe(report.runsInAll - report.unrecordedDeliberately);
  });

  it("made no PUT that changed a field its target does not own, nor one built from a body it was not served", () => {
    expect(report.puts).toBeGreaterThan(0);
    expect(report.putsTouchingUnmanaged).toBe(0);
    expect(report.putsWithUnknownBase).toBe(0);
  });

  it("had no unhandled rejection, and every profile ends in its desired state", () => {
    expect(report.unhandledRejections).toBe(0);
    expect(report.finalNotInSync).toEqual([]);
    expect(report.finalInDesiredState).toBe(true);
  });
});
