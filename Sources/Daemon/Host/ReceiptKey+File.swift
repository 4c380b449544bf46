import Canonical
import Crypto
import Foundation
import RunBundle
import WireTypes

extension ReceiptKey {
    /// Reads the key, creating it on first start. A damaged key file is not replaced: every receipt it signed
    /// would silently stop verifying, so the operator decides.
    static func loadOrCreate(stateDirectory: String) throws -> ReceiptKey {
        let path = (stateDirectory as NSString).appendingPathComponent(StateDirectory.receiptKeyFile)
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
}
