import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main";
import { TABLES } from "../../shared/stores/tables";
import { fastRetry, startHarness, type Harness } from "../support/harness";
import { cliOn, type CliOutput } from "../support/cli";

/**
 * Files as an operator's tools save them, through the CLI against Azurite and the simulator:
 * Windows-1252 (Excel's "CSV (comma delimited)" on a European Windows), refused unless
 * --encoding says so and then read exactly; a U+FFFD refused by the store whoever writes it;
 * an export a European Excel opens.
 */
let h: Harness;
let dir: string;

beforeAll(async () => {
  h = await startHarness({ customers: 6 });
  dir = mkdtempSync(join(tmpdir(), "billing-sync-files-"));
});
afterAll(() => h.stop());

function cli(...argv: string[]): Promise<CliOutput> {
  return cliOn(h, argv);
}

const write = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const desiredRows = async () => (await h.rawRows(TABLES.desired)).filter((r) => r.rowKey === "billing-profile");
const id = (i: number) => h.sim.customers().id(i);
/** Windows-1252 bytes of a text: every character here is in Latin-1's range. */
const cp1252 = (text: string) => Buffer.from(text, "latin1");

describe("text encodings", () => {
  it("a Windows-1252 CSV is refused without --encoding (the line named, --encoding suggested, nothing written) and read exactly with it", async () => {
    const csv = ["CustomerId,FirstName,LastName,DefaultAddress_City", `${id(0)},Robin,Smith,Seattle`, `${id(1)},Jürgen,Müller,München`].join("\r\n");
    const path = write("excel.csv", cp1252(csv));
    const before = await desiredRows();
    const refused = await cli("desired", "import", "--file", path);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/excel\.csv is not valid UTF-8 \(line 3, byte \d+\): nothing was written\. .*--encoding windows-1252/);
    expect(refused.stderr + refused.stdout).not.toMatch(/J.rgen|M.ller|M.nchen/);
    expect(await desiredRows()).toEqual(before);

    const read = await cli("desired", "import", "--file", path, "--encoding", "windows-1252");
    expect(read).toMatchObject({ code: 0, stdout: expect.stringMatching(/\nWrote 2 desired rows.\n$/) });
    const got = JSON.parse((await cli("desired", "get", "--target", `customer-${id(1)}`)).stdout);
    expect(got).toMatchObject({ FirstName: "Jürgen", LastName: "Müller", DefaultAddress: { City: "München" } });
  });

  it("a Windows-1252 JSON file for desired set: refused without --encoding, exact with it", async () => {
    const doc = JSON.stringify({ CustomerId: id(2), FirstName: "Zoë", DefaultAddress: { City: "Köln" } }, null, 2);
    const path = write("profile.json", cp1252(doc));
    const refused = await cli("desired", "set", "--no-check", "--file", path);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/profile\.json is not valid UTF-8 \(line 3, byte \d+\).*--encoding windows-1252/);
    expect((await desiredRows()).map((r) => r.partitionKey)).not.toContain(`customer-${id(2)}`);

    expect((await cli("desired", "set", "--no-check", "--file", path, "--encoding", "windows-1252")).code).toBe(0);
    expect(JSON.parse((await cli("desired", "get", "--target", `customer-${id(2)}`)).stdout)).toMatchObject({ FirstName: "Zoë", DefaultAddress: { City: "Köln" } });
  });

  it("a UTF-8 file with a BOM is read as UTF-8; an encoding Node does not know is a clear error", async () => {
    const path = write("bom.csv", `\uFEFFCustomerId,FirstName\n${id(3)},Åsa\n`);
    expect((await cli("desired", "import", "--file", path)).code).toBe(0);
    expect(JSON.parse((await cli("desired", "get", "--target", `customer-${id(3)}`)).stdout)).toMatchObject({ FirstName: "Åsa" });
    const unknown = await cli("desired", "import", "--file", path, "--encoding", "klingon");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/--encoding "klingon" is not an encoding Node knows/);
  });

  it("a U+FFFD never reaches a desired row: desired set and import are refused, naming the field, not the value", async () => {
    const doc = JSON.stringify({ CustomerId: id(4), FirstName: "J\uFFFDrgen" });
    const set = await cli("desired", "set", "--no-check", "--file", write("fffd.json", doc));
    expect(set.code).toBe(1);
    expect(set.stderr).toMatch(/InvalidDesiredState: The desired state of "customer-[0-9a-f-]+" was not written: FirstName holds U\+FFFD/);
    expect(set.stderr).not.toContain("rgen");
    const imported = await cli("desired", "import", "--file", write("fffd.csv", `CustomerId,LastName\n${id(4)},M\uFFFDller\n`));
    expect(imported.code).toBe(1);
    expect(imported.stdout).toMatch(/row 1 \(line 2\).*LastName holds U\+FFFD/);
    expect((await desiredRows()).map((r) => r.partitionKey)).not.toContain(`customer-${id(4)}`);
  });

  it("desired export --encoding windows-1252 --delimiter ';' writes what a European Excel opens", async () => {
    const path = join(dir, "excel-export.csv");
    const exported = await cli("desired", "export", "--out", path, "--encoding", "windows-1252", "--delimiter", ";");
    expect(exported.code).toBe(0);
    const bytes = readFileSync(path);
    const text = new TextDecoder("windows-1252").decode(bytes);
    expect(text.split("\n")[0]).toMatch(/^"Target";"CustomerId";/);
    expect(text).toContain('"Jürgen"');
    expect(bytes.includes(Buffer.from("ü", "utf8"))).toBe(false);
    const again = await cli("desired", "import", "--file", path, "--encoding", "windows-1252");
    expect(again.code).toBe(0);
  });

  it("an export to an encoding that cannot hold a value names the line, not the value", async () => {
    await h.setDesired(`customer-${id(5)}`, { CustomerId: id(5), FirstName: "Łukasz" });
    const result = await cli("desired", "export", "--out", join(dir, "latin.csv"), "--encoding", "windows-1252");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Line \d+ of the export holds a character that windows-1252 cannot hold; export with --encoding utf-8/);
    expect(result.stderr).not.toContain("ukasz");
  });
});

describe("delimiters", () => {
  it("a German Excel's ; CSV and a tab-separated file are read from their header line", async () => {
    const semicolon = write("semi.csv", cp1252([`CustomerId;FirstName;DefaultAddress_City`, `${id(0)};Jürgen;"Köln; Altstadt"`].join("\r\n")));
    expect(await cli("desired", "import", "--file", semicolon, "--encoding", "windows-1252", "--yes")).toMatchObject({ code: 0, stdout: expect.stringMatching(/\nWrote 1 desired row.\n$/) });
    expect(JSON.parse((await cli("desired", "get", "--target", `customer-${id(0)}`)).stdout)).toMatchObject({ FirstName: "Jürgen", DefaultAddress: { City: "Köln; Altstadt" } });
    const tab = write("tab.csv", [`CustomerId\tFirstName\tLastName`, `${id(1)}\tAnna, Maria\tSchmidt`].join("\n"));
    expect(await cli("desired", "import", "--file", tab, "--yes")).toMatchObject({ code: 0, stdout: expect.stringMatching(/\nWrote 1 desired row.\n$/) });
    expect(JSON.parse((await cli("desired", "get", "--target", `customer-${id(1)}`)).stdout)).toMatchObject({ FirstName: "Anna, Maria", LastName: "Schmidt" });
  });

  it("a header read as one column that starts with a known name and a delimiter says which --delimiter to use, and nothing else", async () => {
    const before = await desiredRows();
    const path = write("wrong-delimiter.csv", [`CustomerId;FirstName`, `${id(2)};Robin`].join("\n"));
    const result = await cli("desired", "import", "--file", path, "--delimiter", ",");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      '  file, line 1: the first line reads as one column that starts with CustomerId followed by ";": the file is separated by ";", not ","; run again with --delimiter ";"\nNothing was written: the file itself has problems.\n',
    );
    expect(await desiredRows()).toEqual(before);
  });
});

describe("no file content in any import error", () => {
  const personal = ["jane.private@contoso.example", "Jane Privatperson", "+49 30 1234567", "Geheimstraße 7", "DE999999999", "Zürich-Nord"];
  const leaks = (output: string) => personal.flatMap((value) => [value, ...value.split(/[\s@.+-]+/).filter((part) => part.length >= 5)]).filter((part) => output.includes(part));

  const files: [string, string | Buffer, string[]][] = [
    ["header-less.csv", `${personal[0]},${personal[1]},${personal[2]}\n${personal[3]},${personal[4]},${personal[5]}\n`, ["names no known column"]],
    ["unknown-column.csv", `CustomerId,${personal[0]}\nc5757d70-06f3-4f23-8367-5a9e55019f94,${personal[1]}\n`, ['column 2 "j***@***" is not a known column']],
    ["one-column.csv", `Email|${personal[0]}\n${personal[1]}\n`, ['save the file with one of those']],
    ["broken.csv", `CustomerId,Email\n"${personal[0]},${personal[1]}\n`, ["not valid CSV"]],
    ["cells.csv", [
      "Target,CustomerId,Email,DefaultAddress_PhoneNumber,FirstName,Mode,Suspended",
      `${personal[0]},c5757d70-06f3-4f23-8367-5a9e55019f94,${personal[1]},${personal[3]},"${personal[2]}\u0007",${personal[5]},${personal[4]}`,
      `,${personal[1]},${personal[0]},,${"x".repeat(300)}${personal[3]},,`,
    ].join("\n"), ["Target is not an allowed target name", "Email is not a valid e-mail address", "CustomerId must be"]],
    ["latin.csv", Buffer.from(`CustomerId,FirstName\nc5757d70-06f3-4f23-8367-5a9e55019f94,${personal[3]}\n`, "latin1"), ["not valid UTF-8"]],
    ["lines.jsonl", [
      `{"CustomerId": "${personal[0]}", "Email": "${personal[1]}"`,
      JSON.stringify({ [personal[0]]: personal[1] }),
      JSON.stringify({ DefaultAddress: { [personal[4]]: personal[3] } }),
      JSON.stringify({ Jane_Privatperson: personal[5] }),
      JSON.stringify(personal[0]),
      JSON.stringify({ Target: { who: personal[1] }, CustomerId: personal[2] }),
      JSON.stringify({ CustomerId: "c5757d70-06f3-4f23-8367-5a9e55019f94", Email: personal[0].replace("@", " at "), DefaultAddress: { PhoneNumber: personal[3] } }),
    ].join("\n"), ["not valid JSON", "is not a known property", "nest objects", "not a JSON object", "Target is not an allowed target name", "Email is not a valid e-mail address"]],
  ];

  it.each(files)("%s: every problem named, no personal value in the output (human or --json)", async (name, content, expected) => {
    const path = write(name, content);
    for (const json of [false, true]) {
      const result = await cli("desired", "import", "--file", path, ...(json ? ["--json"] : []));
      const output = result.stdout + result.stderr;
      expect(result.code).toBe(1);
      if (!json) for (const words of expected) expect(output).toContain(words);
      expect(leaks(output)).toEqual([]);
    }
  });
});

describe("the first day's rough edges", () => {
  it("desired set with an invalid CustomerId names the customer's row, not the target default", async () => {
    const result = await cli("desired", "set", "--no-check", "--file", write("bad-id.json", JSON.stringify({ CustomerId: "not-a-guid", FirstName: "Robin" })));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/The file's CustomerId must be .*; the row would be customer-<CustomerId>\. Nothing was written\./);
    expect(result.stderr).not.toContain('"default"');
  });

  it("history shows each run's id, what restore --run takes", async () => {
    const plan = JSON.parse((await cli("plan", "--target", `customer-${id(0)}`, "--json")).stdout);
    const history = await cli("history", "--target", `customer-${id(0)}`);
    expect(history.stdout.split("\n")[0]).toBe("started  run-id  target  trigger  outcome  fields  correlation-id  error");
    expect(history.stdout).toContain(`  ${plan.runId}  customer-${id(0)}  cli (dry run)  drift`);
  });

  it("billing-sync simulator serves --customers N with more countries' rules, and prints the settings with the real token", async () => {
    const { runSimulator } = await import("../../cli/simulatorCommand");
    let stdout = "";
    const sim = await runSimulator({ port: 0, customers: 3 }, { stdout: (t) => void (stdout += t), stderr: () => undefined, env: {} });
    try {
      const token = /PARTNER_CENTER_ACCESS_TOKEN=(\S+)/.exec(stdout)?.[1];
      expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(stdout).not.toContain("<the token>");
      expect(stdout).toMatch(/and 3 customers \(GET \/v1\/customers\); country rules of US, GB, DE, CN\./);
      const base = /PARTNER_CENTER_BASE_URL=(\S+)/.exec(stdout)![1];
      const get = (path: string) => fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
      const customers = (await (await get("/v1/customers")).json()) as { items: unknown[] };
      expect(customers.items).toHaveLength(3);
      for (const iso2 of ["US", "GB", "DE", "CN"]) expect({ iso2, status: (await get(`/v1/countryvalidationrules/${iso2}`)).status }).toEqual({ iso2, status: 200 });
    } finally {
      await sim.stop();
    }
  });

  it("a request that never reached a server (connection refused) carries no request id", async () => {
    await h.setDesired(`customer-${id(0)}`, { CustomerId: id(0), FirstName: "Robin" });
    const { createServer } = await import("node:net");
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    let stdout = "";
    const env = { ...h.env, PARTNER_CENTER_BASE_URL: `http://127.0.0.1:${port}` };
    const code = await runCli(["plan", "--target", `customer-${id(0)}`, "--json"], { stdout: (t) => void (stdout += t), stderr: () => undefined, env, engineOptions: { retry: fastRetry(h.waits) } });
    const run = JSON.parse(stdout);
    expect(code).toBe(1);
    expect(run).toMatchObject({ outcome: "failed", requestIds: [], error: { code: "NetworkError" } });
    expect(run.error.message).toMatch(/ECONNREFUSED/);
    expect(run.error.requestId).toBeUndefined();
  });

  it("the simulator's default port is not 7071 (func start's own)", async () => {
    const { buildProgram } = await import("../../cli/main");
    const simulator = buildProgram({ stdout: () => undefined, stderr: () => undefined, env: {} }).program.commands.find((c) => c.name() === "simulator")!;
    expect(simulator.options.find((o) => o.long === "--port")?.defaultValue).toBe("7080");
  });
});
