import { runDemo } from "../../cli/demo";

describe("billing-sync demo", () => {
  it("finds the drift in the partner's and a customer's profile, corrects each with one PUT and ends in sync, on Azurite and the simulator", async () => {
    let stdout = "";
    const code = await runDemo({ stdout: (t) => void (stdout += t), stderr: () => {}, env: {} });
    expect(code).toBe(0);
    expect(stdout).toMatch(/Target customer-[0-9a-f-]{36} \(plan\): drift\n {2}~ Email: "b\*\*\*@\*\*\*" → "a\*\*\*@\*\*\*"\n {2}~ FirstName: "F\*\*\*" → "R\*\*\*"\n {2}Plan: 2 fields to change\./);
    expect(stdout).toMatch(/Target default \(plan\): drift\n(.*\n){2} {2}Plan: 2 fields to change\./);
    expect(stdout.match(/Corrected 2 fields with one update\./g)).toHaveLength(2);
    expect(stdout.match(/No changes\. The billing profile matches the desired settings\./g)).toHaveLength(2);
    expect(stdout).toContain("Calls the simulator received: 6 GET, 2 PUT.");
    expect(stdout).toMatch(/The customer's PUT went to \/v1\/customers\/[0-9a-f-]{36}\/profiles\/billing with the ETag in its body and in If-Match: "-?\d+"\./);
    expect(stdout).toContain("went back exactly as read");
    expect(stdout).toContain("Demo finished: drift found in the partner's and a customer's billing profile, each corrected with one PUT, and in sync afterwards.");
    expect(stdout).not.toContain("avery.former@contoso.example");
    expect(stdout).not.toContain("billing1@customer1.example");
  });
});
