// RFC 8785 (JCS) for the values a protocol copy's body holds: objects, arrays, strings,
// booleans, null and safe integers. JSON.stringify already serialises strings and numbers as
// JCS does (JCS is defined on ECMAScript's serialisation); keys sort by UTF-16 code units,
// which is JavaScript's default string order.
export function canonicalJSON(value) {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new Error(`${value} is not a whole number this encoder handles`);
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJSON(value[key])}`).join(",")}}`;
}
