// Package auditlog is the verifiable core of the audit log: the code an
// auditor has to trust, and so has to be able to review, to believe what
// `reseller audit verify` says. It encodes audit entries as canonical
// record bytes, hashes them into an RFC 6962 Merkle tree, signs and opens
// checkpoints and witness cosignatures, makes and checks inclusion and
// consistency proofs, and reads and verifies bundles offline. It is pure:
// no SQL and no HTTP. docs/audit-log-format.md specifies every format here.
//
// What only the server and its tests need lives in subpackages, which
// import this package and are never imported by it, so that nothing in them
// can change what VerifyBundle accepts:
//
//   - bundle writes bundles (VerifyBundle here reads them);
//   - logcheck checks a stored log against itself and its checkpoints and
//     reports every problem, for `reseller audit check`;
//   - replay rebuilds clients and licenses, users, roles and API tokens
//     from a log, to compare with the store's tables;
//   - memlog holds a log in memory, for tests and tools.
//
// Two internal packages, shared with the bundle writer so that both sides
// agree on the format, are part of the core: internal/jsonio (the JSON
// string codec) and internal/tree (RFC 6962 tree geometry).
//
// # Reading record bytes
//
// Records are written in version 2 (RecordVersion); version 1 records, which
// have neither the details of team actions nor user targets, stay valid as
// they are, and every reader checks a record as the version it says. Each
// decoder is named for what it guarantees:
//
//   - DecodeCanonical is the definition of canonical record bytes: it
//     decodes, encodes again and compares, so bytes it accepts are the one
//     byte form of their entry. Slow; the reference the others are held to.
//   - CheckCanonical accepts exactly what DecodeCanonical accepts, without
//     allocating, and returns the account and seq. Verifiers use it on
//     bytes from anyone.
//   - ParseCanonical checks as CheckCanonical does and returns the entry,
//     in one walk; ok is false for anything else. For code that must both
//     check and read every record, such as the stored-log check.
//   - CheckLegacy recognises a record of an older version that
//     CheckCanonical refuses (docs/audit-log-format.md, "Records of older
//     versions"), which stays in its log and is reported, not failed.
//   - ParseTrusted reads any bytes encoding/json can read, verifying
//     nothing. For listing and exporting entries the store checked when it
//     wrote them; never to decide whether bytes are a record.
//
// # Reviewing the verifiable core
//
// Read docs/audit-log-format.md first, then these files, about 2,700 lines
// with their comments, in this order:
//
//  1. record.go: EncodeRecord and DecodeCanonical, the record bytes.
//  2. canonical.go: CheckCanonical's walk of the canonical layout, and
//     CheckLegacy. Property and fuzz tests hold the walk to DecodeCanonical.
//  3. internal/jsonio: the string codec the walk and the bundle reader use.
//  4. internal/tree and proof.go: the tree's shape, and the proofs.
//  5. key.go and checkpoint.go: keys, origins, checkpoint text, and
//     OpenCheckpoint, which checks a signed checkpoint.
//  6. cosignature.go: witness cosignatures.
//  7. verify.go: VerifyBundle, what a bundle must prove and how each entry
//     is checked against the path of the one before it.
//  8. bundleread.go, stream.go and pipeline.go: how a bundle's bytes are
//     cut into a header and entries, in parallel for the writer's layout and
//     sequentially for any other; they decide what each entry says, and
//     verify.go whether it holds.
//
// decode.go (ParseCanonical and ParseTrusted, for reading stored entries)
// and extend.go (TreeBuilder, with which the server checks a tree extends
// the last checkpoint before signing it) are not on the verifier's path.
package auditlog
