import Canonical
import Crypto
import Foundation
import WireTypes

/// The Ed25519 key that signs receipts and the log witness, kept in `<stateDirectory>/receipt-key` (mode 0600) and
/// never in the database: whoever holds only the database can rewrite every hash, but cannot sign.
struct ReceiptKey: Sendable {
    /// Raw key bytes: Crypto's key types are not Sendable, so they are made again where used (cheap).
    private let privateRaw: Data
    private let publicRaw: Data
    let publicKeyHex: String
    /// The first 16 hex digits of SHA-256(public key): short enough to print, enough to tell keys apart.
    let keyID: String

    init(_ key: Curve25519.Signing.PrivateKey) {
        privateRaw = key.rawRepresentation
        publicRaw = key.publicKey.rawRepresentation
        publicKeyHex = Hex.encode(publicRaw)
        keyID = String(ContentHash.sha256Hex(publicRaw).prefix(16))
    }

    /// Reads the key, creating it on first start. A damaged key file is not replaced: every receipt it signed
    /// would silently stop verifying, so the operator decides.
    static func loadOrCreate(stateDirectory: String) throws -> ReceiptKey {
        let path = (stateDirectory as NSString).appendingPathComponent("receipt-key")
        guard FileManager.default.fileExists(atPath: path) else {
            let key = Curve25519.Signing.PrivateKey()
            try SecretFile.write(
                Array((Hex.encode(key.rawRepresentation) + "\n").utf8), to: path, what: "receipt key file")
            return ReceiptKey(key)
        }
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }),
            let raw = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw DaemonError(
                .configuration,
                "the receipt key file \(path) is unreadable or damaged: restore it from a backup, or move it away to "
                    + "make a new key at the next start (receipts signed by the old key can then not be checked)")
        }
        return ReceiptKey(key)
    }

    func sign(_ claim: ReceiptClaim) throws -> SignedReceipt {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateRaw)
        let signature = try key.signature(for: CanonicalJSON.encode(claim))
        return SignedReceipt(claim: claim, keyId: keyID, publicKey: publicKeyHex, signature: Hex.encode(signature))
    }

    /// Nil when this key signed exactly this claim; otherwise what is wrong, in words.
    func signatureProblem(_ receipt: SignedReceipt) -> String? {
        guard receipt.keyId == keyID, receipt.publicKey == publicKeyHex else {
            return "the receipt was signed by key \(receipt.keyId.prefix(16)), but this daemon's key is \(keyID): "
                + "verify it with the daemon (state directory) that issued it"
        }
        guard let signature = Hex.decode(receipt.signature), let claim = try? CanonicalJSON.encode(receipt.claim),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicRaw),
            key.isValidSignature(signature, for: claim)
        else {
            return "the receipt's signature does not match its contents: the receipt itself was altered"
        }
        return nil
    }
}
