import Foundation
import LLaDAEngine
import LLaDAKernels

/// The JSON object (documented field by field in Benchmarks/README.md).
public struct GenerationReport: Encodable {
    let model: String
    let format: String
    let threads: Int
    let kernel_path: String
    /// The CPU the run measured (HostCPU: vendor, family, model, model_name, flags, …).
    let cpu: HostCPU
    let prompt_length: Int
    let gen_length: Int
    let steps: Nullable<Int>
    let steps_per_block: Nullable<Int>
    let block_length: Int
    let cache: String
    /// With cache dual: which block starts run a full pass (CacheRefresh).
    let refresh: String
    let threshold: Nullable<Double>
    let kv_type: String
    let repetitions: Int
    let load_seconds: Double
    let prefill_seconds: Double
    let generation_seconds: Double
    let run_seconds: [Double]
    let model_calls: Int
    let step_seconds_median: Double
    let step_seconds_p90: Double
    let tokens_per_second: Double
    let forward_seconds: Double
    let matmul_seconds: Double
    let lm_head_seconds: Double
    let attention_seconds: Double
    let other_forward_seconds: Double
    let sampler_seconds: Double
    let matmul_share: Double
    let attention_share: Double
    let other_forward_share: Double
    let sampler_share: Double
    let median_step: StepReport
    /// The median of the steps with the most work: the full passes (the first step, and with
    /// a cache each block's refresh; with cache none, every step).
    let full_pass: StepReport
    /// The int8 ceiling measured in this run (GOP/s over all threads), null without a probe.
    let int8_peak_gops: Nullable<Double>
    /// Memory read bandwidth of the run's threads, measured in the same run.
    let memory_bandwidth_gbs: Double
    /// Each step's time over its floor (StepReport.floor_seconds), in order.
    let step_floor_multiples: [Double]
    let kv_cache_bytes: Int
    let peak_rss_bytes: Int
    let peak_rss_source: String
    let rss_after_load_bytes: Nullable<Int>
    let rss_after_run_bytes: Nullable<Int>
    let rss_anon_after_run_bytes: Nullable<Int>
    let memory_estimate_bytes: Int
    let available_memory_bytes: Nullable<Int>

    public init(model: String, format: String, threads: Int, kernel_path: String, prompt_length: Int, settings: GenerationSettings,
         repetitions: Int, load_seconds: Double, runs: [GenerationBenchmark], int8Peak: Double, bandwidth: Double = 0, peak_rss_bytes: Int, peak_rss_source: String,
         rss_after_load_bytes: Int?, rss_after_run_bytes: Int?, rss_anon_after_run_bytes: Int?, memory_estimate_bytes: Int, available_memory_bytes: Int?) {
        self.model = model
        self.format = format
        self.threads = threads
        self.kernel_path = kernel_path
        cpu = HostCPU.current
        self.prompt_length = prompt_length
        gen_length = settings.genLength
        steps = Nullable(settings.steps)
        steps_per_block = Nullable(settings.stepsPerBlock)
        block_length = settings.blockLength
        cache = settings.cache.rawValue
        refresh = settings.refresh.description
        threshold = Nullable(settings.threshold)
        kv_type = settings.kvStorage.rawValue
        self.repetitions = repetitions
        self.load_seconds = load_seconds
        // Per-run times: the median run; step times: pooled over all runs; the split: summed.
        prefill_seconds = median(runs.map(\.prefillSeconds))
        run_seconds = runs.map(\.seconds)
        generation_seconds = median(run_seconds)
        model_calls = runs.last?.modelCalls ?? 0
        let steps = runs.flatMap(\.stepSeconds)
        step_seconds_median = percentile(steps, 0.5)
        step_seconds_p90 = percentile(steps, 0.9)
        // The tokens a run produced (runs of one plan produce the same ones).
        tokens_per_second = Double(runs.last?.producedTokens ?? 0) / max(generation_seconds, 1e-9)
        func total(_ value: (GenerationBenchmark) -> Double) -> Double { runs.reduce(0) { $0 + value($1) } }
        forward_seconds = total(\.forwardSeconds)
        matmul_seconds = total(\.matmulSeconds)
        lm_head_seconds = total(\.lmHeadSeconds)
        attention_seconds = total(\.attentionSeconds)
        other_forward_seconds = total(\.otherForwardSeconds)
        sampler_seconds = total(\.samplerSeconds)
        let stepTotal = max(matmul_seconds + attention_seconds + other_forward_seconds + sampler_seconds, 1e-12)
        matmul_share = matmul_seconds / stepTotal
        attention_share = attention_seconds / stepTotal
        other_forward_share = other_forward_seconds / stepTotal
        sampler_share = sampler_seconds / stepTotal
        let allSteps = runs.flatMap(\.steps)
        let peak = int8Peak > 0 ? int8Peak : nil
        median_step = StepReport(allSteps, peak: peak, bandwidth: bandwidth)
        let most = allSteps.map(\.operations).max() ?? 0
        full_pass = StepReport(allSteps.filter { $0.operations >= most * 0.999 }, peak: peak, bandwidth: bandwidth)
        int8_peak_gops = Nullable(peak.map { $0 / 1e9 })
        memory_bandwidth_gbs = bandwidth / 1e9
        step_floor_multiples = allSteps.map { step in
            StepReport.floor(step, peak: peak, bandwidth: bandwidth).map { step.seconds / $0 } ?? 0
        }
        kv_cache_bytes = runs.last?.kvCacheBytes ?? 0
        self.peak_rss_bytes = peak_rss_bytes
        self.peak_rss_source = peak_rss_source
        self.rss_after_load_bytes = Nullable(rss_after_load_bytes)
        self.rss_after_run_bytes = Nullable(rss_after_run_bytes)
        self.rss_anon_after_run_bytes = Nullable(rss_anon_after_run_bytes)
        self.memory_estimate_bytes = memory_estimate_bytes
        self.available_memory_bytes = Nullable(available_memory_bytes)
    }

    /// Loads `file` with `compute`, runs `plan` `repetitions` times with the forward pass
    /// profiled, and reports; measures and asserts nothing about time.
    public static func measure(file: ModelFile, path: String, plan: GenerationPlan, repetitions: Int,
                               compute: ComputeContext) throws -> GenerationReport {
        let model = try file.load(compute: compute)
        let residentAfterLoad = ProcessMemory.residentBytes()
        // The int8 ceiling in this run, on the threads the generation uses (packed files only:
        // a checkpoint's f32 products do not run on the int8 kernels).
        let peak = file.isPacked ? model.kernels.int8PeakOps(seconds: 0.5) : 0
        let bandwidth = model.kernels.memoryBandwidth(seconds: 0.5)
        var runs: [GenerationBenchmark] = []
        for _ in 0..<repetitions {
            runs.append(try GenerationBenchmark.run(model: model, plan: plan))
        }
        let peakMemory = ProcessMemory.peakResidentBytes()
        return GenerationReport(
            model: path, format: file.isPacked ? "packed" : "checkpoint", threads: model.kernels.threads,
            kernel_path: model.kernels.level.name, prompt_length: plan.promptIDs.count, settings: plan.settings,
            repetitions: repetitions, load_seconds: model.loadSeconds, runs: runs, int8Peak: peak, bandwidth: bandwidth,
            peak_rss_bytes: peakMemory.bytes, peak_rss_source: peakMemory.source, rss_after_load_bytes: residentAfterLoad,
            rss_after_run_bytes: ProcessMemory.residentBytes(), rss_anon_after_run_bytes: ProcessMemory.anonymousResidentBytes(),
            memory_estimate_bytes: plan.memory?.totalBytes ?? 0,
            available_memory_bytes: (try? AvailableMemory.current(environment: ProcessInfo.processInfo.environment))?.bytes)
    }

    public var table: String {
        func seconds(_ value: Double) -> String { String(format: "%.3f s", value) }
        func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }
        let rows: [(String, String)] = [
            ("model", "\(model) (\(format)), \(threads) threads, \(kernel_path) kernels"),
            ("cpu", cpu.description),
            ("run", "prompt \(prompt_length), gen \(gen_length), steps \(steps.value.map(String.init) ?? "-"), per block \(steps_per_block.value.map(String.init) ?? "-"), block \(block_length), cache \(cache)\(cache == "dual" ? " (refresh \(refresh))" : ""), kv \(kv_type), threshold \(threshold.value.map { "\($0)" } ?? "off"), \(repetitions) repetition\(repetitions == 1 ? "" : "s")"),
            ("load", seconds(load_seconds)),
            ("prefill", seconds(prefill_seconds) + " (first full pass)"),
            ("generation", seconds(generation_seconds) + (repetitions > 1 ? " (median run)" : "") + ", \(model_calls) model calls"),
            ("step", "median \(seconds(step_seconds_median)), p90 \(seconds(step_seconds_p90))"),
            ("tokens/s", String(format: "%.2f", tokens_per_second)),
            ("time split", "matmul \(percent(matmul_share)) (LM head \(percent(lm_head_seconds / max(forward_seconds + sampler_seconds, 1e-12)))), attention \(percent(attention_share)), other forward \(percent(other_forward_share)), sampler \(percent(sampler_share))"),
            ("median step", "\(seconds(median_step.seconds)): matmul \(percent(median_step.matmul_share)) (LM head \(seconds(median_step.lm_head_seconds))), attention \(percent(median_step.attention_share)), other forward \(percent(median_step.other_forward_share)), sampler \(percent(median_step.sampler_share))"),
            ("floor", (int8_peak_gops.value.map { String(format: "int8 peak %.0f GOP/s measured (\(kernel_path)); ", $0) }
                       ?? "no int8 peak probe for this run (a checkpoint, or the \(kernel_path) path); ")
                + String(format: "median step %.2f× its floor (matmuls %.2f×, bound by %@), full pass %.2f× (matmuls %.2f×, bound by %@)",
                         median_step.floor_multiple.value ?? 0, median_step.matmul_floor_multiple.value ?? 0, median_step.floor_bound,
                         full_pass.floor_multiple.value ?? 0, full_pass.matmul_floor_multiple.value ?? 0, full_pass.floor_bound)),
            ("bandwidth", String(format: "memory read %.1f GB/s measured (%d threads at once); median step reads %@ of weights (streaming floor %@)",
                                 memory_bandwidth_gbs, threads, ByteFormat.string(Int(median_step.weight_bytes)),
                                 median_step.streaming_floor_seconds.value.map { String(format: "%.4f s", $0) } ?? "-")
                + (median_step.distinct_experts_per_layer.value.map { String(format: ", %.1f distinct experts per MoE layer", $0) } ?? "")),
            ("KV cache", ByteFormat.string(kv_cache_bytes)),
            ("peak RSS", "\(ByteFormat.string(peak_rss_bytes)) (\(peak_rss_source))" + (rss_after_load_bytes.value.map { "; \(ByteFormat.string($0)) after load" } ?? "")
                + (rss_after_run_bytes.value.map { ", \(ByteFormat.string($0)) after the run" } ?? "")
                + (rss_anon_after_run_bytes.value.map { " (\(ByteFormat.string($0)) anonymous)" } ?? "")),
            ("estimate", ByteFormat.string(memory_estimate_bytes) + (available_memory_bytes.value.map { " of \(ByteFormat.string($0)) available" } ?? "")),
        ]
        let width = rows.map(\.0.count).max()!
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}

/// The split of one step: the step whose time is the median (nearest rank, as
/// `step_seconds_median`), so its parts add up to that step. With a cache, steps that refresh it
/// with a full pass are slower and rarely the median: this is the split of a typical step.
public struct StepReport: Encodable {
    let seconds: Double
    let matmul_seconds: Double
    let lm_head_seconds: Double
    let attention_seconds: Double
    let other_forward_seconds: Double
    let sampler_seconds: Double
    let matmul_share: Double
    let attention_share: Double
    let other_forward_share: Double
    let sampler_share: Double
    /// The step's linear-product operations and that work at the measured int8 peak (null
    /// without a peak); the step's floor, the larger of that and the streaming floor below, and
    /// which of the two it is ("compute" or "memory"); the step's and its matmuls' multiples of
    /// the floor.
    let operations: Double
    let compute_floor_seconds: Nullable<Double>
    let floor_seconds: Nullable<Double>
    let floor_bound: String
    let floor_multiple: Nullable<Double>
    let matmul_floor_multiple: Nullable<Double>
    /// Bytes of weights the step's products read; those bytes at the measured memory bandwidth
    /// (the streaming floor, null without a bandwidth); distinct routed experts per MoE layer
    /// (null for a dense model).
    let weight_bytes: Double
    let streaming_floor_seconds: Nullable<Double>
    let distinct_experts_per_layer: Nullable<Double>
    let distinct_experts_by_layer: [Double]

    init(_ steps: [GenerationBenchmark.StepSplit], peak: Double? = nil, bandwidth: Double? = nil) {
        let step = nearestRank(steps, 0.5, by: \.seconds)
            ?? GenerationBenchmark.StepSplit(seconds: 0, forwardSeconds: 0, matmulSeconds: 0, lmHeadSeconds: 0, attentionSeconds: 0)
        seconds = step.seconds
        matmul_seconds = step.matmulSeconds
        lm_head_seconds = step.lmHeadSeconds
        attention_seconds = step.attentionSeconds
        other_forward_seconds = step.otherForwardSeconds
        sampler_seconds = step.samplerSeconds
        let total = max(matmul_seconds + attention_seconds + other_forward_seconds + sampler_seconds, 1e-12)
        matmul_share = matmul_seconds / total
        attention_share = attention_seconds / total
        other_forward_share = other_forward_seconds / total
        sampler_share = sampler_seconds / total
        operations = step.operations
        let compute = peak.flatMap { step.operations > 0 ? step.operations / $0 : nil }
        let streaming = bandwidth.flatMap { $0 > 0 && step.weightBytes > 0 ? step.weightBytes / $0 : nil }
        compute_floor_seconds = Nullable(compute)
        let floor = Self.floor(step, peak: peak, bandwidth: bandwidth)
        floor_seconds = Nullable(floor)
        floor_bound = floor == nil ? "-" : (streaming ?? 0) > (compute ?? 0) ? "memory" : "compute"
        floor_multiple = Nullable(floor.map { step.seconds / $0 })
        matmul_floor_multiple = Nullable(floor.map { step.matmulSeconds / $0 })
        weight_bytes = step.weightBytes
        streaming_floor_seconds = Nullable(streaming)
        distinct_experts_per_layer = Nullable(step.expertsPerLayer)
        distinct_experts_by_layer = step.expertsByLayer
    }

    /// A step cannot beat its products' int8 work at the peak nor its weights read at the
    /// memory's bandwidth: its floor is the larger (nil when neither was measured).
    static func floor(_ step: GenerationBenchmark.StepSplit, peak: Double?, bandwidth: Double?) -> Double? {
        let compute = peak.flatMap { step.operations > 0 ? step.operations / $0 : nil }
        let streaming = bandwidth.flatMap { $0 > 0 && step.weightBytes > 0 ? step.weightBytes / $0 : nil }
        switch (compute, streaming) {
        case (nil, nil): return nil
        case (let c?, let s?): return max(c, s)
        case (let c?, nil): return c
        case (nil, let s?): return s
        }
    }
}

/// An optional that encodes as JSON null instead of leaving its key out.
public struct Nullable<Value: Encodable>: Encodable {
    let value: Value?

    public init(_ value: Value?) { self.value = value }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// The median (the lower middle value for an even count); 0 for none.
public func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

/// The q-quantile of `values` by nearest rank; 0 for none.
public func percentile(_ values: [Double], _ q: Double) -> Double { nearestRank(values, q) { $0 } ?? 0 }

/// The element at the q-quantile of `values` ordered by `key`, by nearest rank; nil for none.
public func nearestRank<Element>(_ values: [Element], _ q: Double, by key: (Element) -> Double) -> Element? {
    guard !values.isEmpty else { return nil }
    let rank = Int((q * Double(values.count)).rounded(.up))
    return values.sorted { key($0) < key($1) }[min(max(rank, 1), values.count) - 1]
}
