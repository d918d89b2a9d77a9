// The device keys page: generate this browser's key pair on registering, and mark the keys
// whose private half is in this browser.
import { ed25519Supported, generateDeviceKey, storedKeys } from "./device-store.js";

const form = document.getElementById("device-key-form");
const status = document.getElementById("device-key-status");

function say(message) {
  status.textContent = message;
  status.hidden = false;
}

if (form) {
  form.addEventListener("submit", async (event) => {
    const field = form.elements.namedItem("public_key");
    if (field.value) return; // generated already: let it go
    event.preventDefault();
    if (!(await ed25519Supported())) {
      say(status.dataset.unsupported);
      return;
    }
    try {
      field.value = await generateDeviceKey();
    } catch (error) {
      say(`${status.dataset.failed} ${error}`);
      return;
    }
    form.submit();
  });
}

storedKeys().then((held) => {
  const here = new Set(held.map((item) => item.publicKey));
  for (const row of document.querySelectorAll("[data-public-key]")) {
    if (here.has(row.dataset.publicKey)) {
      const mark = row.querySelector("[data-this-device]");
      if (mark) mark.hidden = false;
    }
  }
}).catch(() => {});
