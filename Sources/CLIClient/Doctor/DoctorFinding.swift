import Foundation
import NeuralEngine
import OutboundHTTP

/// One line of `e2h doctor`: what was checked, what was found, and what to do when it is not fine.
///
/// The judgements are pure functions of facts the command gathers, so each rule reads on its own and a
/// finding never depends on how the fact was obtained.
struct DoctorFinding: Equatable {
    enum Status: String {
        case ok, warn, fail
    }

    var check: String
    var status: Status
    var detail: String
    /// What to do about a warning or failure; empty when the check is fine.
    var remedy: String = ""

    var line: String {
        let mark =
            switch status {
            case .ok: "ok  "
            case .warn: "warn"
            case .fail: "FAIL"
            }
        let head = "\(mark)  \(check.padding(toLength: 12, withPad: " ", startingAt: 0))  \(detail)"
        return remedy.isEmpty ? head : head + "\n      → " + remedy
    }

    /// The engine's kernels are compiled for the building machine and are bit-identical across CPUs only
    /// where every reduction is a hardware fma chain: without FMA the build is not supported.
    static func cpu(_ cpu: CPUDescription) -> DoctorFinding {
        let detail = "\(cpu.model) (fma: \(cpu.hasFMA ? "yes" : "no"), widest: \(cpu.widestVector))"
        guard cpu.hasFMA else {
            return DoctorFinding(
                check: "cpu", status: .fail, detail: detail,
                remedy: "e2h's engine needs a CPU with FMA (x86-64-v3 or later) for its bit-identical results")
        }
        return DoctorFinding(check: "cpu", status: .ok, detail: detail)
    }

    /// A default-size run's record takes 0.5–0.8 GB (the Sudoku default about 0.5, the running-sum experiment 0.8) and
    /// an export about half of that.
    static func disk(path: String, freeBytes: UInt64) -> DoctorFinding {
        let gib = Double(freeBytes) / Double(1 << 30)
        let detail = String(format: "%.1f GiB free under %@", gib, path)
        if freeBytes < 1 << 30 {
            return DoctorFinding(
                check: "disk", status: .fail, detail: detail,
                remedy: "free space: one default-size run needs about 1 GiB in the database")
        }
        if freeBytes < 10 << 30 {
            return DoctorFinding(
                check: "disk", status: .warn, detail: detail,
                remedy: "less than 10 GiB leaves room for only a few default-size runs")
        }
        return DoctorFinding(check: "disk", status: .ok, detail: detail)
    }

    /// Which `E2H_*` defaults are in force (`listing`: NAME=value each, the token hidden), since a forgotten export
    /// explains many a surprise; `problem`: the first variable whose value does not parse (which stops every other
    /// command before it runs, and which doctor reports beside its other findings instead).
    static func environment(_ listing: [String], problem: String? = nil) -> DoctorFinding {
        let detail = listing.isEmpty ? "no E2H_* variable set" : listing.joined(separator: " ")
        if let problem {
            return DoctorFinding(
                check: "environment", status: .fail, detail: problem,
                remedy: "correct or unset the variable (every other e2h command stops on it with exit status 2)")
        }
        return DoctorFinding(check: "environment", status: .ok, detail: detail)
    }

    /// Whether `e2h`'s requests to the daemon at `base` go through a proxy the environment names (`http_proxy` and
    /// the rest, as curl reads them): a proxy that cannot reach the daemon explains a daemon that answers elsewhere.
    /// The proxy's password is never shown.
    static func proxy(base: String, through proxy: ProxyEnvironment.Proxy?) -> DoctorFinding {
        guard let proxy else {
            return DoctorFinding(check: "proxy", status: .ok, detail: "requests to \(base) go directly")
        }
        let credentials = proxy.user == nil ? "" : " (with the credentials in its URL)"
        return DoctorFinding(
            check: "proxy", status: .ok,
            detail: "requests to \(base) go through the proxy \(proxy.host):\(proxy.port)\(credentials)")
    }

    /// The state directory's secrets: the token (anyone who can read it can drive the daemon) and the receipt key
    /// (anyone who can read it can sign a receipt for an altered record), each readable by its owner only.
    enum Secret {
        case token, receiptKey

        var check: String { self == .token ? "token" : "receipt key" }
        var exposes: String {
            self == .token ? "the API token" : "the key that signs receipts (a reader could vouch for an altered run)"
        }
    }

    static func secret(_ secret: Secret, path: String, permissions: Int?, ownedByUser: Bool) -> DoctorFinding {
        guard let permissions else {
            return DoctorFinding(
                check: secret.check, status: .fail, detail: "no \(secret.check) at \(path)",
                remedy: "start e2hd once with this state directory (it creates it), or pass --state-dir")
        }
        let mode = String(permissions & 0o777, radix: 8)
        if permissions & 0o077 != 0 {
            return DoctorFinding(
                check: secret.check, status: .fail,
                detail: "\(path) has mode \(mode): others can read \(secret.exposes)",
                remedy: "chmod 600 \(path)")
        }
        if !ownedByUser {
            return DoctorFinding(
                check: secret.check, status: .warn, detail: "\(path) belongs to another user",
                remedy: secret == .token
                    ? "run e2h as the user that runs e2hd, or pass --token" : "chown it to the user that runs e2hd")
        }
        return DoctorFinding(check: secret.check, status: .ok, detail: "\(path) (mode \(mode))")
    }

    /// A state directory others can write to lets them replace the endpoint file and collect the token.
    static func stateDirectory(path: String, permissions: Int?) -> DoctorFinding {
        guard let permissions else {
            return DoctorFinding(
                check: "state", status: .fail, detail: "\(path) does not exist",
                remedy: "start e2hd (it creates the directory), or pass --state-dir")
        }
        let mode = String(permissions & 0o777, radix: 8)
        if permissions & 0o022 != 0 {
            return DoctorFinding(
                check: "state", status: .fail, detail: "\(path) has mode \(mode): others can write to it",
                remedy: "chmod go-w \(path)")
        }
        return DoctorFinding(check: "state", status: .ok, detail: "\(path) (mode \(mode))")
    }
}
