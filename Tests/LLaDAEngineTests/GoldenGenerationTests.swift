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
