export { afterInvocation, handleStatus, handleSync, runQueueMessage, runTimer } from "./functionHandlers";
