import { runDemo } from "../../cli/demo";

describe("billing-sync demo", () => {
  it("finds the drift, corrects it with one PUT and ends in sync, on Azurite and the simulator", async () => {
    let stdout = "";
    const code = await runDemo({ stdout: (t) => void (stdout += t), stderr: () => {}, env: {} });
    expect(code).toBe(0);
    expect(stdout).toContain("Plan: 2 fields to change.");
    expect(stdout).toContain("Corrected 2 fields with one update.");
    expect(stdout).toContain("No changes. The billing profile matches the desired settings.");
    expect(stdout).toContain("Calls the simulator received: 3 GET, 1 PUT.");
    expect(stdout).toContain("went back exactly as read");
    expect(stdout).not.toContain("avery.former@contoso.example");
  });
});
