/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }],
  },
  testTimeout: 30000,
  // Drops the one expected warning of @azure/functions (no Functions runtime here).
  setupFiles: ["<rootDir>/test/support/quietConsole.ts"],
};
