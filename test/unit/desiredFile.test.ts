import { readDesiredCsv, readDesiredJsonLines, writeDesiredCsv, writeDesiredJsonLines } from "../../cli/desiredFile";

const C1 = "c5757d70-06f3-4f23-8367-5a9e55019f94";
const C2 = "7b26b357-9ca3-48b8-a58e-4febe2662a5d";

describe("reading a desired-state CSV", () => {
  it("one row per line; an empty cell is not managed, a quoted empty cell makes the field empty; Suspended is a boolean", () => {
    const csv = ['CustomerId,Email,DefaultAddress_AddressLine2,Suspended,Mode', `${C1},ap@fabrikam.example,"",false,enforce`, `${C2},,Suite 5,TRUE,`].join("\r\n");
    const { rows, fileProblems } = readDesiredCsv(csv);
    expect(fileProblems).toEqual([]);
    expect(rows).toEqual([
      { row: 1, line: 2, target: undefined, entity: { CustomerId: C1, Email: "ap@fabrikam.example", DefaultAddress_AddressLine2: "", Suspended: false, Mode: "enforce" } },
      { row: 2, line: 3, target: undefined, entity: { CustomerId: C2, DefaultAddress_AddressLine2: "Suite 5", Suspended: true } },
    ]);
  });

  it("keeps commas, quotes, line breaks and surrounding spaces inside quoted cells (the line number is where the row ends)", () => {
    const csv = `\uFEFFTarget,CustomerId,CompanyName,DefaultAddress_AddressLine1\nacme,${C1},"Fabrikam, ""Inc""","  1 Main St\nBuilding 2 "\n`;
    const { rows } = readDesiredCsv(csv);
    expect(rows).toEqual([{ row: 1, line: 3, target: "acme", entity: { CustomerId: C1, CompanyName: 'Fabrikam, "Inc"', DefaultAddress_AddressLine1: "  1 Main St\nBuilding 2 " } }]);
  });

  it("an unknown, repeated or unnamed column is a problem of the file, named with its position and a hint", () => {
    const { fileProblems } = readDesiredCsv(`CustomerId,Emial,Email,Email,\n${C1},a@b.co,,,\n`);
    expect(fileProblems.map((p) => p.message)).toEqual([
      'column 2 "E***" is not a known column (did you mean Email?)',
      'column 4 "Email" repeats column 3',
      "column 5 has no name",
    ]);
    expect(fileProblems.every((p) => p.row === 0)).toBe(true);
  });

  it("broken CSV (a row with another number of cells) names the line, not the content", () => {
    const { fileProblems, rows } = readDesiredCsv(`CustomerId,Email\n${C1},secret@x.example,extra\n`);
    expect(rows).toEqual([]);
    expect(fileProblems).toHaveLength(1);
    expect(fileProblems[0].message).toMatch(/not valid CSV \(CSV_RECORD_INCONSISTENT_FIELDS_LENGTH at line 2; read with delimiter ","\)/);
    expect(fileProblems[0].message).not.toContain("secret");
  });

  it("an empty file says what the first line must be", () => {
    expect(readDesiredCsv("").fileProblems[0].message).toMatch(/first line must name the columns/);
  });
});

describe("reading JSON lines", () => {
  it("one profile-shaped document per line, Target taken out; a broken line is a problem of its row only, without its content", () => {
    const text = [
      JSON.stringify({ Target: "acme", CustomerId: C1, Email: "a@b.co", DefaultAddress: { City: "Paris" } }),
      "",
      '{"CustomerId": "' + C2 + '", "Email": "secret@x.example"',
      JSON.stringify({ CustomerId: C2, Suspended: true }),
    ].join("\n");
    const { rows, fileProblems } = readDesiredJsonLines(text);
    expect(rows).toEqual([
      { row: 1, line: 1, target: "acme", entity: { CustomerId: C1, Email: "a@b.co", DefaultAddress_City: "Paris" } },
      { row: 3, line: 4, target: undefined, entity: { CustomerId: C2, Suspended: true } },
    ]);
    expect(fileProblems).toEqual([{ row: 2, line: 3, message: expect.stringMatching(/^not valid JSON/) }]);
    expect(JSON.stringify(fileProblems)).not.toContain("secret");
  });
});

describe("writing", () => {
  const rows = [
    { target: "default", etag: "e", properties: { PurchaseOrderNumber: "PO-1", Mode: "enforce", Suspended: false } },
    { target: `customer-${C1}`, etag: "e", properties: { CustomerId: C1, Email: "a@b.co", DefaultAddress_AddressLine2: "", Mode: "observe", Suspended: true } },
  ];

  it("CSV: a column per property in use, an absent value an empty cell, an empty value a quoted empty cell; read back the same", () => {
    const csv = writeDesiredCsv(rows);
    expect(csv.split("\n")[0]).toBe('"Target","CustomerId","Mode","Suspended","DefaultAddress_AddressLine2","Email","PurchaseOrderNumber"');
    expect(csv.split("\n")[1]).toBe('"default",,"enforce","false",,,"PO-1"');
    expect(csv.split("\n")[2]).toBe(`"customer-${C1}","${C1}","observe","true","","a@b.co",`);
    const back = readDesiredCsv(csv);
    expect(back.fileProblems).toEqual([]);
    expect(back.rows.map((r) => ({ target: r.target, properties: r.entity }))).toEqual(rows.map(({ target, properties }) => ({ target, properties })));
  });

  it("JSON lines: profile-shaped documents with Target, read back the same", () => {
    const text = writeDesiredJsonLines(rows);
    expect(JSON.parse(text.split("\n")[1])).toEqual({ Target: `customer-${C1}`, CustomerId: C1, Email: "a@b.co", DefaultAddress: { AddressLine2: "" }, Mode: "observe", Suspended: true });
    const back = readDesiredJsonLines(text);
    expect(back.rows.map((r) => ({ target: r.target, properties: r.entity }))).toEqual(rows.map(({ target, properties }) => ({ target, properties })));
  });
});

describe("the CSV delimiter", () => {
  it("is judged from the header line: the most frequent of , ; and tab outside quotes, a comma when none", () => {
    const { detectDelimiter } = jest.requireActual<typeof import("../../cli/desiredFile")>("../../cli/desiredFile");
    expect(detectDelimiter("\uFEFFCustomerId;Email;FirstName\r\nx,y;z")).toBe(";");
    expect(detectDelimiter("CustomerId\tEmail\n")).toBe("\t");
    expect(detectDelimiter('"A;B",Email\n')).toBe(",");
    expect(detectDelimiter("CustomerId\n;;;;\n")).toBe(",");
  });

  it("a ; file read with a tab delimiter option still names the header's delimiter", () => {
    const { fileProblems } = readDesiredCsv(`CustomerId;Email\n${C1};a@b.co\n`, { delimiter: "\t" });
    expect(fileProblems.map((p) => p.message)).toEqual(['the first line reads as one column that starts with CustomerId followed by ";": the file is separated by ";", not tab; run again with --delimiter ";"']);
  });
});
