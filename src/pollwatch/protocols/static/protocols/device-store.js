// This browser's device keys: Ed25519 key pairs made with WebCrypto, the private half
// non-extractable, kept in IndexedDB under the public key's base64 (docs/signatures.md).

const DATABASE = "pollwatch-device-keys";
const STORE = "keys";

function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "publicKey" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function transact(mode, work) {
  return openDatabase().then((db) => new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => { db.close(); resolve(request.result); };
    transaction.onerror = () => { db.close(); reject(transaction.error); };
  }));
}

export function b64encode(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text);
}

export function b64decode(text) {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Whether this browser's WebCrypto makes Ed25519 keys. */
export async function ed25519Supported() {
  if (!(window.crypto && crypto.subtle && window.indexedDB)) return false;
  try {
    await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    return true;
  } catch {
    return false;
  }
}

/** A new key pair, stored; returns its public key (standard base64 of the 32 raw bytes). */
export async function generateDeviceKey() {
  const keyPair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const publicKey = b64encode(await crypto.subtle.exportKey("raw", keyPair.publicKey));
  await transact("readwrite", (store) => store.put({ publicKey, keyPair, createdAt: Date.now() }));
  return publicKey;
}

/** Every key pair this browser holds: [{publicKey, keyPair, createdAt}]. */
export async function storedKeys() {
  if (!window.indexedDB) return [];
  return transact("readonly", (store) => store.getAll());
}
