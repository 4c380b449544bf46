/// Response headers every dashboard page is sent with. The policy allows only same-origin files: no inline
/// script or style (so injected markup could not run or restyle anything even if escaping failed), no
/// plugins, no framing, forms posting only back to e2hd. Charts are inline SVG, which needs none of it.
public enum SecurityHeaders {
    public static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src 'self'", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    /// In the order they are sent.
    public static let page: [(name: String, value: String)] = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", contentSecurityPolicy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]
}
