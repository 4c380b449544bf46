/// A state-changing action as a form: POSTed to the page's own origin (the policy's `form-action 'self'`)
/// with the session's CSRF token, which e2hd checks before it acts.
public enum ActionForm {
    /// The form field that carries the token.
    public static let tokenField = "csrf"
    /// The actions a run's page offers, by the path segment they post to.
    public static let actions = ["cancel", "resume", "replay"]
    /// Where the header's sign-out form posts: it ends the session for every daemon on the database.
    public static let signOutPath = "/sign-out"

    static func form(run: String, action: String, csrfToken: String) -> HTML {
        """
        <form method="post" action="\(URLPath.make("runs", run, action))">\
        <input type="hidden" name="\(tokenField)" value="\(csrfToken)"/>\
        <button type="submit" class="\(action)">\(action)</button></form>

        """
    }

    /// The header's sign-out button: a form like the actions', so a link elsewhere cannot end a session.
    static func signOut(csrfToken: String) -> HTML {
        """
        <form method="post" action="\(signOutPath)" class="sign-out">\
        <input type="hidden" name="\(tokenField)" value="\(csrfToken)"/>\
        <button type="submit">Sign out</button></form>

        """
    }
}
