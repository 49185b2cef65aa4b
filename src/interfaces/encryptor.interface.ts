/**
 * Encrypts the stored bytes (in the store, or in the cookie for the cookie store).
 * Synchronous, like Node's cipher API: no thread-pool hop per request.
 */
export interface Encryptor {
  encrypt(data: Uint8Array): Uint8Array;
  /** Throws when the data cannot be authenticated/decrypted with any configured key. */
  decrypt(data: Uint8Array): Uint8Array;
  /**
   * Optional: `decrypt`, also telling which key (by position) opened the data. Data opened by a
   * key other than the first is re-encrypted with the first on the next save, so a key rotation
   * completes as sessions are used.
   */
  decryptWithKeyIndex?(data: Uint8Array): { data: Uint8Array; keyIndex: number };
}
