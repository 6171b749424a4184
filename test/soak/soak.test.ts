import { startAzurite, type LocalStorage } from "../../simulator/azurite";
import { runSoak, type SoakReport } from "./soak";

/** The soak at a size for every `npm test` (SOAK_RUNS, default 300); `npm run soak` runs 10,000 and prints the figures. */
const RUNS = Number(process.env.SOAK_RUNS ?? 300);
let storage: LocalStorage;
let report: SoakReport;

beforeAll(async () => {
  storage = await startAzurite();
  report = await runSoak({ runs: RUNS, tableEndpoint: storage.tableEndpoint, seed: Number(process.env.SOAK_SEED ?? 20261122) });
}, 240_000);
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
    // One comparison of every count, so that a failure shows them all (and the seed to replay it).
    const { seed, recordsLost, recordedButMissing, unrecordedUnexplained, unrecordedWithErrorLine, historyRows, historyRowsExpected } = report;
    expect({ seed, recordsLost, recordedButMissing, unrecordedUnexplained, unrecordedWithErrorLine, historyRows, historyRowsExpected }).toEqual({
      seed,
      recordsLost: 0,
      recordedButMissing: 0,
      unrecordedUnexplained: 0,
      unrecordedWithErrorLine: report.unrecordedDeliberately,
      historyRows: report.historyRowsExpected,
      historyRowsExpected: report.runsInAll - report.unrecordedDeliberately,
    });
    expect(report.unrecordedDeliberately).toBeGreaterThan(0);
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
