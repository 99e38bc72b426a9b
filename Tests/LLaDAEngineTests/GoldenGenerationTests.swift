import Foundation
import LLaDAEngine
import XCTest

/// The sampler + f32 model against ML-GSAI/LLaDA generate.py outputs (generate.json).
final class GoldenGenerationTests: XCTestCase {
    static func settings(from json: [String: Any]) -> GenerationSettings {
        var settings = GenerationSettings()
        settings.genLength = json["gen_length"] as! Int
        settings.steps = json["steps"] as! Int
        settings.blockLength = json["block_length"] as! Int
        settings.cfgScale = (json["cfg_scale"] as? Double) ?? 0
        return settings
    }

    func testEveryPromptAndSettingIsTokenIdentical() throws {
        let transformer = try FixturePaths.transformer()
        let golden = try FixturePaths.goldenJSON("generate.json")
        let maskID = golden["mask_token_id"] as! Int
        let settingsList = golden["settings"] as! [[String: Any]]
        let prompts = golden["prompts"] as! [[String: Any]]
        XCTAssertEqual(prompts.count, 12)
        var compared = 0
        for setting in settingsList {
            let name = setting["name"] as! String
            let sampler = Sampler(settings: Self.settings(from: setting), maskID: maskID)
            for prompt in prompts {
                let expected = (prompt["outputs"] as! [String: Any])[name] as! [String: Any]
                let result = sampler.generate(prompt: prompt["prompt_ids"] as! [Int], model: transformer)
                XCTAssertEqual(result.outputIDs, expected["output_ids"] as! [Int], "\(prompt["id"]!) \(name)")
                XCTAssertEqual(result.decodedAtStep, expected["decoded_at_step"] as! [Int], "\(prompt["id"]!) \(name) commit order")
                compared += 1
            }
        }
        XCTAssertEqual(compared, 60)
    }
}

/// The cached and parallel samplers against NVlabs/Fast-dLLM outputs (cache.json).
final class GoldenCacheTests: XCTestCase {
    static func settings(from json: [String: Any], storage: KVCache.Storage) -> GenerationSettings {
        var settings = GoldenGenerationTests.settings(from: json)
        settings.cache = switch json["method"] as! String {
        case "prefix_cache": .prefix
        case "dual_cache": .dual
        default: .none
        }
        settings.threshold = json["threshold"] as? Double
        settings.kvStorage = storage
        return settings
    }

    /// Outputs identical to Fast-dLLM for every prompt and setting. Model calls equal Fast-dLLM's
    /// `nfe` or fewer: Fast-dLLM's cached loops make one cached call even after a block's full
    /// pass already filled it (a call that commits nothing); we skip it.
    func compare(storage: KVCache.Storage, earlyStop: Bool = false) throws -> (matches: Int, total: Int, mismatches: [String]) {
        let transformer = try FixturePaths.transformer()
        let golden = try FixturePaths.goldenJSON("cache.json")
        let maskID = golden["mask_token_id"] as! Int
        var matches = 0, total = 0
        var mismatches: [String] = []
        for setting in golden["settings"] as! [[String: Any]] {
            let name = setting["name"] as! String
            var settings = Self.settings(from: setting, storage: storage)
            settings.earlyStop = earlyStop
            let sampler = Sampler(settings: settings, maskID: maskID, eosID: 481, eotID: 495)
            for prompt in golden["prompts"] as! [[String: Any]] {
                let expected = (prompt["outputs"] as! [String: Any])[name] as! [String: Any]
                let result = sampler.generate(prompt: prompt["prompt_ids"] as! [Int], model: transformer)
                total += 1
                if result.outputIDs == expected["output_ids"] as! [Int] && (earlyStop || result.modelCalls <= expected["nfe"] as! Int) {
                    matches += 1
                } else {
                    mismatches.append("\(prompt["id"]!) \(name): calls \(result.modelCalls) vs \(expected["nfe"]!)")
                }
            }
        }
        return (matches, total, mismatches)
    }

    func testF32CacheIsTokenIdenticalToFastDLLM() throws {
        let (matches, total, mismatches) = try compare(storage: .f32)
        XCTAssertEqual(total, 108)
        XCTAssertEqual(matches, total, "\(mismatches)")
    }

    func testF16CacheAgreesWithFastDLLM() throws {
        let (matches, total, mismatches) = try compare(storage: .f16)
        XCTAssertEqual(matches, total, "\(mismatches)")
    }
}

extension GoldenGenerationTests {
    /// Early stop fills the canvas with the padding the reference would have generated anyway,
    /// on every golden prompt and setting, and saves steps where a block ended in padding.
    func testEarlyStopKeepsTheReferenceOutputs() throws {
        let transformer = try FixturePaths.transformer()
        let golden = try FixturePaths.goldenJSON("generate.json")
        var saved = 0
        for setting in golden["settings"] as! [[String: Any]] {
            var settings = Self.settings(from: setting)
            settings.earlyStop = true
            let sampler = Sampler(settings: settings, maskID: golden["mask_token_id"] as! Int, eosID: 481, eotID: 495)
            for prompt in golden["prompts"] as! [[String: Any]] {
                let expected = (prompt["outputs"] as! [String: Any])[setting["name"] as! String] as! [String: Any]
                let result = sampler.generate(prompt: prompt["prompt_ids"] as! [Int], model: transformer)
                XCTAssertEqual(result.outputIDs, expected["output_ids"] as! [Int], "\(prompt["id"]!)")
                XCTAssertEqual(result.modelCalls + result.stepsSaved, settings.steps)
                saved += result.stepsSaved
            }
        }
        XCTAssertGreaterThan(saved, 0)
    }
}
