// The stored copy's page: fetch the copy's receipt and check it on this device — the record's
// leaf hash, the inclusion proof (RFC 9162 §2.1.3.2) and the log's signature on the
// checkpoint. The integrator runs separately: until a checkpoint covers the entry, ask the
// copy's receipt state again every second, a few times.
import { b64decode } from "./device-store.js";
import {
  hex,
  parseCheckpoint,
  parseHashes,
  verifyCheckpointSignature,
  verifyConsistency,
  verifyReceipt,
} from "./tlog.js";

const ATTEMPTS = 20;
const PAUSE_MS = 1000;

const box = document.getElementById("receipt");

function show(state, message, facts) {
  const result = box.querySelector("[data-receipt-result]");
  result.dataset.state = state;
  result.textContent = message;
  if (facts) {
    for (const [name, value] of Object.entries(facts)) {
      const slot = box.querySelector(`[data-receipt="${name}"]`);
      if (slot) slot.textContent = value;
    }
  }
}

async function included() {
  // The copy's page says whether a checkpoint covers the entry yet: a 200 either way, so a
  // pending receipt logs no failed request.
  const response = await fetch(box.dataset.stateUrl, { cache: "no-store" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return (await response.json()).included;
}

/** The log's latest checkpoint, signed by the log, extends the receipt's (RFC 9162 §2.1.4.2):
 * the log has only grown since. Returns the latest size. */
async function latest(verified) {
  const response = await fetch(box.dataset.checkpointUrl, { cache: "no-store" });
  if (!response.ok) throw new Error(`the latest checkpoint: HTTP ${response.status}`);
  const current = parseCheckpoint(await response.text());
  if (current.origin !== box.dataset.origin) {
    throw new Error(`the latest checkpoint is for ${current.origin}, not ${box.dataset.origin}`);
  }
  await verifyCheckpointSignature(current, box.dataset.verifierKey);
  let proof = [];
  if (current.size > verified.size) {
    const url = `${box.dataset.consistencyUrl}?from=${verified.size}&to=${current.size}`;
    const answer = await fetch(url, { cache: "no-store" });
    if (!answer.ok) throw new Error(`the consistency proof: HTTP ${answer.status}`);
    proof = parseHashes(await answer.text());
  }
  await verifyConsistency(verified.size, current.size, proof, verified.root, current.root);
  return current.size;
}

async function verify() {
  const response = await fetch(box.dataset.receiptUrl, { cache: "no-store" });
  if (!response.ok) {
    show("failed", `${box.dataset.msgFailed} HTTP ${response.status}`);
    return;
  }
  try {
    const verified = await verifyReceipt(await response.text(), b64decode(box.dataset.record), {
      verifierKey: box.dataset.verifierKey,
      origin: box.dataset.origin,
    });
    const size = await latest(verified);
    show("verified", box.dataset.msgVerified, {
      index: verified.index.toString(),
      size: verified.size.toString(),
      root: hex(verified.root),
      latest: `${box.dataset.msgLatest} ${size}`,
    });
  } catch (error) {
    show("failed", `${box.dataset.msgFailed} ${error.message}`);
  }
}

async function check() {
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      if (await included()) {
        await verify();
        return;
      }
      show("pending", box.dataset.msgPending);
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  } catch (error) {
    show("failed", `${box.dataset.msgUnreachable} ${error.message}`);
    return;
  }
  show("pending", box.dataset.msgStillPending);
}

if (box) check();
