// The stored copy's page: fetch the copy's receipt and check it on this device — the record's
// leaf hash, the inclusion proof (RFC 9162 §2.1.3.2) and the log's signature on the
// checkpoint. The integrator runs separately: until it has, the receipt is "not yet" (404
// with Retry-After), so ask again a few times.
import { b64decode } from "./device-store.js";
import { hex, verifyReceipt } from "./tlog.js";

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

async function check() {
  const record = b64decode(box.dataset.record);
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    let response;
    try {
      response = await fetch(box.dataset.receiptUrl, { cache: "no-store" });
    } catch (error) {
      show("failed", `${box.dataset.msgUnreachable} ${error}`);
      return;
    }
    if (response.ok) {
      try {
        const verified = await verifyReceipt(await response.text(), record, {
          verifierKey: box.dataset.verifierKey,
          origin: box.dataset.origin,
        });
        show("verified", box.dataset.msgVerified, {
          index: verified.index.toString(),
          size: verified.size.toString(),
          root: hex(verified.root),
        });
      } catch (error) {
        show("failed", `${box.dataset.msgFailed} ${error.message}`);
      }
      return;
    }
    if (response.status !== 404 && response.status !== 503) {
      show("failed", `${box.dataset.msgFailed} HTTP ${response.status}`);
      return;
    }
    show("pending", box.dataset.msgPending);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  }
  show("pending", box.dataset.msgStillPending);
}

if (box) check();
