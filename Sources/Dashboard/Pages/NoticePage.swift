/// Pages that show no run data: the sign-in request a visitor without a session gets, and errors.
public enum NoticePage {
    /// What a page without a session shows, whatever was asked for.
    public static func signInRequired() -> Page {
        Page(
            title: "Sign in",
            main: """
                <p class="sign-in">This dashboard shows data only to a signed-in browser. Open the one-time sign-in \
                link that <code>e2hd</code> printed when it started, or run <code>e2h open</code> for a new one.</p>

                """)
    }

    /// What the browser sees once it signed out: its session is gone from the database, for every daemon on it.
    public static func signedOut() -> Page {
        Page(
            title: "Signed out",
            main: """
                <p class="sign-in">This browser is signed out. Run <code>e2h open</code> to sign in again.</p>

                """)
    }

    /// A failed request: its message (the same a JSON client gets) and the request id the daemon's log uses.
    public static func error(status: Int, message: String, requestID: String?) -> Page {
        let reference: HTML = requestID.map { "<p class=\"muted\">request <code>\($0)</code></p>\n" } ?? ""
        return Page(
            title: "Error \(status)", navigation: Navigation.links(current: .none),
            main: "<p class=\"error\">\(message)</p>\n\(reference)")
    }
}
