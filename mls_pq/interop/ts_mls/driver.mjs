#!/usr/bin/env node
// mls-pq interop driver for ts-mls (https://github.com/LukaJCB/ts-mls).
//
// Speaks a JSON-lines protocol on stdin/stdout: one request object per line, one
// response object per line, in order. Binary values are lower-case hex strings.
// A request is {"op": "<name>", "id": <any, echoed>, ...params}. A response is
// {"id": ..., ...result} on success or {"id": ..., "error": "<text>",
// "error_type": "<class name>"} on failure; a failed request never stops the driver.
//
// Every operation goes through ts-mls's public API: the "ts-mls" package entry
// point, plus "ts-mls/ratchetTree.js" for the ratchet tree codec. Group state lives
// in this process, keyed by opaque handles. Run it from a directory whose
// node_modules holds the packages pinned in package.json (mls_pq/interop/tsmls.py
// installs them with `npm ci` into a cache directory and copies this file there).
//
// ts-mls applies its own commits at creation time: createCommit() returns the new
// epoch's state, there is no separate merge step. The driver stores that state at
// once (so the committer must NOT process its own commit) unless the request says
// "pending": true, in which case the new state is kept aside until "merge_pending"
// (or dropped by "discard_pending").
//
// Operations (see mls_pq/interop/tsmls.py for the Python side):
//   hello                                   -> {ts_mls, node, protocol}
//   suites                                  -> {suites: [id], names: {id: name}, unsupported: {id: reason}}
//   key_package {suite, identity}           -> {key_package, handle}
//   create_group {suite, group_id, identity, wire_format?}   -> {handle, epoch, leaf_index}
//   add {handle, key_package | key_packages, ratchet_tree_extension?, group_info?, wire_format?, pending?}
//        -> {commit, welcome, ratchet_tree, group_info?, epoch}
//   join {key_package_handle, welcome, ratchet_tree?, wire_format?} -> {handle, epoch, leaf_index}
//   commit {handle, update_path?, ratchet_tree_extension?, wire_format?, pending?} -> {commit, welcome?, epoch}
//        (commits any received proposals; ts-mls itself decides whether an UpdatePath is sent)
//   remove {handle, leaf_index | leaf_indices, wire_format?, pending?} -> {commit, epoch}
//   propose {handle, proposal: "add"|"remove", key_package?, leaf_index?, wire_format?} -> {message}
//   process {handle, message}               -> {kind: "commit"|"application"|"proposal", data?, epoch, active}
//   protect {handle, data, authenticated_data?} -> {message}
//   export {handle, label, context, length} -> {secret}
//   epoch_authenticator {handle}            -> {value, epoch}
//   state {handle}                          -> {epoch, group_id, cipher_suite, tree_hash, ...}
//   group_info {handle}                     -> {group_info}  (with external_pub + ratchet_tree extensions)
//   ratchet_tree {handle}                   -> {ratchet_tree}
//   primitive {suite, fn: info|digest|mac|extract|expand|aead_seal|derive_key_pair|hpke_seal|sign, ...}
//        -> the suite's raw primitives (CiphersuiteImpl), for cross-checks against other libraries
//   merge_pending {handle} / discard_pending {handle} / free {handle} / shutdown
//   import_key_package {key_package, init_priv, encryption_priv, signature_priv}
//        -> {handle, suite, checks: {signature, init, encryption}}: a key_package handle (usable
//        by "join") built from another implementation's KeyPackage and raw private keys; each
//        check is true when ts-mls itself proves the private key belongs to the KeyPackage
//   passive_client {key_package, init_priv, encryption_priv, signature_priv, welcome,
//                   ratchet_tree?, external_psks?: [{psk_id, psk}], epochs: [{proposals, commit}]}
//        -> {handle?, checks, initial_epoch_authenticator?, epochs: [{epoch, epoch_authenticator}],
//            failure?: {at, error, error_type}}: replays a passive-client test vector
//        (mlswg test-vectors.md "Passive Client Scenarios") through ts-mls's public API and
//        reports what ts-mls computes; stops at the first step ts-mls refuses
//
//   external_psk {handle, psk_id, psk}      -> {count}: store an external PSK (RFC 9420 §8.4) with the
//        group; "commit", "commit_psk", "add", "remove" and "process" of that group then find it
//        (a group without stored PSKs behaves exactly as before: an empty external PSK map)
//   commit_psk {handle, psk_id | psk_ids, psk_nonce?, wire_format?, pending?}
//        -> {commit, epoch, psk_nonces}: commit PreSharedKey proposals (external PSKs) by value,
//        plus any received proposals by reference; nonces are random KDF.Nh octets unless given
//   join_external {suite, identity, group_info, ratchet_tree?, resync?, wire_format?}
//        -> {handle, commit, epoch, leaf_index}: join by an external commit (RFC 9420 §12.4.3.2)
//        from a GroupInfo (MLSMessage) with ts-mls's joinGroupExternal and a fresh KeyPackage;
//        "commit" is the PublicMessage to send to the group
//
//   bench {suite, n, identities, new_identity, external_identity, group_id, payload?, capabilities?,
//          padding?, time_ops?, reps?, warmup?, warmup_time?, min_total?, max_factor?, artefacts?}
//        -> {sizes: {metric: octets}, times: {op: [seconds]}, build_s, checks, artefacts?}: runs the
//        mls-pq benchmark scenario (mls_pq/bench/scenarios.py, sparse tree) inside Node: a group of n
//        built by one bulk add (no UpdatePath), then every operation from fixed states, timed with
//        performance.now() (no IPC in the samples); see "benchmark" below
//
// wire_format ("private" default, or "public") selects PublicMessage vs PrivateMessage
// framing for handshake messages (commits and proposals) of a group; application
// messages are always PrivateMessage (RFC 9420 §6).

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as mls from "ts-mls";
// Not re-exported by the index, but a public entry point through the package's
// "exports" map ("./*.js"): the ratchet_tree extension codec (RFC 9420 §12.4.3.3).
import { decodeRatchetTree, encodeRatchetTree } from "ts-mls/ratchetTree.js";

const PROTOCOL = 1;
const here = dirname(fileURLToPath(import.meta.url));

function tsMlsVersion() {
  try {
    return JSON.parse(readFileSync(join(here, "node_modules", "ts-mls", "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}

class DriverError extends Error {
  constructor(message) {
    super(message);
    this.name = "DriverError";
  }
}

// ---------------------------------------------------------------- values

function fromHex(value, field) {
  if (typeof value !== "string" || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) {
    throw new DriverError(`${field}: expected an even-length hex string`);
  }
  return new Uint8Array(Buffer.from(value, "hex"));
}

function toHex(bytes) {
  return Buffer.from(bytes).toString("hex");
}

function req(params, field) {
  if (params[field] === undefined || params[field] === null) throw new DriverError(`missing parameter: ${field}`);
  return params[field];
}

function uint(value, field) {
  if (!Number.isSafeInteger(value) || value < 0) throw new DriverError(`${field}: expected a non-negative integer`);
  return value;
}

function epochOf(state) {
  return Number(state.groupContext.epoch);
}

const suiteNames = Object.fromEntries(Object.entries(mls.ciphersuites).map(([name, id]) => [id, name]));
const implCache = new Map();

function suiteName(suite) {
  if (typeof suite === "string" && suite in mls.ciphersuites) return suite;
  if (Number.isInteger(suite) && suiteNames[suite] !== undefined) return suiteNames[suite];
  throw new DriverError(`unknown cipher suite: ${JSON.stringify(suite)}`);
}

async function impl(suite) {
  const name = suiteName(suite);
  if (!implCache.has(name)) {
    const p = mls.getCiphersuiteImpl(mls.getCiphersuiteFromName(name), mls.defaultCryptoProvider);
    implCache.set(name, p);
    p.catch(() => implCache.delete(name));
  }
  return implCache.get(name);
}

function decodeMessage(hex, field, wireformats) {
  const bytes = fromHex(hex, field);
  let decoded;
  try {
    decoded = mls.decodeMlsMessage(bytes, 0);
  } catch (e) {
    throw new DriverError(`${field}: not a decodable MLSMessage (${e})`);
  }
  if (decoded === undefined) throw new DriverError(`${field}: not a decodable MLSMessage`);
  const [msg, end] = decoded;
  if (end !== bytes.length) throw new DriverError(`${field}: ${bytes.length - end} trailing bytes after the MLSMessage`);
  if (wireformats && !wireformats.includes(msg.wireformat)) {
    throw new DriverError(`${field}: expected ${wireformats.join(" or ")}, got ${msg.wireformat}`);
  }
  return msg;
}

function encodeMessage(content) {
  return toHex(mls.encodeMlsMessage({ version: "mls10", ...content }));
}

function wireFormat(value, fallback) {
  const wf = value ?? fallback ?? "private";
  if (wf !== "private" && wf !== "public") throw new DriverError(`wire_format: expected "private" or "public"`);
  return wf;
}

// ---------------------------------------------------------------- handles

const handles = new Map();
let nextHandle = 1;

function newHandle(prefix, obj) {
  const h = `${prefix}${nextHandle++}`;
  handles.set(h, obj);
  return h;
}

function getHandle(params, kind, field = "handle") {
  const h = req(params, field);
  const obj = handles.get(h);
  if (obj === undefined) throw new DriverError(`${field}: unknown handle ${JSON.stringify(h)}`);
  if (obj.kind !== kind) throw new DriverError(`${field}: handle ${h} is a ${obj.kind}, not a ${kind}`);
  return obj;
}

function getGroup(params) {
  const g = getHandle(params, "group");
  if (g.pending !== null && g.pending !== undefined && !params._allowPending) {
    throw new DriverError("group has a pending commit: merge_pending or discard_pending first");
  }
  return g;
}

function forget(consumed) {
  // ts-mls hands back the secrets a state transition used up; the caller is expected
  // to erase them once the new state is kept (see the ts-mls README "Basic Usage").
  for (const secret of consumed ?? []) mls.zeroOutUint8Array(secret);
}

function install(group, result, pending) {
  if (pending) {
    group.pending = result;
  } else {
    group.state = result.newState;
    forget(result.consumed);
  }
}

function members(state) {
  const out = [];
  state.ratchetTree.forEach((node, nodeIndex) => {
    if (nodeIndex % 2 === 0 && node !== undefined && node.nodeType === "leaf") {
      const cred = node.leaf.credential;
      out.push({
        leaf_index: nodeIndex / 2,
        credential_type: cred.credentialType,
        identity: cred.credentialType === "basic" ? toHex(cred.identity) : null,
        signature_key: toHex(node.leaf.signaturePublicKey),
        encryption_key: toHex(node.leaf.hpkePublicKey),
      });
    }
  });
  return out;
}

async function makeKeyPackage(suite, identityHex) {
  const cs = await impl(suite);
  const credential = { credentialType: "basic", identity: fromHex(identityHex, "identity") };
  const kp = await mls.generateKeyPackage(credential, mls.defaultCapabilities(), mls.defaultLifetime, [], cs);
  return { cs, kp };
}

// The group's external PSKs ("external_psk" op) keyed as makePskIndex looks them up; none
// stored: the empty map every op used before "external_psk" existed.
function groupPskIndex(group) {
  return mls.makePskIndex(group.state, group.externalPsks ?? {});
}

async function commitWith(group, params, extraProposals) {
  const wf = wireFormat(params.wire_format, group.wireFormat);
  const result = await mls.createCommit(
    { state: group.state, cipherSuite: group.cs, pskIndex: groupPskIndex(group) },
    {
      wireAsPublicMessage: wf === "public",
      extraProposals,
      ratchetTreeExtension: Boolean(params.ratchet_tree_extension),
    },
  );
  install(group, result, Boolean(params.pending));
  return result;
}

// ---------------------------------------------------------------- imported key packages

// A raw signature private key as ts-mls's signer takes it. RFC 9420 leaves the private key
// format to the implementation; mls-pq (and FIPS 204 KeyGen) use the 32-byte ML-DSA seed,
// ts-mls (@noble/post-quantum) signs with the expanded secret key, so a seed is expanded
// with FIPS 204 ML-DSA.KeyGen_internal (noble's keygen(seed)). Every other scheme's raw
// private key is the same octet string in both (Ed25519/Ed448 seeds, ECDSA scalars).
async function tsSignatureKey(cs, raw) {
  const alg = mls.getCiphersuiteFromName(cs.name).signature;
  if (alg.startsWith("ML-DSA") && raw.length === 32) {
    const mod = await import("@noble/post-quantum/ml-dsa.js");
    const scheme = { "ML-DSA-44": mod.ml_dsa44, "ML-DSA-65": mod.ml_dsa65, "ML-DSA-87": mod.ml_dsa87 }[alg];
    if (scheme === undefined) throw new DriverError(`no ML-DSA parameter set for ${alg}`);
    return scheme.keygen(raw).secretKey;
  }
  return raw;
}

// ts-mls's own proof that a private key belongs to a public key: sign/verify for the
// signature key, HPKE seal to the public key and open with the private key for KEM keys.
async function signatureKeyMatches(cs, signKey, publicKey) {
  try {
    const msg = new TextEncoder().encode("mls-pq key import check");
    return await cs.signature.verify(publicKey, msg, await cs.signature.sign(signKey, msg));
  } catch {
    return false;
  }
}

async function hpkeKeyMatches(cs, privateKey, publicKey) {
  try {
    const pt = new TextEncoder().encode("mls-pq key import check");
    const info = new Uint8Array(0);
    const { ct, enc } = await cs.hpke.seal(await cs.hpke.importPublicKey(publicKey), pt, info);
    const opened = await cs.hpke.open(await cs.hpke.importPrivateKey(privateKey), enc, ct, info);
    return Buffer.from(opened).equals(Buffer.from(pt));
  } catch {
    return false;
  }
}

async function importKeyPackage(p) {
  const kp = decodeMessage(req(p, "key_package"), "key_package", ["mls_key_package"]).keyPackage;
  const cs = await impl(kp.cipherSuite);
  const privatePackage = {
    initPrivateKey: fromHex(req(p, "init_priv"), "init_priv"),
    hpkePrivateKey: fromHex(req(p, "encryption_priv"), "encryption_priv"),
    signaturePrivateKey: await tsSignatureKey(cs, fromHex(req(p, "signature_priv"), "signature_priv")),
  };
  const checks = {
    signature: await signatureKeyMatches(cs, privatePackage.signaturePrivateKey, kp.leafNode.signaturePublicKey),
    init: await hpkeKeyMatches(cs, privatePackage.initPrivateKey, kp.initKey),
    encryption: await hpkeKeyMatches(cs, privatePackage.hpkePrivateKey, kp.leafNode.hpkePublicKey),
  };
  return { cs, kp, privatePackage, checks };
}

// The optional out-of-band ratchet tree of a join request (hex), decoded and checked.
function optionalRatchetTree(p) {
  if (p.ratchet_tree === undefined || p.ratchet_tree === null) return undefined;
  const bytes = fromHex(p.ratchet_tree, "ratchet_tree");
  const decoded = decodeRatchetTree(bytes, 0);
  if (decoded === undefined || decoded[1] !== bytes.length) throw new DriverError("ratchet_tree: not a decodable ratchet tree");
  return decoded[0];
}

function externalPskMap(list) {
  // makePskIndex looks external PSKs up by the base64 of their psk_id
  const out = {};
  for (const [i, e] of (list ?? []).entries()) {
    out[Buffer.from(fromHex(req(e, "psk_id"), `external_psks[${i}].psk_id`)).toString("base64")] = fromHex(
      req(e, "psk"),
      `external_psks[${i}].psk`,
    );
  }
  return out;
}

async function processAny(state, msg, psks, cs) {
  const pskIndex = mls.makePskIndex(state, psks);
  if (msg.wireformat === "mls_public_message") {
    return [msg.publicMessage.content.contentType, await mls.processPublicMessage(state, msg.publicMessage, pskIndex, cs, mls.acceptAll)];
  }
  return [msg.privateMessage.contentType, await mls.processPrivateMessage(state, msg.privateMessage, pskIndex, cs, mls.acceptAll)];
}

// ---------------------------------------------------------------- benchmark ("bench" op)
//
// The scenario of mls_pq/bench/scenarios.py (shape "sparse"), as ts-mls's public API does it:
// member 0 creates the group and bulk-adds members 1..n-1 in one commit (adds only: no
// UpdatePath); members 1 ("near") and n-1 ("far") join from that Welcome. Every measured
// operation then starts from these fixed states. ts-mls states are immutable values
// (every transition returns a new state and leaves the old one usable), so one state
// serves every repetition; the secrets a transition "consumed" are deliberately NOT
// zeroed here (that would break the next repetition from the same state).
//
// Content policy: "capabilities" (the KeyPackage leaf's Capabilities as numeric code
// points) replaces mls.defaultCapabilities(), which lists every ts-mls suite and adds
// random GREASE values (probability 0.1 each); with it, the content of a ts-mls
// KeyPackage matches mls-pq's and is deterministic in size. "padding" is ts-mls's
// PaddingConfig ({kind: "alwaysPad", paddingLength: 0} = none, as mls-pq's default
// padding_block 0; ts-mls's own default pads PrivateMessage content to 256 octets).
// Handshake messages of the timed operations are PublicMessages (mls-pq's default).
// Node has no switch for its garbage collector: collections may land in a sample.

const BENCH_TIME_OPS = [
  "kp_gen", "add_commit", "update_commit", "process_near", "process_far", "join", "external_join",
  "app_encrypt", "app_decrypt",
];
const CREDENTIAL_NAMES = { 1: "basic", 2: "x509" };

function benchCapabilities(spec) {
  if (spec === undefined || spec === null) return () => mls.defaultCapabilities();
  const ints = (field) => {
    const v = spec[field] ?? [];
    if (!Array.isArray(v)) throw new DriverError(`capabilities.${field}: expected a list`);
    return v.map((x, i) => uint(x, `capabilities.${field}[${i}]`));
  };
  const versions = ints("versions").map((v) => {
    if (v !== 1) throw new DriverError(`capabilities.versions: ts-mls knows only mls10 (1), got ${v}`);
    return "mls10";
  });
  const caps = {
    versions,
    ciphersuites: ints("cipher_suites").map((id) => suiteNames[id] ?? String(id)),
    extensions: ints("extensions"),
    proposals: ints("proposals"),
    credentials: ints("credentials").map((c) => CREDENTIAL_NAMES[c] ?? String(c)),
  };
  return () => caps;
}

function benchPadding(spec) {
  if (spec === undefined || spec === null) return { kind: "alwaysPad", paddingLength: 0 };
  if (spec === "default") return mls.defaultPaddingConfig;
  if (spec.kind === "alwaysPad") return { kind: "alwaysPad", paddingLength: uint(spec.paddingLength, "padding.paddingLength") };
  if (spec.kind === "padUntilLength") return { kind: "padUntilLength", padUntilLength: uint(spec.padUntilLength, "padding.padUntilLength") };
  throw new DriverError('padding: expected null, "default" or a ts-mls PaddingConfig');
}

// mirrors mls_pq.bench.measure.time_op: at least `warmup` untimed runs (continued up to 20
// runs while less than warmupTime has passed), then at least `reps` timed runs, continued
// up to maxFactor * reps while the samples add up to less than minTotal seconds
async function benchTime(fn, { reps, warmup, warmupTime, minTotal, maxFactor }) {
  const tEnd = performance.now() + warmupTime * 1000;
  let done = 0;
  while (done < warmup || (performance.now() < tEnd && done < 20)) {
    await fn();
    done += 1;
  }
  const samples = [];
  const limit = Math.max(reps, 1) * maxFactor;
  let total = 0;
  while (samples.length < reps || (total < minTotal && samples.length < limit)) {
    const t0 = performance.now();
    await fn();
    const dt = (performance.now() - t0) / 1000;
    samples.push(dt);
    total += dt;
  }
  return samples;
}

function benchCheck(cond, what) {
  if (!cond) throw new DriverError(`bench: ${what}`);
}

async function runBench(p) {
  const cs = await impl(req(p, "suite"));
  const n = uint(req(p, "n"), "n");
  if (n < 2) throw new DriverError("n: a benchmark group needs at least 2 members");
  const identities = req(p, "identities");
  if (!Array.isArray(identities) || identities.length !== n) throw new DriverError(`identities: expected ${n} hex strings`);
  const ids = identities.map((h, i) => fromHex(h, `identities[${i}]`));
  const newId = fromHex(req(p, "new_identity"), "new_identity");
  const extId = fromHex(req(p, "external_identity"), "external_identity");
  const groupId = fromHex(req(p, "group_id"), "group_id");
  const payload = new Uint8Array(uint(p.payload ?? 100, "payload"));
  const caps = benchCapabilities(p.capabilities);
  const clientConfig = {
    keyRetentionConfig: mls.defaultKeyRetentionConfig,
    lifetimeConfig: mls.defaultLifetimeConfig,
    keyPackageEqualityConfig: mls.defaultKeyPackageEqualityConfig,
    paddingConfig: benchPadding(p.padding),
    authService: mls.defaultAuthenticationService,
  };
  const timing = {
    reps: uint(p.reps ?? 3, "reps"),
    warmup: uint(p.warmup ?? 1, "warmup"),
    warmupTime: Number(p.warmup_time ?? 0.005),
    minTotal: Number(p.min_total ?? 0.01),
    maxFactor: uint(p.max_factor ?? 20, "max_factor"),
  };
  const timeOps = p.time_ops ?? BENCH_TIME_OPS;
  for (const op of timeOps) if (!BENCH_TIME_OPS.includes(op)) throw new DriverError(`time_ops: unknown op ${JSON.stringify(op)}`);

  const credential = (id) => ({ credentialType: "basic", identity: id });
  const keyPackage = async (id, sigKeys) =>
    mls.generateKeyPackageWithKey(credential(id), caps(), mls.defaultLifetime, [], sigKeys ?? (await cs.signature.keygen()), cs);
  const addOf = (kp) => ({ proposalType: "add", add: { keyPackage: kp.publicPackage } });
  const commit = (state, opts) => mls.createCommit({ state, cipherSuite: cs, pskIndex: mls.makePskIndex(state, {}) }, opts);
  const msg = (content) => mls.encodeMlsMessage({ version: "mls10", ...content });

  // ---- build: one bulk add, near and far join
  const t0 = performance.now();
  const sig0 = await cs.signature.keygen();
  const kps = [await keyPackage(ids[0], sig0)];
  for (let i = 1; i < n; i++) kps.push(await keyPackage(ids[i]));
  const created = await mls.createGroup(groupId, kps[0].publicPackage, kps[0].privatePackage, [], cs, clientConfig);
  // the bulk Welcome leaves the tree out (as mls-pq's scenario does): with the extension
  // every one of its n-1 HPKE encryptions would hash the whole tree (EncryptWithLabel info)
  const bulk = await commit(created, { wireAsPublicMessage: true, extraProposals: kps.slice(1).map(addOf), ratchetTreeExtension: false });
  const st0 = bulk.newState;
  const join = (welcome, kp, tree) =>
    mls.joinGroup(welcome, kp.publicPackage, kp.privatePackage, mls.emptyPskIndex, cs, tree, undefined, clientConfig);
  const stNear = await join(bulk.welcome, kps[1], st0.ratchetTree);
  const stFar = n - 1 === 1 ? stNear : await join(bulk.welcome, kps[n - 1], st0.ratchetTree);
  const buildSeconds = (performance.now() - t0) / 1000;
  benchCheck(stNear.privatePath.leafIndex === 1 && stFar.privatePath.leafIndex === n - 1, "unexpected leaf indices after the bulk add");

  // ---- fixed inputs of the measured operations
  const kpNew = await keyPackage(newId);
  const kpExt = await keyPackage(extId);
  const addOut = await commit(st0, { wireAsPublicMessage: true, extraProposals: [addOf(kpNew)], ratchetTreeExtension: true });
  const upd = await commit(st0, { wireAsPublicMessage: true });
  benchCheck(upd.commit.wireformat === "mls_public_message", "update commit is not a PublicMessage");
  const groupInfo = await mls.createGroupInfoWithExternalPubAndRatchetTree(st0, [], cs);
  // application messages: one first, so both secret-tree ratchets are initialised
  const first = await mls.createApplicationMessage(st0, payload, cs);
  const recv0 = await mls.processPrivateMessage(stFar, first.privateMessage, mls.makePskIndex(stFar, {}), cs, mls.acceptAll);
  const stSend = first.newState;
  const stRecv = recv0.newState;
  const appMsg = (await mls.createApplicationMessage(stSend, payload, cs)).privateMessage;
  const pskNear = mls.makePskIndex(stNear, {});
  const pskFar = mls.makePskIndex(stFar, {});
  const pskRecv = mls.makePskIndex(stRecv, {});
  const epoch0 = st0.groupContext.epoch;

  const isCommitResult = (r) => r.actionTaken === "accept" && r.newState.groupContext.epoch === epoch0 + 1n;
  const operations = {
    kp_gen: [() => keyPackage(ids[0], sig0), (r) => r.publicPackage !== undefined],
    add_commit: [
      () => commit(st0, { wireAsPublicMessage: true, extraProposals: [addOf(kpNew)], ratchetTreeExtension: true }),
      (r) => r.welcome !== undefined,
    ],
    update_commit: [() => commit(st0, { wireAsPublicMessage: true }), (r) => r.commit.publicMessage !== undefined],
    process_near: [() => mls.processPublicMessage(stNear, upd.commit.publicMessage, pskNear, cs, mls.acceptAll), isCommitResult],
    process_far: [() => mls.processPublicMessage(stFar, upd.commit.publicMessage, pskFar, cs, mls.acceptAll), isCommitResult],
    join: [() => join(addOut.welcome, kpNew), (s) => s.groupContext.epoch === epoch0 + 1n],
    external_join: [
      () => mls.joinGroupExternal(groupInfo, kpExt.publicPackage, kpExt.privatePackage, false, cs, undefined, clientConfig),
      (r) => r.newState.groupContext.epoch === epoch0 + 1n,
    ],
    app_encrypt: [() => mls.createApplicationMessage(stSend, payload, cs), (r) => r.privateMessage !== undefined],
    app_decrypt: [
      () => mls.processPrivateMessage(stRecv, appMsg, pskRecv, cs, mls.acceptAll),
      (r) => r.kind === "applicationMessage" && Buffer.from(r.message).equals(Buffer.from(payload)),
    ],
  };

  // ---- sizes (MLSMessage octets, as mls_pq.bench.scenarios.GroupScenario.sizes)
  const kpSized = await keyPackage(newId);
  const addPub = await commit(st0, { wireAsPublicMessage: true, extraProposals: [addOf(kpSized)], ratchetTreeExtension: true });
  const addPriv = await commit(st0, { wireAsPublicMessage: false, extraProposals: [addOf(kpSized)], ratchetTreeExtension: true });
  const addNoTree = await commit(st0, { wireAsPublicMessage: true, extraProposals: [addOf(kpSized)], ratchetTreeExtension: false });
  const updPub = await commit(st0, { wireAsPublicMessage: true });
  const updPriv = await commit(st0, { wireAsPublicMessage: false });
  const ext = await mls.joinGroupExternal(groupInfo, kpExt.publicPackage, kpExt.privatePackage, false, cs, undefined, clientConfig);
  const art = {
    key_package: msg({ wireformat: "mls_key_package", keyPackage: kpSized.publicPackage }),
    add_commit_public: mls.encodeMlsMessage(addPub.commit),
    add_commit_private: mls.encodeMlsMessage(addPriv.commit),
    welcome_tree: msg({ wireformat: "mls_welcome", welcome: addPub.welcome }),
    welcome_notree: msg({ wireformat: "mls_welcome", welcome: addNoTree.welcome }),
    update_commit_public: mls.encodeMlsMessage(updPub.commit),
    update_commit_private: mls.encodeMlsMessage(updPriv.commit),
    group_info: msg({ wireformat: "mls_group_info", groupInfo }),
    ratchet_tree: encodeRatchetTree(st0.ratchetTree),
    app_message: msg({ wireformat: "mls_private_message", privateMessage: (await mls.createApplicationMessage(st0, payload, cs)).privateMessage }),
    external_commit: msg({ wireformat: "mls_public_message", publicMessage: ext.publicMessage }),
  };
  benchCheck(addPriv.commit.wireformat === "mls_private_message" && updPriv.commit.wireformat === "mls_private_message", "private commits");

  // ---- times
  const times = {};
  const checks = {};
  for (const name of timeOps) {
    const [fn, check] = operations[name];
    checks[name] = Boolean(check(await fn()));
    benchCheck(checks[name], `${name} gave an unexpected result`);
    times[name] = await benchTime(fn, timing);
  }
  const out = {
    ts_mls: tsMlsVersion(),
    node: process.version,
    suite: mls.ciphersuites[cs.name],
    suite_name: cs.name,
    n,
    shape: "sparse",
    build_s: buildSeconds,
    sizes: Object.fromEntries(Object.entries(art).map(([k, v]) => [k, v.length])),
    times,
    checks,
  };
  if (p.artefacts) out.artefacts = Object.fromEntries(Object.entries(art).map(([k, v]) => [k, toHex(v)]));
  return out;
}

// ---------------------------------------------------------------- operations

const ops = {
  async hello() {
    return { ts_mls: tsMlsVersion(), node: process.version, protocol: PROTOCOL };
  },

  async suites() {
    const suites = [];
    const names = {};
    const unsupported = {};
    for (const [id, name] of Object.entries(suiteNames)) {
      try {
        await impl(Number(id));
        suites.push(Number(id));
        names[id] = name;
      } catch (e) {
        unsupported[id] = `${e.message ?? e}`;
      }
    }
    return { suites, names, unsupported };
  },

  async key_package(p) {
    const { cs, kp } = await makeKeyPackage(req(p, "suite"), req(p, "identity"));
    const handle = newHandle("kp", {
      kind: "key_package",
      cs,
      publicPackage: kp.publicPackage,
      privatePackage: kp.privatePackage,
    });
    return { handle, key_package: encodeMessage({ wireformat: "mls_key_package", keyPackage: kp.publicPackage }) };
  },

  async create_group(p) {
    const wf = wireFormat(p.wire_format);
    const { cs, kp } = await makeKeyPackage(req(p, "suite"), req(p, "identity"));
    const state = await mls.createGroup(fromHex(req(p, "group_id"), "group_id"), kp.publicPackage, kp.privatePackage, [], cs);
    const handle = newHandle("g", { kind: "group", cs, state, wireFormat: wf, pending: null });
    return { handle, epoch: epochOf(state), leaf_index: state.privatePath.leafIndex };
  },

  async add(p) {
    const group = getGroup(p);
    const hexes = p.key_packages ?? [req(p, "key_package")];
    if (!Array.isArray(hexes) || hexes.length === 0) throw new DriverError("key_packages: expected a non-empty list");
    const proposals = hexes.map((h, i) => ({
      proposalType: "add",
      add: { keyPackage: decodeMessage(h, `key_packages[${i}]`, ["mls_key_package"]).keyPackage },
    }));
    const result = await commitWith(group, p, proposals);
    const out = {
      commit: encodeMessage(result.commit),
      welcome: result.welcome ? encodeMessage({ wireformat: "mls_welcome", welcome: result.welcome }) : null,
      ratchet_tree: toHex(encodeRatchetTree(result.newState.ratchetTree)),
      epoch: epochOf(result.newState),
    };
    if (p.group_info) {
      const gi = await mls.createGroupInfoWithExternalPubAndRatchetTree(result.newState, [], group.cs);
      out.group_info = encodeMessage({ wireformat: "mls_group_info", groupInfo: gi });
    }
    return out;
  },

  async join(p) {
    const field = p.key_package_handle !== undefined ? "key_package_handle" : "handle_of_key_package";
    const kp = getHandle(p, "key_package", field);
    const welcome = decodeMessage(req(p, "welcome"), "welcome", ["mls_welcome"]).welcome;
    const tree = optionalRatchetTree(p);
    const state = await mls.joinGroup(welcome, kp.publicPackage, kp.privatePackage, mls.emptyPskIndex, kp.cs, tree);
    const handle = newHandle("g", { kind: "group", cs: kp.cs, state, wireFormat: wireFormat(p.wire_format), pending: null });
    return { handle, epoch: epochOf(state), leaf_index: state.privatePath.leafIndex };
  },

  async commit(p) {
    // ts-mls decides about the UpdatePath itself: it includes one whenever the commit
    // covers no proposal, an Update or a Remove (so always for an empty commit) and has
    // no option to force or suppress it. "update_path" is accepted for the protocol's
    // sake; asking for update_path=false on an empty commit is refused.
    const group = getGroup(p);
    const hasPending = Object.keys(group.state.unappliedProposals).length > 0;
    if (p.update_path === false && !hasPending) {
      throw new DriverError("ts-mls always sends an UpdatePath in an empty commit (RFC 9420 §12.4)");
    }
    const result = await commitWith(group, p, []);
    return {
      commit: encodeMessage(result.commit),
      welcome: result.welcome ? encodeMessage({ wireformat: "mls_welcome", welcome: result.welcome }) : null,
      epoch: epochOf(result.newState),
    };
  },

  async remove(p) {
    const group = getGroup(p);
    const leaves = p.leaf_indices ?? [req(p, "leaf_index")];
    if (!Array.isArray(leaves) || leaves.length === 0) throw new DriverError("leaf_indices: expected a non-empty list");
    const proposals = leaves.map((l, i) => ({ proposalType: "remove", remove: { removed: uint(l, `leaf_indices[${i}]`) } }));
    const result = await commitWith(group, p, proposals);
    return { commit: encodeMessage(result.commit), epoch: epochOf(result.newState) };
  },

  async propose(p) {
    const group = getGroup(p);
    let proposal;
    switch (req(p, "proposal")) {
      case "add":
        proposal = {
          proposalType: "add",
          add: { keyPackage: decodeMessage(req(p, "key_package"), "key_package", ["mls_key_package"]).keyPackage },
        };
        break;
      case "remove":
        proposal = { proposalType: "remove", remove: { removed: uint(req(p, "leaf_index"), "leaf_index") } };
        break;
      default:
        throw new DriverError(`proposal: unsupported proposal type ${JSON.stringify(p.proposal)}`);
    }
    const wf = wireFormat(p.wire_format, group.wireFormat);
    const result = await mls.createProposal(group.state, wf === "public", proposal, group.cs);
    group.state = result.newState;
    forget(result.consumed);
    return { message: encodeMessage(result.message) };
  },

  async process(p) {
    const group = getGroup(p);
    const msg = decodeMessage(req(p, "message"), "message", ["mls_public_message", "mls_private_message"]);
    const psk = groupPskIndex(group);
    // processMessage() would ignore the PSK index for PrivateMessage; call the two
    // wire-format-specific entry points directly instead.
    let result;
    let contentType;
    if (msg.wireformat === "mls_public_message") {
      contentType = msg.publicMessage.content.contentType;
      result = await mls.processPublicMessage(group.state, msg.publicMessage, psk, group.cs, mls.acceptAll);
    } else {
      contentType = msg.privateMessage.contentType;
      result = await mls.processPrivateMessage(group.state, msg.privateMessage, psk, group.cs, mls.acceptAll);
    }
    group.state = result.newState;
    forget(result.consumed);
    const out = {
      kind: contentType === "application" ? "application" : contentType,
      epoch: epochOf(group.state),
      active: group.state.groupActiveState.kind === "active",
    };
    if (result.kind === "applicationMessage") out.data = toHex(result.message);
    return out;
  },

  async protect(p) {
    const group = getGroup(p);
    const aad = p.authenticated_data !== undefined ? fromHex(p.authenticated_data, "authenticated_data") : undefined;
    const result = await mls.createApplicationMessage(group.state, fromHex(req(p, "data"), "data"), group.cs, aad);
    group.state = result.newState;
    forget(result.consumed);
    return { message: encodeMessage({ wireformat: "mls_private_message", privateMessage: result.privateMessage }) };
  },

  async export(p) {
    const group = getGroup(p);
    const label = req(p, "label");
    if (typeof label !== "string") throw new DriverError("label: expected a string");
    const context = fromHex(p.context ?? "", "context");
    const length = uint(req(p, "length"), "length");
    const secret = await mls.mlsExporter(group.state.keySchedule.exporterSecret, label, context, length, group.cs);
    return { secret: toHex(secret) };
  },

  async epoch_authenticator(p) {
    const group = getGroup(p);
    return { value: toHex(group.state.keySchedule.epochAuthenticator), epoch: epochOf(group.state) };
  },

  async state(p) {
    const group = getGroup({ ...p, _allowPending: true });
    const s = group.state;
    const gc = s.groupContext;
    return {
      epoch: epochOf(s),
      group_id: toHex(gc.groupId),
      cipher_suite: mls.ciphersuites[gc.cipherSuite],
      tree_hash: toHex(gc.treeHash),
      confirmed_transcript_hash: toHex(gc.confirmedTranscriptHash),
      leaf_index: s.privatePath.leafIndex,
      active: s.groupActiveState.kind === "active",
      wire_format: group.wireFormat,
      pending_commit: group.pending !== null,
      members: members(s),
    };
  },

  async group_info(p) {
    const group = getGroup(p);
    const gi = await mls.createGroupInfoWithExternalPubAndRatchetTree(group.state, [], group.cs);
    return { group_info: encodeMessage({ wireformat: "mls_group_info", groupInfo: gi }) };
  },

  async ratchet_tree(p) {
    const group = getGroup(p);
    return { ratchet_tree: toHex(encodeRatchetTree(group.state.ratchetTree)) };
  },

  async merge_pending(p) {
    const group = getHandle(p, "group");
    if (!group.pending) throw new DriverError("no pending commit");
    group.state = group.pending.newState;
    forget(group.pending.consumed);
    group.pending = null;
    return { epoch: epochOf(group.state) };
  },

  async discard_pending(p) {
    const group = getHandle(p, "group");
    if (!group.pending) throw new DriverError("no pending commit");
    group.pending = null;
    return { epoch: epochOf(group.state) };
  },

  async primitive(p) {
    // Direct access to one suite's CiphersuiteImpl (the public type getCiphersuiteImpl
    // returns), so tests can pin down which primitive ts-mls actually uses.
    const name = suiteName(req(p, "suite"));
    const cs = await impl(name);
    const b = (f) => fromHex(req(p, f), f);
    switch (req(p, "fn")) {
      case "info": {
        const suite = mls.getCiphersuiteFromName(name);
        return {
          name,
          kem: suite.hpke.kem,
          kdf: suite.hpke.kdf,
          aead: suite.hpke.aead,
          hash: suite.hash,
          signature: suite.signature,
          kdf_size: cs.kdf.size,
          aead_key_length: cs.hpke.keyLength,
          aead_nonce_length: cs.hpke.nonceLength,
        };
      }
      case "digest":
        return { output: toHex(await cs.hash.digest(b("data"))) };
      case "mac":
        return { output: toHex(await cs.hash.mac(b("key"), b("data"))) };
      case "extract":
        return { output: toHex(await cs.kdf.extract(b("salt"), b("ikm"))) };
      case "expand":
        return { output: toHex(await cs.kdf.expand(b("prk"), b("info"), uint(req(p, "length"), "length"))) };
      case "aead_seal":
        return { output: toHex(await cs.hpke.encryptAead(b("key"), b("nonce"), b("aad"), b("plaintext"))) };
      case "derive_key_pair": {
        const kp = await cs.hpke.deriveKeyPair(b("ikm"));
        return {
          private_key: toHex(await cs.hpke.exportPrivateKey(kp.privateKey)),
          public_key: toHex(await cs.hpke.exportPublicKey(kp.publicKey)),
        };
      }
      case "hpke_seal": {
        const pk = await cs.hpke.importPublicKey(b("public_key"));
        const r = await cs.hpke.seal(pk, b("plaintext"), b("info"), b("aad"));
        return { enc: toHex(r.enc), ciphertext: toHex(r.ct) };
      }
      case "sign": {
        const kp = await cs.signature.keygen();
        const sig = await cs.signature.sign(kp.signKey, b("message"));
        return { public_key: toHex(kp.publicKey), signature: toHex(sig) };
      }
      default:
        throw new DriverError(`fn: unknown primitive ${JSON.stringify(p.fn)}`);
    }
  },

  async import_key_package(p) {
    const { cs, kp, privatePackage, checks } = await importKeyPackage(p);
    const handle = newHandle("kp", { kind: "key_package", cs, publicPackage: kp, privatePackage });
    return { handle, suite: mls.ciphersuites[kp.cipherSuite], checks };
  },

  async passive_client(p) {
    const { cs, kp, privatePackage, checks } = await importKeyPackage(p);
    const psks = externalPskMap(p.external_psks);
    const epochs = req(p, "epochs");
    if (!Array.isArray(epochs)) throw new DriverError("epochs: expected a list");
    const out = { checks, epochs: [] };
    const fail = (at, e) => {
      const type = e?.constructor?.name && e.constructor.name !== "Object" ? e.constructor.name : "Error";
      out.failure = { at, error: `${e?.message ?? e}`, error_type: type };
      return out;
    };
    let state;
    try {
      const welcome = decodeMessage(req(p, "welcome"), "welcome", ["mls_welcome"]).welcome;
      const tree = optionalRatchetTree(p);
      state = await mls.joinGroup(welcome, kp, privatePackage, mls.makePskIndex(undefined, psks), cs, tree);
    } catch (e) {
      return fail("welcome", e);
    }
    out.initial_epoch_authenticator = toHex(state.keySchedule.epochAuthenticator);
    for (const [i, ep] of epochs.entries()) {
      const steps = [...(ep.proposals ?? []).map((m, j) => [`epochs[${i}].proposals[${j}]`, m, "proposal"]), [`epochs[${i}].commit`, ep.commit, "commit"]];
      for (const [at, hex, expected] of steps) {
        try {
          const msg = decodeMessage(hex, at, ["mls_public_message", "mls_private_message"]);
          const [contentType, result] = await processAny(state, msg, psks, cs);
          if (contentType !== expected) throw new DriverError(`expected a ${expected}, got ${contentType}`);
          state = result.newState;
          forget(result.consumed);
        } catch (e) {
          return fail(at, e);
        }
      }
      out.epochs.push({ epoch: epochOf(state), epoch_authenticator: toHex(state.keySchedule.epochAuthenticator) });
    }
    out.handle = newHandle("g", { kind: "group", cs, state, wireFormat: wireFormat(p.wire_format), pending: null });
    return out;
  },

  async external_psk(p) {
    const group = getHandle(p, "group");
    const id = fromHex(req(p, "psk_id"), "psk_id");
    group.externalPsks = { ...(group.externalPsks ?? {}), [Buffer.from(id).toString("base64")]: fromHex(req(p, "psk"), "psk") };
    return { count: Object.keys(group.externalPsks).length };
  },

  async commit_psk(p) {
    const group = getGroup(p);
    const ids = p.psk_ids ?? [req(p, "psk_id")];
    if (!Array.isArray(ids) || ids.length === 0) throw new DriverError("psk_ids: expected a non-empty list");
    // psk_nonce: KDF.Nh random octets (RFC 9420 §8.4); ts-mls leaves the nonce to the caller
    const nonces = ids.map(() =>
      p.psk_nonce !== undefined && ids.length === 1
        ? fromHex(p.psk_nonce, "psk_nonce")
        : crypto.getRandomValues(new Uint8Array(group.cs.kdf.size)),
    );
    const proposals = ids.map((h, i) => ({
      proposalType: "psk",
      psk: { preSharedKeyId: { psktype: "external", pskId: fromHex(h, `psk_ids[${i}]`), pskNonce: nonces[i] } },
    }));
    const result = await commitWith(group, p, proposals);
    return {
      commit: encodeMessage(result.commit),
      welcome: result.welcome ? encodeMessage({ wireformat: "mls_welcome", welcome: result.welcome }) : null,
      epoch: epochOf(result.newState),
      psk_nonces: nonces.map(toHex),
    };
  },

  async join_external(p) {
    const { cs, kp } = await makeKeyPackage(req(p, "suite"), req(p, "identity"));
    const groupInfo = decodeMessage(req(p, "group_info"), "group_info", ["mls_group_info"]).groupInfo;
    const tree = optionalRatchetTree(p);
    const { publicMessage, newState } = await mls.joinGroupExternal(
      groupInfo,
      kp.publicPackage,
      kp.privatePackage,
      Boolean(p.resync),
      cs,
      tree,
    );
    const handle = newHandle("g", { kind: "group", cs, state: newState, wireFormat: wireFormat(p.wire_format), pending: null });
    return {
      handle,
      commit: encodeMessage({ wireformat: "mls_public_message", publicMessage }),
      epoch: epochOf(newState),
      leaf_index: newState.privatePath.leafIndex,
    };
  },

  async bench(p) {
    return runBench(p);
  },

  async free(p) {
    const h = req(p, "handle");
    return { freed: handles.delete(h) };
  },

  async shutdown() {
    shuttingDown = true;
    return { bye: true };
  },
};

// ---------------------------------------------------------------- main loop

let shuttingDown = false;

function write(obj) {
  return new Promise((resolve) => process.stdout.write(JSON.stringify(obj) + "\n", () => resolve()));
}

async function handle(line) {
  if (line.trim() === "") return;
  let request;
  try {
    request = JSON.parse(line);
  } catch (e) {
    await write({ id: null, error: `request is not JSON: ${e.message}`, error_type: "DriverError" });
    return;
  }
  const id = request !== null && typeof request === "object" ? request.id ?? null : null;
  try {
    if (request === null || typeof request !== "object" || Array.isArray(request)) {
      throw new DriverError("request must be a JSON object");
    }
    if (typeof request.op !== "string" || !Object.hasOwn(ops, request.op)) {
      throw new DriverError(`unknown op: ${JSON.stringify(request.op)}`);
    }
    const result = await ops[request.op](request);
    await write({ id, ...result });
  } catch (e) {
    const type = e?.constructor?.name && e.constructor.name !== "Object" ? e.constructor.name : "Error";
    await write({ id, error: `${e?.message ?? e}`, error_type: type });
  }
  if (shuttingDown) process.exit(0);
}

process.on("uncaughtException", (e) => process.stderr.write(`driver: uncaught exception: ${e?.stack ?? e}\n`));
process.on("unhandledRejection", (e) => process.stderr.write(`driver: unhandled rejection: ${e?.stack ?? e}\n`));

let queue = Promise.resolve();
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
rl.on("line", (line) => {
  queue = queue.then(() => handle(line));
});
rl.on("close", () => {
  queue.then(() => process.exit(0));
});
