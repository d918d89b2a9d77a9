// pollwatch's one Ed25519 accept/reject rule (pollwatch.core.tlog.ed25519), in the browser:
// 1. a public key is the canonical encoding of a curve point of prime order L;
// 2. a signature is 64 bytes with S < L;
// 3. then RFC 8032 cofactorless verification (WebCrypto's Ed25519).
const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function mod(a) {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function power(base, exponent) {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

const D = mod(-121665n * power(121666n, P - 2n));
const SQRT_M1 = power(2n, (P - 1n) / 4n);
const IDENTITY = [0n, 1n, 1n, 0n];

function littleEndian(bytes) {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i -= 1) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

function decodePoint(raw) {
  const value = littleEndian(raw);
  const sign = value >> 255n;
  const y = value & ((1n << 255n) - 1n);
  if (y >= P) throw new Error("Ed25519 public key is not canonically encoded (y >= p)");
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * power(v, 3n) * power(u * power(v, 7n), (P - 5n) / 8n));
  if (mod(v * x * x - u) === 0n) {
    // x is a square root
  } else if (mod(v * x * x + u) === 0n) {
    x = mod(x * SQRT_M1);
  } else {
    throw new Error("Ed25519 public key is not a point on the curve");
  }
  if (x === 0n && sign === 1n) {
    throw new Error("Ed25519 public key is not canonically encoded (x = 0, sign 1)");
  }
  if ((x & 1n) !== sign) x = P - x;
  return [x, y, 1n, mod(x * y)];
}

function add([x1, y1, z1, t1], [x2, y2, z2, t2]) {
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(t1 * 2n * D * t2);
  const d = mod(z1 * 2n * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function multiply(scalar, point) {
  let result = IDENTITY;
  let p = point;
  let s = scalar;
  while (s > 0n) {
    if (s & 1n) result = add(result, p);
    p = add(p, p);
    s >>= 1n;
  }
  return result;
}

function isIdentity([x, y, z]) {
  return mod(x) === 0n && mod(y - z) === 0n;
}

/** Rule 1: throws an Error naming the failed check. */
export function checkPublicKey(raw) {
  if (raw.length !== 32) throw new Error(`Ed25519 public key must be 32 bytes, got ${raw.length}`);
  const point = decodePoint(raw);
  if (isIdentity(multiply(8n, point))) throw new Error("Ed25519 public key is a small-order point");
  if (!isIdentity(multiply(L, point))) {
    throw new Error("Ed25519 public key is not in the prime-order subgroup");
  }
}

/** Rules 1 to 3: whether `signature` by `publicKey` (raw bytes) verifies over `message`. */
export async function verifyEd25519(publicKey, message, signature) {
  checkPublicKey(publicKey);
  if (signature.length !== 64) return false;
  if (littleEndian(signature.slice(32)) >= L) return false;
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}
