/// The engine's own elementary functions for code outside the engine whose results feed events
/// (evaluator scores, PPO ratios): the platform's libm differs between libc versions, and a value
/// that differs by one ulp on another machine would make a replay there diverge.
public enum DeterministicMath {
    /// e^x to a few ulp; 0 at or below -87.3, +infinity above 88.
    public static func exp(_ x: Float) -> Float { Elementary.exp(x) }

    /// 1 / (1 + e^−z), without overflow.
    public static func sigmoid(_ z: Float) -> Float { Elementary.sigmoid(z) }

    /// log(1 + e^z), without overflow.
    public static func softplus(_ z: Float) -> Float { Elementary.softplus(z) }
}
