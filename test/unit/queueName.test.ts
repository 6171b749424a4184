import { readFileSync } from "node:fs";
import { join } from "node:path";
import { spreadDelaysInSeconds, TARGET_QUEUE } from "../../shared/stores/targetQueue";

describe("queue trigger registration", () => {
  it("listens on the queue the timer writes to (the name is a literal there, for start-up time)", () => {
    const source = readFileSync(join(__dirname, "..", "..", "functions", "billingProfileSyncQueue.ts"), "utf8");
    expect(source).toContain(`queueName: "${TARGET_QUEUE}"`);
  });
});

describe("spreadDelaysInSeconds", () => {
  it("a minute's worth of targets is spread over that minute too (visible at once, every instance could spend the budget at the same time)", () => {
    const delays = spreadDelaysInSeconds(500, 500, 3_600_000);
    expect(delays.filter((d) => d === 0)).toHaveLength(9);
    expect(delays[499]).toBe(59);
    expect(spreadDelaysInSeconds(3, 500, 3_600_000)).toEqual([0, 0, 0]);
  });

  it("10,000 targets at 500 a minute: evenly over the 20 minutes they need", () => {
    const delays = spreadDelaysInSeconds(10_000, 500, 0.8 * 3_600_000);
    expect(delays[0]).toBe(0);
    expect(delays[5_000]).toBe(600);
    expect(delays[9_999]).toBe(1_199);
    expect(delays.every((d, i) => i === 0 || d >= delays[i - 1])).toBe(true);
  });

  it("never past the longest spread (most of the time until the timer fires again)", () => {
    const delays = spreadDelaysInSeconds(100_000, 500, 0.8 * 3_600_000);
    expect(Math.max(...delays)).toBe(2_879);
  });
});
