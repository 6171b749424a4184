import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TARGET_QUEUE } from "../../shared/stores/targetQueue";

describe("queue trigger registration", () => {
  it("listens on the queue the timer writes to (the name is a literal there, for start-up time)", () => {
    const source = readFileSync(join(__dirname, "..", "..", "functions", "billingProfileSyncQueue.ts"), "utf8");
    expect(source).toContain(`queueName: "${TARGET_QUEUE}"`);
  });
});
