/**
 * Jest setup: @azure/functions warns, once per test file that loads it, that it found no
 * Functions runtime and switched to test mode (and then that it skips registering each
 * function). Here that is expected (the host cannot run:
 * handlers are called with the library's own constructors), and the block reads like a
 * failure in the output of a passing suite, so those warnings are dropped. Every other
 * console call goes through.
 */
const TEST_MODE = /Failed to detect the Azure Functions runtime|because the "@azure\/functions" package is in test mode/;
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === "string" && TEST_MODE.test(args[0])) return;
  warn(...args);
};
