import Canonical
import Crypto
import Foundation
import WireTypes

/// The Ed25519 key that signs receipts and the log witness, kept in `<stateDirectory>/receipt-key` (mode 0600) and
/// never in the database: whoever holds only the database can rewrite every hash, but cannot sign. (e2hd loads it:
/// `ReceiptKey.loadOrCreate`; here so that a bundle's receipt is checked where the bundle is read.)
public struct ReceiptKey: Sendable {
    /// Raw key bytes: Crypto's key types are not Sendable, so they are made again where used (cheap).
    private let privateRaw: Data
    private let publicRaw: Data
    public let publicKeyHex: String
    /// The first 16 hex digits of SHA-256(public key): short enough to print, enough to tell keys apart.
    public let keyID: String

    public init(_ key: Curve25519.Signing.PrivateKey) {
        privateRaw = key.rawRepresentation
        publicRaw = key.publicKey.rawRepresentation
        publicKeyHex = Hex.encode(publicRaw)
        keyID = String(ContentHash.sha256Hex(publicRaw).prefix(16))
    }

    public func sign(_ claim: ReceiptClaim) throws -> SignedReceipt {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateRaw)
        let signature = try key.signature(for: CanonicalJSON.encode(claim))
        return SignedReceipt(claim: claim, keyId: keyID, publicKey: publicKeyHex, signature: Hex.encode(signature))
    }

    /// Nil when this key signed exactly this claim; otherwise what is wrong, in words.
    public func signatureProblem(_ receipt: SignedReceipt) -> String? {
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
