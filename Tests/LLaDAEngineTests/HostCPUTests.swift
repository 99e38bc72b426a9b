import Foundation
import LLaDABenchmarks
import LLaDAEngine
import XCTest

/// HostCPU: the CPU every benchmark records, parsed from /proc/cpuinfo texts of the hosts this
/// project has run on (Zen 3 without AVX-512, Zen 4, Zen 5) and of an ARM kernel.
final class HostCPUTests: XCTestCase {
    /// Two processors, as /proc/cpuinfo lists them; only the first entry is read.
    func cpuinfo(family: Int, model: Int, name: String, flags: String) -> String {
        let entry = { (processor: Int) in
            """
            processor\t: \(processor)
            vendor_id\t: AuthenticAMD
            cpu family\t: \(family)
            model\t\t: \(model)
            model name\t: \(name)
            stepping\t: 1
            cpu MHz\t\t: 2445.422
            flags\t\t: fpu vme sse sse2 \(flags) rdrand hypervisor
            bogomips\t: 4890.84

            """
        }
        return entry(0) + "\n" + entry(1).replacingOccurrences(of: "model name\t: \(name)", with: "model name\t: second")
    }

    func testZen4WithAVX512VNNI() throws {
        let cpu = HostCPU.parse(cpuinfo: cpuinfo(family: 25, model: 17, name: "AMD EPYC 9R14 96-Core Processor",
                                                 flags: "avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx512_bf16"))
        XCTAssertEqual(cpu.vendor, "AuthenticAMD")
        XCTAssertEqual(cpu.family, 25)
        XCTAssertEqual(cpu.model, 17)
        XCTAssertEqual(cpu.modelName, "AMD EPYC 9R14 96-Core Processor")
        XCTAssertEqual(cpu.microarchitecture, "Zen 4")
        XCTAssertEqual(cpu.flags, ["avx2", "avx512f", "avx512_vnni"])
        XCTAssertEqual(cpu.description, "AMD EPYC 9R14 96-Core Processor, family 25 model 17 (Zen 4), avx2 avx512f avx512_vnni")
    }

    func testZen5HasAVXVNNIAndZen3NoAVX512() {
        let zen5 = HostCPU.parse(cpuinfo: cpuinfo(family: 26, model: 2, name: "AMD EPYC",
                                                  flags: "avx2 avx_vnni avx512f avx512_vnni"))
        XCTAssertEqual(zen5.microarchitecture, "Zen 5")
        XCTAssertEqual(zen5.flags, ["avx2", "avx512f", "avx512_vnni", "avx_vnni"])
        XCTAssertEqual(zen5.description, "AMD EPYC, family 26 model 2 (Zen 5), avx2 avx512f avx512_vnni avx_vnni")

        let zen3 = HostCPU.parse(cpuinfo: cpuinfo(family: 25, model: 1, name: "AMD EPYC", flags: "avx avx2 fma"))
        XCTAssertEqual(zen3.microarchitecture, "Zen 3")
        XCTAssertEqual(zen3.flags, ["avx2"])
        XCTAssertEqual(zen3.description, "AMD EPYC, family 25 model 1 (Zen 3), avx2")
        // Flags are whole words: avx512f is not read out of avx512fp16, nor avx2 out of "avx2x".
        XCTAssertEqual(HostCPU.parse(cpuinfo: cpuinfo(family: 25, model: 97, name: "x", flags: "avx512fp16 avx2x")).flags, [])
        XCTAssertEqual(HostCPU.parse(cpuinfo: cpuinfo(family: 25, model: 97, name: "x", flags: "")).microarchitecture, "Zen 4")
    }

    func testOtherVendorsAndMissingFieldsAreUnknownNotGuessed() throws {
        let intel = HostCPU.parse(cpuinfo: cpuinfo(family: 6, model: 143, name: "Intel(R) Xeon(R) Platinum 8488C", flags: "avx2")
            .replacingOccurrences(of: "AuthenticAMD", with: "GenuineIntel"))
        XCTAssertEqual(intel.vendor, "GenuineIntel")
        XCTAssertNil(intel.microarchitecture)
        XCTAssertEqual(intel.description, "Intel(R) Xeon(R) Platinum 8488C, family 6 model 143, avx2")

        let arm = HostCPU.parse(cpuinfo: """
            processor\t: 0
            BogoMIPS\t: 243.75
            Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp i8mm
            CPU implementer\t: 0x41
            CPU part\t: 0xd0c

            """)
        XCTAssertEqual(arm.vendor, "unknown")
        XCTAssertNil(arm.family)
        XCTAssertNil(arm.model)
        XCTAssertEqual(arm.modelName, "unknown")
        XCTAssertEqual(arm.flags, ["asimddp", "i8mm"])
        XCTAssertEqual(arm.description, "unknown, asimddp i8mm")

        let empty = HostCPU.parse(cpuinfo: "")
        XCTAssertEqual(empty, HostCPU(vendor: "unknown", family: nil, model: nil, modelName: "unknown", flags: []))
        // In JSON the unknown numbers are null, not left out.
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(empty.json.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["vendor", "family", "model", "model_name", "microarchitecture", "flags", "description"])
        XCTAssertTrue(object["family"] is NSNull && object["model"] is NSNull && object["microarchitecture"] is NSNull)
    }

    func testJSONObject() throws {
        let cpu = HostCPU.parse(cpuinfo: cpuinfo(family: 25, model: 17, name: "AMD EPYC", flags: "avx2 avx512f avx512_vnni"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(cpu.json.utf8)) as? [String: Any])
        XCTAssertEqual(object["vendor"] as? String, "AuthenticAMD")
        XCTAssertEqual(object["family"] as? Int, 25)
        XCTAssertEqual(object["model"] as? Int, 17)
        XCTAssertEqual(object["model_name"] as? String, "AMD EPYC")
        XCTAssertEqual(object["microarchitecture"] as? String, "Zen 4")
        XCTAssertEqual(object["flags"] as? [String], ["avx2", "avx512f", "avx512_vnni"])
        XCTAssertEqual(object["description"] as? String, cpu.description)
    }

    /// The kernel benchmark's text header names the CPU and the level; every JSON row carries both.
    func testKernelBenchmarkRecordsTheCPUAndTheKernelLevel() throws {
        let context = try KernelContext(threads: 1)
        let header = KernelBenchmark.textHeader(context: context, repetitions: 1, peak: 900)
        XCTAssertEqual(header, ["cpu: " + HostCPU.current.description,
                                "kernels: \(KernelLevel.best.name) path, 1 threads; medians of ≥ 1 calls; int8 peak 900 GOP/s measured now",
                                KernelBenchmark.Row.tableHeader])
        let rows = KernelBenchmark.run(context: context, shapes: [(k: 64, n: 32)], rowCounts: [1], repetitions: 1, minimumSeconds: 0)
        XCTAssertEqual(rows.count, 3)
        for row in rows {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(row.json.utf8)) as? [String: Any], row.json)
            XCTAssertEqual(object["kernel_path"] as? String, KernelLevel.best.name, row.json)
            let cpu = try XCTUnwrap(object["cpu"] as? [String: Any], row.json)
            XCTAssertEqual(cpu["description"] as? String, HostCPU.current.description)
            XCTAssertEqual(cpu["model_name"] as? String, HostCPU.current.modelName)
        }
    }

    /// On Linux this machine's own entry parses to a known vendor, family and model.
    func testThisMachine() throws {
        #if os(Linux)
        let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        guard text.contains("vendor_id") else { throw XCTSkip("no x86 vendor_id in /proc/cpuinfo") }
        XCTAssertEqual(HostCPU.current, HostCPU.parse(cpuinfo: text))
        XCTAssertNotEqual(HostCPU.current.vendor, "unknown")
        XCTAssertNotNil(HostCPU.current.family)
        XCTAssertNotNil(HostCPU.current.model)
        #else
        throw XCTSkip("reads /proc/cpuinfo")
        #endif
    }
}
