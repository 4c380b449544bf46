import Foundation

/// Hosts on one real network, built from Linux network namespaces: each host is a namespace with one veth into a
/// bridge in the root namespace, which has an address on the network too (the operator's machine: the tests, `e2h`
/// and `psql` run there). Cutting a host off is `ip link set eth0 down` inside its namespace; its TCP sessions then
/// hang as over a broken cable, and live on when the link comes back.
///
/// Names carry this process's pid, so that a later run can tell the leftovers of a killed run (pid gone) from a
/// concurrent run's hosts (pid alive) and remove only the former.
final class HostNetwork: Sendable {
    struct Host: Sendable {
        let name: String
        let namespace: String
        /// The veth end in the root namespace, a port of the bridge.
        let link: String
        let address: String
    }

    /// Every namespace is `e2hn-ID-PID-HOST`, the bridge `e2hnID`, each veth's root end `e2hnIDHOST` (Linux allows
    /// 15 characters in an interface name).
    static let prefix = "e2hn"
    let id: String
    let hosts: [Host]
    /// The root namespace's address on the network.
    let operatorAddress: String
    /// The network, as pg_hba.conf takes it.
    let cidr: String

    var bridge: String { Self.prefix + id }

    private init(id: String, hosts: [Host], operatorAddress: String, cidr: String) {
        self.id = id
        self.hosts = hosts
        self.operatorAddress = operatorAddress
        self.cidr = cidr
    }

    /// Why these tests cannot build namespaces here, or nil when they can: network namespaces need root, `ip` from
    /// iproute2, and (for the database's certificates) `openssl`. scripts/test installs both tools.
    static var unavailableReason: String? {
        if geteuid() != 0 { return "needs root to create network namespaces (CI runs scripts/test as root)" }
        if tool("ip") == nil { return "needs ip from iproute2 (scripts/test installs it)" }
        if tool("openssl") == nil { return "needs openssl for the database's throwaway CA (scripts/test installs it)" }
        return nil
    }

    /// The absolute path of a system tool (ChildProcess spawns without a PATH search).
    static func tool(_ name: String) -> String? {
        ["/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"].map { $0 + name }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Builds the network with a host per name, numbered .1, .2, … in the order given; the root namespace is .254.
    /// Removes the leftovers of killed runs first.
    static func build(hostNames: [String]) async throws -> HostNetwork {
        try await removeLeftovers()
        let id = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(6))
        // 198.18.0.0/15 is set aside for network tests (RFC 2544); a /24 no interface here already has.
        let inUse = try await ip(["-4", "-o", "addr", "show"])
        let free = (0..<512).map { "198.\(18 + $0 / 256).\($0 % 256)" }.filter { !inUse.contains($0 + ".") }
        guard let subnet = free.randomElement() else { throw E2EError("no free /24 in 198.18.0.0/15 for the hosts") }
        let hosts = hostNames.enumerated().map { index, name in
            Host(
                name: name, namespace: "\(prefix)-\(id)-\(getpid())-\(name)", link: prefix + id + name,
                address: "\(subnet).\(index + 1)")
        }
        let network = HostNetwork(
            id: id, hosts: hosts, operatorAddress: subnet + ".254", cidr: subnet + ".0/24")
        do {
            try await network.create()
        } catch {
            await network.tearDown()
            throw error
        }
        return network
    }

    /// Namespaces first, then the bridge: a bridge without namespaces is then always a leftover.
    private func create() async throws {
        for host in hosts {
            try await Self.ip(["netns", "add", host.namespace])
            try await Self.ip(["-n", host.namespace, "link", "set", "lo", "up"])
        }
        try await Self.ip(["link", "add", bridge, "type", "bridge"])
        try await Self.ip(["addr", "add", operatorAddress + "/24", "dev", bridge])
        try await Self.ip(["link", "set", bridge, "up"])
        for host in hosts {
            try await Self.ip([
                "link", "add", host.link, "type", "veth", "peer", "name", "eth0", "netns", host.namespace,
            ])
            try await Self.ip(["link", "set", host.link, "master", bridge])
            try await Self.ip(["link", "set", host.link, "up"])
            try await Self.ip(["-n", host.namespace, "addr", "add", host.address + "/24", "dev", "eth0"])
            try await Self.ip(["-n", host.namespace, "link", "set", "eth0", "up"])
        }
    }

    func host(_ name: String) throws -> Host {
        guard let host = hosts.first(where: { $0.name == name }) else { throw E2EError("no host \(name)") }
        return host
    }

    /// What runs a program on `host`: `ip netns exec` enters the namespace and then execs the program, so the
    /// spawned pid is the program's.
    func launcher(_ host: Host) throws -> [String] {
        [try Self.path("ip"), "netns", "exec", host.namespace]
    }

    /// Unplugs the host's cable.
    func cut(_ host: Host) async throws {
        try await Self.ip(["-n", host.namespace, "link", "set", "eth0", "down"])
    }

    /// Plugs it back in; the kernel restores the route to the network with the link.
    func restore(_ host: Host) async throws {
        try await Self.ip(["-n", host.namespace, "link", "set", "eth0", "up"])
    }

    /// Kills what still runs on the hosts (their owners stop it first; this is for a failed test), then removes
    /// the namespaces (their veths go with them) and the bridge. Never throws: it runs on every exit path.
    func tearDown() async {
        for host in hosts { await Self.remove(namespace: host.namespace) }
        _ = try? await Self.ip(["link", "del", bridge])
    }

    // MARK: - Leftovers of killed runs

    /// Removes the namespaces whose creating process is gone, and every bridge with no namespace left.
    static func removeLeftovers() async throws {
        let namespaces = try await ip(["netns", "list"]).split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0.hasPrefix(prefix + "-") }
        for namespace in namespaces {
            let parts = namespace.split(separator: "-")
            guard parts.count >= 4, let pid = pid_t(parts[2]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { await remove(namespace: namespace) }
        }
        let liveIDs = Set(
            try await ip(["netns", "list"]).split(separator: "\n")
                .compactMap { $0.split(separator: " ").first }
                .filter { $0.hasPrefix(prefix + "-") }
                .compactMap { $0.split(separator: "-").dropFirst().first.map(String.init) })
        let bridges = try await ip(["-o", "link", "show", "type", "bridge"]).split(separator: "\n")
            .compactMap { $0.split(separator: ":").dropFirst().first?.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix(prefix) }
        for bridge in bridges where !liveIDs.contains(String(bridge.dropFirst(prefix.count))) {
            _ = try? await ip(["link", "del", bridge])
        }
    }

    /// Kills the namespace's processes (postgres and e2hd of this test or of a killed one) and deletes it: a
    /// namespace with a process in it outlives `ip netns del`.
    private static func remove(namespace: String) async {
        if let pids = try? await ip(["netns", "pids", namespace]) {
            for pid in pids.split(separator: "\n").compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
        }
        _ = try? await ip(["netns", "del", namespace])
    }

    // MARK: - Tools

    static func path(_ name: String) throws -> String {
        guard let path = tool(name) else { throw E2EError("\(name) is not installed: run the tests with scripts/test") }
        return path
    }

    @discardableResult
    static func ip(_ arguments: [String]) async throws -> String {
        try await run("ip", arguments)
    }

    /// Runs a system tool; a failure throws with its output.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run(try path(tool), arguments)
        guard result.status == 0 else {
            throw E2EError("\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
        }
        return result.output
    }
}
