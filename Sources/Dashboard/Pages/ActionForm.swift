/// A state-changing action as a form: POSTed to the page's own origin (the policy's `form-action 'self'`)
/// with the session's CSRF token, which e2hd checks before it acts.
public enum ActionForm {
    /// The form field that carries the token.
    public static let tokenField = "csrf"
    /// The actions a run's page offers, by the path segment they post to.
    public static let actions = ["cancel", "resume", "replay"]

    static func form(run: String, action: String, csrfToken: String) -> HTML {
        """
        <form method="post" action="\(URLPath.make("runs", run, action))">\
        <input type="hidden" name="\(tokenField)" value="\(csrfToken)"/>\
        <button type="submit" class="\(action)">\(action)</button></form>

        """
    }
}
