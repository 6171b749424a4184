export { clientSecretValue } from "./clientAuth";
export type { ClientAuthentication } from "./clientAuth";
export { signInWithDeviceCode } from "./deviceCode";
export { StaticTokenCredential } from "./staticCredential";
export { azureIdentityFor, clientAuthFor, createUserCredential, openSecretStore } from "./userCredential";
export type { UserAuthOptions } from "./userCredential";
export { actorFromClaims, jwtClaims, osActor, resolveStorageActor } from "./storageIdentity";
export type { Actor } from "./storageIdentity";
