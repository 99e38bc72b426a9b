import CBLAS

/// OpenBLAS's thread count: process-wide by nature (OpenBLAS keeps one pool for the process), so
/// it is set in this one place, by `ModelFile.load`, and loading a model sets it for every model
/// in the process.
///
/// Policy, so OpenBLAS and the kernels' pools never oversubscribe the cores: a model whose linears
/// all run on the kernels uses OpenBLAS only inside attention heads that are already spread over
/// threads of our own, so OpenBLAS gets one thread (none then polls beside the kernels' pool); a
/// model with f32 linears (a checkpoint) gets as many as its kernel context has, the two taking
/// turns. OpenBLAS's own threads keep polling (with sched_yield) for a while after each call;
/// OPENBLAS_THREAD_TIMEOUT (read when the library loads) shortens that.
public enum OpenBLASThreads {
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
}
