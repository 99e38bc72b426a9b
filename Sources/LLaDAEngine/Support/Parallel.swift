import Dispatch

/// Runs `body(i)` for i in 0..<iterations on all cores and returns when all are done. The body
/// writes only to disjoint memory per iteration; this wrapper is what lets it capture pointers.
func parallelFor(_ iterations: Int, _ body: (Int) -> Void) {
    struct Box: @unchecked Sendable { let body: (Int) -> Void }
    withoutActuallyEscaping(body) { body in
        let box = Box(body: body)
        DispatchQueue.concurrentPerform(iterations: iterations) { box.body($0) }
    }
}
