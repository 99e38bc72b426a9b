/// How many masked positions a block commits at each of its steps.
public enum TransferSchedule {
    /// The reference `get_num_transfer_tokens`: `masks / steps` each step, and one more for the
    /// first `masks % steps` steps (LLaDA's linear noise schedule).
    public static func linear(masks: Int, steps: Int) -> [Int] {
        precondition(steps > 0 && masks >= 0)
        let base = masks / steps, remainder = masks % steps
        return (0..<steps).map { $0 < remainder ? base + 1 : base }
    }
}
