import Foundation
#if canImport(Darwin)
import Darwin
#endif

/// The CPU a benchmark ran on, recorded beside its figures (`llada bench`, the kernel benchmark,
/// the scripts in Benchmarks/). Hosts of one machine kind differ: the same VM has come up as
/// AMD Zen 4 (family 25), Zen 5 (family 26: twice the AVX-512 int8 rate, and AVX-VNNI) and an
/// AVX2-only Zen 3 (family 25 model 1), so a speed means something only next to the CPU it was
/// measured on (Benchmarks/README.md, "Hosts").
///
/// Read from /proc/cpuinfo on Linux (the first processor), from sysctl on Darwin; what cannot be
/// read is "unknown" or null.
public struct HostCPU: Encodable, Sendable, Equatable {
    /// `vendor_id`: AuthenticAMD, GenuineIntel, …; "unknown" when not reported (most ARM kernels).
    public let vendor: String
    /// `cpu family` and `model`, decimal as /proc/cpuinfo prints them; nil when not reported.
    public let family: Int?
    public let model: Int?
    /// `model name` ("AMD EPYC 9R14 96-Core Processor"; a VM may show only "AMD EPYC").
    public let modelName: String
    /// Zen 3, Zen 4, Zen 5, … from the AMD family and model; nil where not mapped.
    public let microarchitecture: String?
    /// The flags of interest (`flagsOfInterest`) the CPU reports, in that order.
    public let flags: [String]

    /// The instruction-set flags the kernels' speed depends on: the AVX2 and AVX-512 levels,
    /// AVX-512 VNNI (`vpdpbusd` on zmm), AVX-VNNI (the VEX form, Zen 5 / Alder Lake on), and the
    /// ARM dot-product extensions.
    public static let flagsOfInterest = ["avx2", "avx512f", "avx512_vnni", "avx_vnni", "asimddp", "i8mm"]

    public init(vendor: String, family: Int?, model: Int?, modelName: String, flags: [String]) {
        self.vendor = vendor
        self.family = family
        self.model = model
        self.modelName = modelName
        self.flags = flags
        microarchitecture = Self.microarchitecture(vendor: vendor, family: family, model: model)
    }

    /// The CPU of this process's machine (read once).
    public static let current: HostCPU = {
        #if os(Linux)
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) { return parse(cpuinfo: text) }
        return HostCPU(vendor: "unknown", family: nil, model: nil, modelName: "unknown", flags: [])
        #elseif canImport(Darwin)
        return fromSysctl()
        #else
        return HostCPU(vendor: "unknown", family: nil, model: nil, modelName: "unknown", flags: [])
        #endif
    }()

    /// The first processor's entry of a /proc/cpuinfo text (x86: `vendor_id`, `cpu family`,
    /// `model`, `model name`, `flags`; ARM: `Features`).
    public static func parse(cpuinfo text: String) -> HostCPU {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if fields.isEmpty { continue } else { break }   // the end of the first processor's entry
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        let present = Set((fields["flags"] ?? fields["Features"] ?? "").split(separator: " ").map(String.init))
        func named(_ key: String) -> String { fields[key].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown" }
        return HostCPU(vendor: named("vendor_id"), family: fields["cpu family"].flatMap { Int($0) },
                       model: fields["model"].flatMap { Int($0) }, modelName: named("model name"),
                       flags: flagsOfInterest.filter(present.contains))
    }

    #if canImport(Darwin)
    static func fromSysctl() -> HostCPU {
        func string(_ name: String) -> String? {
            var size = 0
            guard sysctlbyname(name, nil, &size, nil, 0) == 0, size > 0 else { return nil }
            var bytes = [CChar](repeating: 0, count: size)
            guard sysctlbyname(name, &bytes, &size, nil, 0) == 0 else { return nil }
            return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        func integer(_ name: String) -> Int? {
            var value: Int32 = 0
            var size = MemoryLayout<Int32>.size
            guard sysctlbyname(name, &value, &size, nil, 0) == 0 else { return nil }
            return Int(value)
        }
        let sysctlFlags = ["avx2": "hw.optional.avx2_0", "avx512f": "hw.optional.avx512f", "avx512_vnni": "hw.optional.avx512vnni",
                           "asimddp": "hw.optional.arm.FEAT_DotProd", "i8mm": "hw.optional.arm.FEAT_I8MM"]
        return HostCPU(vendor: string("machdep.cpu.vendor") ?? "unknown", family: integer("machdep.cpu.family"),
                       model: integer("machdep.cpu.model"), modelName: string("machdep.cpu.brand_string") ?? "unknown",
                       flags: flagsOfInterest.filter { sysctlFlags[$0].flatMap(integer) == 1 })
    }
    #endif

    /// AMD's families 23, 25 and 26 by model range; nil for the rest (not worth a table).
    static func microarchitecture(vendor: String, family: Int?, model: Int?) -> String? {
        guard vendor == "AuthenticAMD", let family else { return nil }
        switch family {
        case 23: return model.map { $0 < 0x30 ? "Zen/Zen+" : "Zen 2" }
        case 25:
            guard let model else { return "Zen 3/Zen 4" }
            switch model {
            case 0x00...0x0F, 0x20...0x2F, 0x40...0x5F: return "Zen 3"
            case 0x10...0x1F, 0x60...0x7F, 0xA0...0xAF: return "Zen 4"
            default: return "Zen 3/Zen 4"
            }
        case 26: return "Zen 5"
        default: return nil
        }
    }

    /// One line: "AMD EPYC, family 25 model 17 (Zen 4), avx2 avx512f avx512_vnni".
    public var description: String {
        var line = modelName
        if let family, let model { line += ", family \(family) model \(model)" }
        if let microarchitecture { line += " (\(microarchitecture))" }
        return flags.isEmpty ? line : line + ", " + flags.joined(separator: " ")
    }

    /// One JSON object, keys sorted: description, family, flags, microarchitecture, model,
    /// model_name, vendor (family, model and microarchitecture null when unknown).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Cannot fail: strings, integers and nulls.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    enum CodingKeys: String, CodingKey {
        case vendor, family, model, modelName = "model_name", microarchitecture, flags, description
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(vendor, forKey: .vendor)
        try container.encode(family, forKey: .family)   // null when unknown, not left out
        try container.encode(model, forKey: .model)
        try container.encode(modelName, forKey: .modelName)
        try container.encode(microarchitecture, forKey: .microarchitecture)
        try container.encode(flags, forKey: .flags)
        try container.encode(description, forKey: .description)
    }
}
