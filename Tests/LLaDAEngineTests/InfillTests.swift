import Foundation
import LLaDAEngine
import XCTest

/// Infilling: placeholder parsing, the canvas, and the sampler filling only the holes.
final class InfillTests: XCTestCase {
    func testPlaceholdersParse() throws {
        XCTAssertEqual(try InfillText(parsing: "a [MASK] b [MASK*3][MASK]c").pieces,
                       [.text("a "), .masks(1), .text(" b "), .masks(4), .text("c")])
        XCTAssertEqual(try InfillText(parsing: "[MASK*12]").pieces, [.masks(12)])
        XCTAssertEqual(try InfillText(parsing: "x[MASK*2]").maskCount, 2)
        XCTAssertEqual(try InfillText(parsing: "[mask] is literal, [MASK]").pieces, [.text("[mask] is literal, "), .masks(1)])
    }

    func testMalformedPlaceholdersAreErrorsNamingThem() {
        let cases = [("a [MASK*0] b", "\"[MASK*0]\" at character 3"), ("[MASK*x]", "\"[MASK*x]\""), ("ab[MASK", "\"[MASK\" at character 3"),
                     ("[MASK*-2]", "[MASK*-2]"), ("[MASK* 2]", "[MASK* 2]"), ("[MASK*65537]", "[MASK*65537]"),
                     ("[MASKED]", "[MASKED]"), ("no holes", "no mask placeholder")]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try InfillText(parsing: text), text) { error in
                let message = (error as? PlanError)?.message.message ?? ""
                XCTAssertTrue(message.contains(fragment), "\(text): \(message)")
                XCTAssertFalse(message.contains("\n"))
            }
        }
    }

    func testCanvasTokenizesTheTextPiecesAndMarksTheHoles() throws {
        let tokenizer = try Tokenizer(directory: FixturePaths.model)
        let (ids, holes) = try InfillText(parsing: "2 5 [MASK] 8 [MASK*2]").canvas(tokenizer: tokenizer, maskID: 492)
        XCTAssertEqual(ids, tokenizer.encode("2 5 ") + [492] + tokenizer.encode(" 8 ") + [492, 492])
        XCTAssertEqual(holes, [4..<5, 8..<10])
    }

    /// Fixed ids of the canvas stay, only masks are filled; an all-mask canvas is the plain run.
    func testTheSamplerFillsOnlyTheHoles() {
        let model = SamplerTests.FakeModel(vocabulary: 4) { _, position in [Float(position % 3), 1, 0.5, -20] }
        var settings = GenerationSettings()
        settings.genLength = 6
        settings.steps = 2
        settings.blockLength = 3
        let sampler = Sampler(settings: settings, maskID: 3)
        let canvas = [3, 2, 3, 1, 3, 3]
        let filled = sampler.generate(prompt: [0], canvas: canvas, model: model)
        for (index, id) in canvas.enumerated() where id != 3 { XCTAssertEqual(filled.outputIDs[index], id) }
        XCTAssertFalse(filled.outputIDs.contains(3))
        XCTAssertEqual(filled.decodedAtStep[1], -1, "a fixed id is never committed")
        let plain = sampler.generate(prompt: [0], model: model)
        let allMasks = sampler.generate(prompt: [0], canvas: Array(repeating: 3, count: 6), model: model)
        XCTAssertEqual(plain.outputIDs, allMasks.outputIDs)
        XCTAssertEqual(plain.decodedAtStep, allMasks.decodedAtStep)
    }

    /// On the fixture: the hole of a sorted answer is filled with the missing number.
    func testFixtureFillsTheMissingNumber() throws {
        let model = try LLaDAModel.load(path: FixturePaths.model.path, compute: ComputeContext(threads: 1))
        let (canvas, holes) = try InfillText(parsing: "2 5 [MASK] 8 9").canvas(tokenizer: model.tokenizer, maskID: model.maskID)
        let padded = canvas + [model.endOfTurnID!] + Array(repeating: model.eosID!, count: 32)
        var settings = GenerationSettings()
        settings.genLength = padded.count
        settings.blockLength = padded.count
        settings.steps = 1
        let result = try model.generate(promptIDs: try model.promptIDs(for: "sort: 6 5 9 2 8", raw: false), canvas: padded, settings: settings)
        XCTAssertEqual(try model.tokenizer.decode(Array(result.outputIDs[holes[0]]), skipSpecialTokens: true), "6")
        XCTAssertEqual(try model.answerText(result.outputIDs), "2 5 6 8 9")
        XCTAssertThrowsError(try model.generate(promptIDs: [480], canvas: [492], settings: settings)) { error in
            XCTAssertTrue("\(error)".contains("canvas holds 1 tokens"), "\(error)")
        }
    }
}
