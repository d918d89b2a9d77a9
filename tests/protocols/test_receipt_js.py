"""The browser's own checks (static/protocols/tlog.js, ed25519-rule.js, canonical-json.js),
run in Chromium against proofs, checkpoints and receipts made by pollwatch.core.tlog: every
proof of several tree sizes verifies, every tampered one fails, and the Ed25519 rule and the
canonical JSON agree with the server's."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Page

from pollwatch.core.tlog import MemoryTree, leaf_hash
from pollwatch.core.tlog.checkpoint import Checkpoint, sign_checkpoint
from pollwatch.core.tlog.ed25519 import public_key_bytes
from pollwatch.core.tlog.note import Ed25519Signer
from pollwatch.core.tlog.receipt import Receipt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

L = 2**252 + 27742317777372353535851937790883648493
SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 100)
ORIGIN = "log.test/test-referendum"

INCLUSION = """async ({base, cases}) => {
  const tlog = await import(base + "/static/protocols/tlog.js");
  const dec = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  const out = [];
  for (const c of cases) {
    try {
      await tlog.verifyInclusion(await tlog.leafHash(dec(c.data)), BigInt(c.index),
        BigInt(c.size), c.proof.map(dec), dec(c.root));
      out.push("ok");
    } catch (error) {
      out.push(error.message);
    }
  }
  return out;
}"""

RECEIPT = """async ({base, receipt, record, verifierKey, origin}) => {
  const tlog = await import(base + "/static/protocols/tlog.js");
  const dec = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  try {
    const v = await tlog.verifyReceipt(receipt, dec(record), {verifierKey, origin});
    return ["ok", v.index.toString(), v.size.toString(), tlog.hex(v.root)];
  } catch (error) {
    return [error.message];
  }
}"""


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def records(count: int) -> list[bytes]:
    return [rfc8785.dumps({"kind": "protocol-copy", "n": n, "note": "Ä"}) for n in range(count)]


@pytest.fixture
def loaded(page: Page, live_server: Any) -> Page:
    page.goto(f"{live_server.url}/")
    return page


def run(page: Page, script: str, **arguments: Any) -> Any:
    return page.evaluate(script, {"base": page.url.rstrip("/"), **arguments})


def test_every_proof_of_several_tree_sizes_verifies(loaded: Page) -> None:
    cases = []
    for size in SIZES:
        data = records(size)
        tree = MemoryTree([leaf_hash(d) for d in data])
        root = b64(tree.root())
        for index in range(size):
            proof = [b64(h) for h in tree.inclusion_proof(index)]
            cases.append(
                {
                    "data": b64(data[index]),
                    "index": index,
                    "size": size,
                    "proof": proof,
                    "root": root,
                }
            )
    results = run(loaded, INCLUSION, cases=cases)
    assert results == ["ok"] * len(cases)
    assert len(cases) == sum(SIZES)


def tampered_cases() -> list[tuple[str, dict[str, Any], str]]:
    data = records(17)
    tree = MemoryTree([leaf_hash(d) for d in data])
    root = tree.root()
    proof = tree.inclusion_proof(5)
    good = {
        "data": b64(data[5]),
        "index": 5,
        "size": 17,
        "proof": [b64(h) for h in proof],
        "root": b64(root),
    }
    flipped = bytearray(proof[1])
    flipped[7] ^= 0x10
    one = {
        "data": b64(records(1)[0]),
        "index": 0,
        "size": 1,
        "proof": [],
        "root": b64(leaf_hash(records(1)[0])),
    }
    return [
        (
            "flipped bit in a proof hash",
            {**good, "proof": [good["proof"][0], b64(bytes(flipped)), *good["proof"][2:]]},
            "does not lead to the checkpoint's root",
        ),
        (
            "another record",
            {**good, "data": b64(data[6])},
            "does not lead to the checkpoint's root",
        ),
        ("another index", {**good, "index": 4}, "does not lead to the checkpoint's root"),
        ("a hash too few", {**good, "proof": good["proof"][:-1]}, "shorter than the path"),
        (
            "a hash too many",
            {**good, "proof": [*good["proof"], good["proof"][0]]},
            "longer than the path",
        ),
        ("index beyond the tree", {**good, "index": 17}, "not below the tree size"),
        ("a short proof hash", {**good, "proof": [b64(bytes(31)), *good["proof"][1:]]}, "31 bytes"),
        ("size 1 with a proof", {**one, "proof": [b64(bytes(32))]}, "longer than the path"),
        (
            "size 1, another root",
            {**one, "root": b64(bytes(32))},
            "does not lead to the checkpoint's root",
        ),
    ]


def test_every_tampered_proof_fails_naming_why(loaded: Page) -> None:
    cases = tampered_cases()
    results = run(loaded, INCLUSION, cases=[case for _name, case, _words in cases])
    for (name, _case, words), result in zip(cases, results, strict=True):
        assert words in result, f"{name}: {result}"


def signed_receipt(size: int, index: int) -> tuple[str, bytes, Ed25519Signer, bytes]:
    data = records(size)
    tree = MemoryTree([leaf_hash(d) for d in data])
    signer = Ed25519Signer.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, size, tree.root()), [signer])
    receipt = Receipt(index, tuple(tree.inclusion_proof(index)), note).encode()
    return receipt.decode(), data[index], signer, tree.root()


@pytest.mark.parametrize(("size", "index"), [(1, 0), (2, 1), (7, 3), (300, 257)])
def test_a_receipt_with_its_signed_checkpoint_verifies(loaded: Page, size: int, index: int) -> None:
    receipt, record, signer, root = signed_receipt(size, index)
    result = run(
        loaded,
        RECEIPT,
        receipt=receipt,
        record=b64(record),
        verifierKey=signer.verifier().key_string(),
        origin=ORIGIN,
    )
    assert result == ["ok", str(index), str(size), root.hex()]


def test_a_forged_receipt_fails(loaded: Page) -> None:
    receipt, record, signer, _root = signed_receipt(7, 3)
    key = signer.verifier().key_string()
    other = Ed25519Signer.generate(ORIGIN).verifier().key_string()
    # The checkpoint's signature line: change one character of its base64.
    head, signature_line = receipt.rstrip("\n").rsplit("\n", 1)
    prefix, blob = signature_line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 1
    forged = f"{head}\n{prefix} {b64(bytes(raw))}\n"
    cases = [
        (receipt, b64(record + b" "), key, ORIGIN, "does not lead to the checkpoint's root"),
        (receipt, b64(record), other, ORIGIN, "is not signed by"),
        (forged, b64(record), key, ORIGIN, "does not verify"),
        (receipt, b64(record), key, "log.test/another", "not log.test/another"),
        (receipt.replace("index 3", "index 03"), b64(record), key, ORIGIN, "no 'index <n>' line"),
        (
            "c2sp.org/tlog-proof@v0\n" + receipt.split("\n", 1)[1],
            b64(record),
            key,
            ORIGIN,
            "does not start",
        ),
    ]
    for text, data, verifier_key, origin, words in cases:
        result = run(
            loaded, RECEIPT, receipt=text, record=data, verifierKey=verifier_key, origin=origin
        )
        assert len(result) == 1 and words in result[0], (words, result)


RULE = """async ({base, key, message, signature}) => {
  const rule = await import(base + "/static/protocols/ed25519-rule.js");
  const dec = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  try {
    const bytes = new TextEncoder().encode(message);
    return String(await rule.verifyEd25519(dec(key), bytes, dec(signature)));
  } catch (error) {
    return error.message;
  }
}"""


def test_the_browser_applies_the_servers_ed25519_rule(loaded: Page) -> None:
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    key = public_key_bytes(private)
    signature = private.sign(b"pollwatch")
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + L).to_bytes(32, "little")
    identity = (1).to_bytes(32, "little")
    p = 2**255 - 19

    def check(public: bytes, sig: bytes, message: str = "pollwatch") -> str:
        return str(run(loaded, RULE, key=b64(public), message=message, signature=b64(sig)))

    assert check(key, signature) == "true"
    assert check(key, signature, "pollwatch!") == "false"
    assert check(key, malleated) == "false"  # non-canonical S
    assert check(key, signature[:63]) == "false"
    assert "small-order point" in check(identity, identity + bytes(32))  # the universal forgery
    assert "not canonically encoded" in check((p + 1).to_bytes(32, "little"), bytes(64))
    # The point of order 2 (x = 0, y = -1): refused like every small-order key.
    torsion_y = (p - 1).to_bytes(32, "little")
    assert "small-order point" in check(torsion_y, bytes(64))


CANONICAL = """async ({base, value}) => {
  const jcs = await import(base + "/static/protocols/canonical-json.js");
  return jcs.canonicalJSON(value);
}"""


def test_the_browsers_canonical_json_is_rfc_8785(loaded: Page) -> None:
    value = {
        "supersedes": None,
        "figures": {"yes": 500, "no": 0, "registered": 9007199254740991},
        "station": 'Станция №1 "\\\u0007\t',
        "photos": ["b" * 64, "a" * 64],
        "certified": True,
        "election": "test-referendum",
        "é": False,
        "\u20ac": [],
        "Z": {},
    }
    assert run(loaded, CANONICAL, value=value) == rfc8785.dumps(value).decode("utf-8")


CONSISTENCY = """async ({base, cases}) => {
  const tlog = await import(base + "/static/protocols/tlog.js");
  const dec = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  const out = [];
  for (const c of cases) {
    try {
      await tlog.verifyConsistency(BigInt(c.size1), BigInt(c.size2), c.proof.map(dec),
        dec(c.root1), dec(c.root2));
      out.push("ok");
    } catch (error) {
      out.push(error.message);
    }
  }
  return out;
}"""


def test_consistency_proofs_verify_and_tampered_ones_fail(loaded: Page) -> None:
    tree = MemoryTree([leaf_hash(d) for d in records(40)])
    cases = [
        {
            "size1": size1,
            "size2": size2,
            "proof": [b64(h) for h in tree.consistency_proof(size1, size2)],
            "root1": b64(tree.root(size1)),
            "root2": b64(tree.root(size2)),
        }
        for size2 in (1, 2, 3, 7, 8, 9, 16, 17, 40)
        for size1 in range(1, size2 + 1)
    ]
    assert run(loaded, CONSISTENCY, cases=cases) == ["ok"] * len(cases)
    good = {
        "size1": 5,
        "size2": 17,
        "proof": [b64(h) for h in tree.consistency_proof(5, 17)],
        "root1": b64(tree.root(5)),
        "root2": b64(tree.root(17)),
    }
    flipped = bytearray(base64.b64decode(good["proof"][0]))
    flipped[3] ^= 4
    bad = [
        ({**good, "proof": [b64(bytes(flipped)), *good["proof"][1:]]}, "does not lead to"),
        ({**good, "root2": b64(tree.root(16))}, "does not lead to the second root"),
        ({**good, "root1": b64(tree.root(4))}, "does not lead to the first root"),
        ({**good, "proof": good["proof"][:-1]}, "too short"),
        ({**good, "proof": [*good["proof"], good["proof"][0]]}, "too long"),
        ({**good, "size1": 18}, "larger than"),
        ({**good, "size1": 0}, "empty tree"),
        ({**good, "size1": 17, "proof": []}, "two different roots"),
    ]
    results = run(loaded, CONSISTENCY, cases=[case for case, _words in bad])
    for (_case, words), result in zip(bad, results, strict=True):
        assert words in result, (words, result)
