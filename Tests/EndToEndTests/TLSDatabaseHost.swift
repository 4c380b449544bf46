import Foundation

/// PostgreSQL on a host of its own, set up as README's "Several machines, one database" says a database machine
/// should be: TCP on the host's address only (no Unix socket), `hostssl` with scram-sha-256 passwords as the only
/// way in, and a server certificate for the host's IP address signed by a CA made here for this test alone. Clients
/// connect with `sslmode=verify-full`, so they check that certificate against the CA and the address they dialled.
final class TLSDatabaseHost: Sendable {
    let directory: String
    let address: String
    let port = 5432
    /// The CA's certificate: what a client's `sslrootcert` names.
    let authority: String
    /// Another CA's certificate, which signed nothing here: a client that trusts only it must refuse the server.
    let unrelatedAuthority: String
    /// The password of `e2h`, the role the daemons connect as (the database's owner, not a superuser).
    let password: String
    /// The superuser's, for setting up and for reading the server's view of its sessions.
    let superuserPassword: String

    private init(directory: String, address: String, password: String, superuserPassword: String) {
        self.directory = directory
        self.address = address
        self.authority = directory + "/tls/ca.pem"
        self.unrelatedAuthority = directory + "/tls/unrelated-ca.pem"
        self.password = password
        self.superuserPassword = superuserPassword
    }

    var dataDirectory: String { directory + "/data" }
    var logPath: String { directory + "/server.log" }

    /// What each daemon is given as `--database-url`.
    var url: String { url(user: "e2h", password: password, database: "e2h") }

    /// The superuser's URL, for the test's own reads.
    var superuserURL: String { url(user: "postgres", password: superuserPassword, database: "e2h") }

    func url(user: String, password: String, database: String, tls: String? = nil) -> String {
        "postgresql://\(user):\(password)@\(address):\(port)/\(database)?"
            + (tls ?? "sslmode=verify-full&sslrootcert=\(authority)")
    }

    /// Makes the CA and the server's certificate, initializes a cluster and starts it on `host`, then creates the
    /// `e2h` role and database over TLS.
    static func start(
        on host: HostNetwork.Host, network: HostNetwork, directory: String
    ) async throws
        -> TLSDatabaseHost
    {
        let database = TLSDatabaseHost(
            directory: directory, address: host.address, password: secret(), superuserPassword: secret())
        try await database.makeCertificates()
        try await database.initialize(allowing: network.cidr)
        try await HostNetwork.run(
            "ip",
            ["netns", "exec", host.namespace, "runuser", "-u", "postgres", "--"]
                + [try bin("pg_ctl"), "-D", database.dataDirectory, "-l", database.logPath, "-w", "-t", "60", "start"])
        let setup = database.url(user: "postgres", password: database.superuserPassword, database: "postgres")
        _ = try await Harness.sql(setup, "CREATE ROLE e2h LOGIN PASSWORD '\(database.password)'")
        _ = try await Harness.sql(setup, "CREATE DATABASE e2h OWNER e2h")
        return database
    }

    /// An immediate stop; never throws, since it runs on every exit path.
    func stop() async {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid"),
            let pgCtl = try? Self.bin("pg_ctl")
        else { return }
        _ = try? await ChildProcess.run(
            "/usr/sbin/runuser", ["-u", "postgres", "--", pgCtl, "-D", dataDirectory, "-m", "immediate", "stop"])
    }

    // MARK: - Setting up

    /// A CA (key and self-signed certificate) and a server key and certificate whose subjectAltName is the host's IP
    /// address: libpq's verify-full compares the address it dialled with that, not with the common name.
    private func makeCertificates() async throws {
        let tls = directory + "/tls"
        try FileManager.default.createDirectory(
            atPath: tls, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try await Self.makeAuthority(key: tls + "/ca.key", certificate: authority)
        try await Self.makeAuthority(key: tls + "/unrelated-ca.key", certificate: unrelatedAuthority)
        try await HostNetwork.run(
            "openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", tls + "/server.key", "-out", tls + "/server.csr", "-subj", "/CN=\(address)",
            ])
        try "subjectAltName=IP:\(address)\nextendedKeyUsage=serverAuth\n".write(
            toFile: tls + "/server.ext", atomically: true, encoding: .utf8)
        try await HostNetwork.run(
            "openssl",
            [
                "x509", "-req", "-in", tls + "/server.csr", "-CA", authority, "-CAkey", tls + "/ca.key",
                "-CAcreateserial", "-out", tls + "/server.pem", "-days", "2", "-extfile", tls + "/server.ext",
            ])
        // PostgreSQL refuses a key file others can read, and runs as postgres.
        try FileManager.default.setAttributes(
            [.ownerAccountName: "postgres", .posixPermissions: 0o600], ofItemAtPath: tls + "/server.key")
    }

    /// A self-signed CA certificate and its key.
    private static func makeAuthority(key: String, certificate: String) async throws {
        try await HostNetwork.run(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=e2h network test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
    }

    /// initdb with a superuser password (no trust anywhere), then the server's network, TLS and authentication.
    private func initialize(allowing cidr: String) async throws {
        try FileManager.default.createDirectory(
            atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory)
        try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: dataDirectory)
        let passwordFile = directory + "/superuser-password"
        try superuserPassword.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.ownerAccountName: "postgres", .posixPermissions: 0o600], ofItemAtPath: passwordFile)
        try await HostNetwork.run(
            "runuser",
            [
                "-u", "postgres", "--", try Self.bin("initdb"), "-D", dataDirectory, "-U", "postgres",
                "--auth=scram-sha-256", "--pwfile=" + passwordFile, "--encoding=UTF8", "--locale=C.UTF-8",
            ])
        try FileManager.default.removeItem(atPath: passwordFile)
        let settings = """

            # The network test's database host: its own address only, no Unix socket, TLS.
            listen_addresses = '\(address)'
            port = \(port)
            unix_socket_directories = ''
            ssl = on
            ssl_cert_file = '\(directory)/tls/server.pem'
            ssl_key_file = '\(directory)/tls/server.key'
            password_encryption = 'scram-sha-256'
            max_connections = 100
            shared_buffers = 32MB
            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
        // The only way in: TLS and a scram password, from the hosts' network. No `local`, no `host` (plain TCP).
        try "hostssl all all \(cidr) scram-sha-256\n".write(
            toFile: dataDirectory + "/pg_hba.conf", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.ownerAccountName: "postgres"], ofItemAtPath: dataDirectory + "/pg_hba.conf")
    }

    private static func bin(_ name: String) throws -> String {
        try Harness.environment("E2H_TEST_PG_BINDIR") + "/" + name
    }

    /// URL-safe and long enough: 32 hex digits.
    private static func secret() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}
