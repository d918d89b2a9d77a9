// The log's proofs checked in the browser: RFC 9162 §2.1 leaf and node hashes, inclusion
// proof verification exactly as §2.1.3.2, C2SP tlog-proof receipts, tlog-checkpoint notes and
// their C2SP signed-note Ed25519 signature (pollwatch.core.tlog, in JavaScript).
import { b64decode } from "./device-store.js";
import { verifyEd25519 } from "./ed25519-rule.js";

export const RECEIPT_HEADER = "c2sp.org/tlog-proof@v1";

async function sha256(...parts) {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

/** SHA-256(0x00 || data) */
export function leafHash(data) {
  return sha256(Uint8Array.of(0), data);
}

/** SHA-256(0x01 || left || right) */
export function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), left, right);
}

function equal(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** RFC 9162 §2.1.3.2; throws an Error naming the failed step. Index and size are BigInt. */
export async function verifyInclusion(leaf, index, treeSize, proof, root) {
  if (leaf.length !== 32) throw new Error(`leaf hash is ${leaf.length} bytes, not 32`);
  if (root.length !== 32) throw new Error(`root hash is ${root.length} bytes, not 32`);
  if (index >= treeSize) throw new Error(`index ${index} is not below the tree size ${treeSize}`);
  let fn = index;
  let sn = treeSize - 1n;
  let r = leaf;
  for (const [position, p] of proof.entries()) {
    if (p.length !== 32) throw new Error(`proof hash ${position} is ${p.length} bytes, not 32`);
    if (sn === 0n) throw new Error(`the proof is longer than the path (${proof.length} hashes)`);
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while (!((fn & 1n) === 1n || fn === 0n)) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error(`the proof is shorter than the path (${proof.length} hashes)`);
  if (!equal(r, root)) throw new Error("the proof does not lead to the checkpoint's root hash");
}

/** RFC 9162 §2.1.4.2: the tree (size2, root2) extends the tree (size1, root1); throws an
 * Error naming the failed step. Sizes are BigInt. */
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  for (const [position, p] of proof.entries()) {
    if (p.length !== 32) throw new Error(`consistency proof hash ${position} is ${p.length} bytes`);
  }
  if (size1 === 0n) throw new Error("the empty tree has no consistency proof");
  if (size1 > size2) throw new Error(`tree size ${size1} is larger than ${size2}`);
  if (size1 === size2) {
    if (proof.length !== 0) throw new Error("trees of equal size need an empty consistency proof");
    if (!equal(root1, root2)) throw new Error(`two different roots for the tree size ${size1}`);
    return;
  }
  if (proof.length === 0) throw new Error(`the consistency proof from ${size1} to ${size2} is empty`);
  const path = (size1 & (size1 - 1n)) === 0n ? [root1, ...proof] : [...proof];
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new Error(`the consistency proof from ${size1} to ${size2} is too long`);
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while (fn !== 0n && (fn & 1n) === 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error(`the consistency proof from ${size1} to ${size2} is too short`);
  if (!equal(fr, root1)) throw new Error("the consistency proof does not lead to the first root");
  if (!equal(sr, root2)) throw new Error("the consistency proof does not lead to the second root");
}

/** One base64 hash per line (the log's consistency endpoint). */
export function parseHashes(text) {
  return text.split("\n").filter(Boolean).map((line, i) => strictBase64(line, `hash ${i}`));
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function strictBase64(text, what) {
  let raw;
  try {
    raw = b64decode(text);
  } catch {
    throw new Error(`${what} is not valid base64`);
  }
  if (btoa(String.fromCharCode(...raw)) !== text) throw new Error(`${what} is not canonical base64`);
  return raw;
}

/** A `c2sp.org/tlog-proof@v1` receipt: {index (BigInt), proof, checkpoint (text)}. */
export function parseReceipt(text) {
  const lines = text.split("\n");
  let at = 0;
  if (lines[at++] !== RECEIPT_HEADER) throw new Error(`the receipt does not start with ${RECEIPT_HEADER}`);
  if ((lines[at] || "").startsWith("extra ")) at += 1;
  const indexLine = lines[at++] || "";
  const number = indexLine.startsWith("index ") ? indexLine.slice(6) : "";
  if (!DECIMAL.test(number)) throw new Error("the receipt has no 'index <n>' line");
  const proof = [];
  while (at < lines.length && lines[at] !== "") {
    const hash = strictBase64(lines[at], `receipt proof hash ${proof.length}`);
    if (hash.length !== 32) throw new Error(`receipt proof hash ${proof.length} is ${hash.length} bytes`);
    proof.push(hash);
    at += 1;
  }
  if (at >= lines.length) throw new Error("the receipt has no blank line before its checkpoint");
  const checkpoint = lines.slice(at + 1).join("\n");
  if (!checkpoint) throw new Error("the receipt has no checkpoint");
  return { index: BigInt(number), proof, checkpoint };
}

/** A signed checkpoint note: {origin, size (BigInt), root, text, signatures: [{name, blob}]}. */
export function parseCheckpoint(note) {
  const split = note.indexOf("\n\n");
  if (split < 0) throw new Error("the checkpoint has no signatures");
  const text = note.slice(0, split + 1);
  const [origin, size, root] = text.split("\n");
  if (!origin || !DECIMAL.test(size || "")) throw new Error("the checkpoint's text is malformed");
  const rootHash = strictBase64(root || "", "the checkpoint's root hash");
  if (rootHash.length !== 32) throw new Error("the checkpoint's root hash is not 32 bytes");
  const signatures = note.slice(split + 2).split("\n").filter(Boolean).map((line) => {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match) throw new Error("a checkpoint signature line is malformed");
    return { name: match[1], blob: strictBase64(match[2], "a checkpoint signature") };
  });
  return { origin, size: BigInt(size), root: rootHash, text, signatures };
}

/** Check the checkpoint's Ed25519 signature by the log's verifier key
 * (C2SP signed-note: name+hex key id+base64(0x01 || public key)). */
export async function verifyCheckpointSignature(checkpoint, verifierKey) {
  // name+hex+base64: the name has no "+", the base64 may.
  const first = verifierKey.indexOf("+");
  const second = verifierKey.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new Error("the log's verifier key is malformed");
  const name = verifierKey.slice(0, first);
  const keyIdHex = verifierKey.slice(first + 1, second);
  const keyBase64 = verifierKey.slice(second + 1);
  const key = strictBase64(keyBase64 || "", "the log's verifier key");
  if (key.length !== 33 || key[0] !== 1) throw new Error("the log's verifier key is not an Ed25519 key");
  const keyId = Number.parseInt(keyIdHex, 16);
  const mine = checkpoint.signatures.filter((s) => s.name === name && s.blob.length === 68
    && new DataView(s.blob.buffer, s.blob.byteOffset).getUint32(0) === keyId);
  if (mine.length === 0) throw new Error(`the checkpoint is not signed by ${name}`);
  const message = new TextEncoder().encode(checkpoint.text);
  const valid = await verifyEd25519(key.slice(1), message, mine[0].blob.slice(4));
  if (!valid) throw new Error(`the checkpoint's signature by ${name} does not verify`);
}

/** Everything the receipt page checks; returns {index, size, root} or throws naming why. */
export async function verifyReceipt(receiptText, record, { verifierKey, origin } = {}) {
  const receipt = parseReceipt(receiptText);
  const checkpoint = parseCheckpoint(receipt.checkpoint);
  if (origin && checkpoint.origin !== origin) {
    throw new Error(`the checkpoint is for ${checkpoint.origin}, not ${origin}`);
  }
  if (verifierKey) await verifyCheckpointSignature(checkpoint, verifierKey);
  await verifyInclusion(await leafHash(record), receipt.index, checkpoint.size, receipt.proof,
    checkpoint.root);
  return { index: receipt.index, size: checkpoint.size, root: checkpoint.root, checkpoint };
}
