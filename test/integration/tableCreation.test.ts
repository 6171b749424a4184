import { TableClient } from "@azure/data-tables";
import { parseStorage } from "../../shared/config/settings";
import { DesiredStateStore } from "../../shared/stores/desiredStore";
import { TABLES, TableFactory } from "../../shared/stores/tables";
import { startAzurite, type LocalStorage } from "../../simulator/azurite";

// In Azure the deployment creates the tables and the app's identity may only read and write
// rows of those three tables: the app must not try to create one. Locally (a connection
// string, Azurite) it still creates them on first use. Azurite is real; a fresh one has no table.
let storage: LocalStorage;
beforeAll(async () => {
  storage = await startAzurite();
});
afterAll(() => storage.stop());

describe("table creation", () => {
  it("happens with a connection string (Azurite, a local account), not with an endpoint URL (Entra ID, Azure)", () => {
    expect(new TableFactory(parseStorage({ BILLING_SYNC_STORAGE: storage.connectionString })).createsTables).toBe(true);
    expect(new TableFactory(parseStorage({ BILLING_SYNC_STORAGE: "https://stexample.table.core.windows.net/" })).createsTables).toBe(false);
  });

  it("an endpoint factory never sends a create-table request (its ensure does not touch the client)", async () => {
    const endpoint = new TableFactory(parseStorage({ BILLING_SYNC_STORAGE: "https://stexample.table.core.windows.net/" }));
    // A client of a port nobody listens on: any request would fail the test.
    const unreachable = TableClient.fromConnectionString(storage.connectionString.replace(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/, "TableEndpoint=http://127.0.0.1:9"), TABLES.desired, { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } });
    await expect(endpoint.ensure(unreachable)).resolves.toBeUndefined();
  });

  it("without creation, a missing table is a clear error naming it and how to create it, not an empty result", async () => {
    const store = new DesiredStateStore(new TableFactory(parseStorage({ BILLING_SYNC_STORAGE: storage.connectionString }), { maxRetries: 0 }, { createTables: false }));
    await expect(store.get("default")).rejects.toThrow(/table BillingProfileDesired does not exist\. With an endpoint URL \(Entra ID\) the app does not create tables; .*az storage table create/);
    await expect(store.listTargets()).rejects.toThrow(/table BillingProfileDesired does not exist/);
  });

  it("with creation, the first use creates the table and a missing row is just missing", async () => {
    const store = new DesiredStateStore(new TableFactory(parseStorage({ BILLING_SYNC_STORAGE: storage.connectionString })));
    await expect(store.get("default")).resolves.toBeUndefined();
    await expect(store.listTargets()).resolves.toEqual([]);
  });
});
