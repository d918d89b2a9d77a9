// The protocol form: sign the copy on this device before it is sent (docs/signatures.md).
// The signed message is "pollwatch/protocol-copy/v1\n" + copy id + "\n" + the RFC 8785
// canonical body, exactly what the server rebuilds from the submitted fields and verifies.
import { b64encode, ed25519Supported, storedKeys } from "./device-store.js";
import { canonicalJSON } from "./canonical-json.js";

export const SIGNED_PREFIX = "pollwatch/protocol-copy/v1\n";

// What Django's IntegerField accepts and yields the same number: optional sign, ASCII
// digits, an optional ".000" tail. Anything else the form refuses before the signature counts.
const WHOLE = /^\s*([+-]?\d+)(\.0*)?\s*$/;

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The body the server will rebuild from this form (canonical.copy_body), or null when a
 * figure is not a whole number (the server sends the form back before any signature). */
export async function formBody(form) {
  const figures = {};
  for (const input of form.querySelectorAll("input[data-line]")) {
    const match = WHOLE.exec(input.value);
    if (!match) return null;
    figures[input.dataset.line] = Number.parseInt(match[1], 10);
  }
  const kept = (form.elements.namedItem("uploaded_photos")?.value || "").split(",")
    .map((sha) => sha.trim()).filter(Boolean);
  const files = Array.from(form.elements.namedItem("photos")?.files || []);
  const uploaded = await Promise.all(files.map(sha256Hex));
  const supersedes = form.elements.namedItem("supersedes")?.value || null;
  return {
    election: form.dataset.election,
    station: form.dataset.stationCode,
    figures,
    all_members_signed: form.elements.namedItem("all_members_signed").checked,
    certified: form.elements.namedItem("certified").checked,
    photos: Array.from(new Set([...kept, ...uploaded])).sort(),
    supersedes: supersedes ? supersedes.toLowerCase() : null,
  };
}

export function signedMessage(copyId, body) {
  return new TextEncoder().encode(`${SIGNED_PREFIX}${copyId.toLowerCase()}\n${canonicalJSON(body)}`);
}

const form = document.querySelector("form[data-signing]");
const status = document.getElementById("signing-status");

function say(message, refused = false) {
  status.textContent = message;
  status.hidden = false;
  status.classList.toggle("notice--refused", refused);
}

/** The newest of this browser's key pairs that is registered and active, or why there is
 * none: {key} or {problem: "unsupported" | "noKey"}. */
async function deviceKey() {
  const active = new Set((form.dataset.deviceKeys || "").split(" ").filter(Boolean));
  if (!(await ed25519Supported())) return { problem: "unsupported" };
  const held = (await storedKeys()).filter((item) => active.has(item.publicKey));
  if (held.length === 0) return { problem: "noKey" };
  return { key: held.sort((a, b) => b.createdAt - a.createdAt)[0] };
}

async function sign(key) {
  const body = await formBody(form);
  if (body === null) return; // a figure to fix: the server says which, before any signature
  const copyId = form.elements.namedItem("client_id").value;
  const signature = await crypto.subtle.sign(
    { name: "Ed25519" }, key.keyPair.privateKey, signedMessage(copyId, body));
  form.elements.namedItem("device_key").value = key.publicKey;
  form.elements.namedItem("signature").value = b64encode(signature);
  say(status.dataset.signed);
}

if (form && status) {
  const required = form.dataset.signaturesRequired === "true";
  // Known before the observer submits, so that an unsigned copy is sent as a plain form.
  let found = null;
  const finding = deviceKey().then((result) => { found = result; }, () => {
    found = { problem: "unsupported" };
  });
  form.addEventListener("submit", (event) => {
    form.elements.namedItem("device_key").value = "";
    form.elements.namedItem("signature").value = "";
    if (found !== null && found.problem) {
      const which = found.problem === "unsupported" ? "unsupported" : "noKey";
      if (!required) return; // sent unsigned, as the election allows
      event.preventDefault();
      say(status.dataset[`${which}Required`], true);
      return;
    }
    event.preventDefault();
    finding
      .then(() => {
        if (found.problem) {
          if (!required) return true;
          say(status.dataset[`${found.problem}Required`], true);
          return false;
        }
        return sign(found.key).then(() => true);
      })
      .then((send) => { if (send) form.submit(); })
      .catch((error) => say(`${status.dataset.failed} ${error}`, true));
  });
}
