/**
 * Encrypts the stored bytes (in the store, or in the cookie for the cookie store).
 * Synchronous, like Node's cipher API: no thread-pool hop per request.
 */
export interface Encryptor {
  encrypt(data: Uint8Array): Uint8Array;
  /** Throws when the data cannot be authenticated/decrypted with any configured key. */
  decrypt(data: Uint8Array): Uint8Array;
}
