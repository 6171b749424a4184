export { afterInvocation, handleStatus, handleSync, runQueueMessage, runTimer } from "./functionHandlers";
export { runPurge } from "./purgeHandler";
