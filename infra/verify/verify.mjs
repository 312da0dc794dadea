#!/usr/bin/env node
// Offline verifier for aml-lineage evidence packs. Needs Node.js 20 or later and nothing else:
// no install, no network, no access to the service. It trusts only the public key you pin.
//
//   node infra/verify/verify.mjs PACK.json --key KEY        (or: npm run verify -- PACK.json --key KEY)
//
// KEY is the log's verifier key (`<name>+<key ID>+<base64>`, as GET /api/checkpoints/key serves it
// in `verifierKey`), or a file holding that string or that JSON answer.
//
// For the pack's checkpoint it checks the signature by the pinned key (C2SP signed-note, ECDSA
// P-256 with SHA-256, signature type 0x02). For each fact it checks that the body hashes to the
// cited SHA-256, and that its leaf, SHA-256(0x00 || body), is included at its index in the tree the
// checkpoint signed (RFC 9162 section 2.1.3.2). One verdict per fact; exit status 0 only if the
// checkpoint and every fact verify, 1 if anything fails, 2 if the pack or key cannot be read.
//
// Deliberately independent of the service's code (written again from the RFC and the C2SP specs):
// an auditor can read all of it here, and the tests check it against the service's output.

import { createHash, createPublicKey, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const PACK_FORMAT = 'aml-lineage-evidence-pack/1';
const SIGNATURE_TYPE_ECDSA = 0x02;

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const hashLeaf = (data) => sha256(Buffer.of(0), data);
const hashNode = (left, right) => sha256(Buffer.of(1), left, right);

function decodeHash(text) {
  if (typeof text !== 'string') return undefined;
  const raw = Buffer.from(text, 'base64');
  return raw.length === 32 && raw.toString('base64') === text ? raw : undefined;
}

/** RFC 9162 section 2.1.3.2: does `proof` lead from `leafHash` at `index` to `root` in a tree of `size`? */
export function verifyInclusion(index, size, leafHash, proof, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashNode(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = hashNode(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** `<name>+<key ID hex>+<base64(0x02 || DER SubjectPublicKeyInfo)>`. */
export function parseVerifierKey(text) {
  const [name, keyId, ...rest] = text.trim().split('+');
  const raw = Buffer.from(rest.join('+'), 'base64');
  if (!name || !/^[0-9a-f]{8}$/.test(keyId ?? '') || raw[0] !== SIGNATURE_TYPE_ECDSA) {
    throw new Error('the key is not an ECDSA verifier key of the form <name>+<key ID>+<base64>');
  }
  const spki = raw.subarray(1);
  if (sha256(spki).subarray(0, 4).toString('hex') !== keyId) throw new Error('the key ID does not match the public key');
  return { name, keyId, publicKey: createPublicKey({ key: spki, format: 'der', type: 'spki' }) };
}

/** C2SP signed-note: the text, then after the last blank line `— <name> base64(key ID || signature)` lines. */
function openNote(note, key) {
  if (typeof note !== 'string' || !note.endsWith('\n')) throw new Error('the checkpoint is not a signed note');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('the checkpoint has no signatures');
  const text = note.slice(0, split + 1);
  let verified = 0;
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!match) throw new Error('the checkpoint has a malformed signature line');
    const raw = Buffer.from(match[2], 'base64');
    // Signatures by other keys are ignored, as the signed-note spec requires.
    if (match[1] !== key.name || raw.subarray(0, 4).toString('hex') !== key.keyId) continue;
    if (!verify('sha256', Buffer.from(text, 'utf8'), { key: key.publicKey, dsaEncoding: 'der' }, raw.subarray(4))) {
      throw new Error(`the signature by ${key.name} does not verify: the checkpoint was altered or signed by another key`);
    }
    verified += 1;
  }
  if (verified === 0) throw new Error(`the checkpoint carries no signature by the pinned key ${key.name}+${key.keyId}`);
  return text;
}

/** C2SP tlog-checkpoint: origin, tree size, base64 root hash, then extension lines (`time`, `previous`). */
function parseCheckpoint(text) {
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  const root = decodeHash(rootLine);
  if (!origin || !/^(0|[1-9][0-9]*)$/.test(sizeLine ?? '') || !root)
    throw new Error('the checkpoint text is not origin, size and root hash');
  const time = extensions.find((l) => l.startsWith('time '))?.slice(5);
  return { origin, size: Number(sizeLine), root, time };
}

function checkFact(fact, checkpoint) {
  const where = `leaf ${fact?.leafIndex}`;
  if (!fact || typeof fact.hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(fact.hash)) {
    return { status: 'FAIL', message: 'no sha256:<hex> hash' };
  }
  const proof = Array.isArray(fact.inclusionProof) ? fact.inclusionProof.map(decodeHash) : [undefined];
  if (proof.some((p) => p === undefined))
    return { status: 'FAIL', message: `${where}: the inclusion proof is not a list of base64 SHA-256 hashes` };
  let leafHash;
  let status = 'OK';
  let detail;
  if (typeof fact.body === 'string') {
    const body = Buffer.from(fact.body, 'utf8');
    if (sha256(body).toString('hex') !== fact.hash.slice(7)) {
      return { status: 'FAIL', message: `${where}: the body does not hash to ${fact.hash}: it was altered` };
    }
    leafHash = hashLeaf(body);
    detail = 'the body hashes to its id';
  } else if (fact.purged && typeof fact.purged === 'object' && decodeHash(fact.leafHash)) {
    leafHash = decodeHash(fact.leafHash);
    status = 'PURGED';
    detail = `body purged on ${fact.purged.purgedAt ?? '?'} under policy ${fact.purged.policy ?? '?'}; its leaf`;
  } else {
    return { status: 'FAIL', message: `${where}: the pack carries no body for this record` };
  }
  if (!verifyInclusion(fact.leafIndex, checkpoint.size, leafHash, proof, checkpoint.root)) {
    return { status: 'FAIL', message: `${where}: not included in the signed tree of ${checkpoint.size} leaves (proof or index altered)` };
  }
  return { status, message: `${where}: ${detail}, included in the signed tree of ${checkpoint.size} leaves` };
}

/** Verifies a parsed pack against a verifier key string; never throws for bad pack content. */
export function verifyPack(pack, verifierKey) {
  const key = parseVerifierKey(verifierKey);
  const facts = Array.isArray(pack?.facts) ? pack.facts : [];
  let checkpoint;
  try {
    if (pack?.format !== PACK_FORMAT) throw new Error(`the pack format is not ${PACK_FORMAT}`);
    checkpoint = parseCheckpoint(openNote(pack.checkpoint, key));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      checkpoint: { ok: false, message },
      facts: facts.map((f) => ({ hash: f?.hash, label: f?.label, status: 'FAIL', message: 'not checked: the checkpoint does not verify' })),
    };
  }
  const results = facts.map((f) => ({ hash: f?.hash, label: f?.label, ...checkFact(f, checkpoint) }));
  return {
    ok: results.length > 0 && results.every((r) => r.status !== 'FAIL'),
    checkpoint: {
      ok: true,
      message: `${checkpoint.origin}, ${checkpoint.size} leaves, signed ${checkpoint.time ?? '(no time)'} by ${key.name}+${key.keyId}`,
      ...checkpoint,
    },
    facts: results,
  };
}

function readKey(arg) {
  const text = existsSync(arg) ? readFileSync(arg, 'utf8') : arg;
  try {
    const json = JSON.parse(text);
    if (typeof json?.verifierKey === 'string') return json.verifierKey;
  } catch {
    // not JSON: the verifier key string itself
  }
  return text.trim();
}

function main() {
  let args;
  try {
    args = parseArgs({ allowPositionals: true, options: { key: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    console.error(String(error instanceof Error ? error.message : error));
    return 2;
  }
  const [packPath] = args.positionals;
  if (args.values.help || !packPath || !args.values.key) {
    console.error('usage: node infra/verify/verify.mjs PACK.json --key <verifier key | file holding it>');
    return args.values.help ? 0 : 2;
  }
  let pack;
  let report;
  try {
    pack = JSON.parse(readFileSync(packPath, 'utf8'));
    report = verifyPack(pack, readKey(args.values.key));
  } catch (error) {
    console.error(`cannot verify: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  console.log(`checkpoint ${report.checkpoint.ok ? 'OK  ' : 'FAIL'} ${report.checkpoint.message}`);
  report.facts.forEach((f, i) => {
    console.log(
      `fact ${String(i + 1).padStart(4)} ${f.status.padEnd(6)} ${f.hash ?? '(no hash)'} ${f.message}${f.label ? ` [${f.label}]` : ''}`,
    );
  });
  const failed = report.facts.filter((f) => f.status === 'FAIL').length;
  const purged = report.facts.filter((f) => f.status === 'PURGED').length;
  const verdict = report.ok ? 'VERIFIED' : 'NOT VERIFIED';
  console.log(`${verdict}: ${report.facts.length - failed - purged} verified, ${purged} purged, ${failed} failed`);
  return report.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main();
