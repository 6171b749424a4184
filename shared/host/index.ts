export { afterInvocation, handleStatus, handleSync, runQueueMessage, runTimer } from "./functionHandlers";
export { deferralDelayInSeconds, MAX_DEFERRAL_IN_MS } from "./requeue";
export { runPurge } from "./purgeHandler";
