/** Identifier formats checked in more than one place (settings, desired rows). */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Key Vault's own rule for secret names: 1-127 letters, digits and dashes. */
export const KEY_VAULT_SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
