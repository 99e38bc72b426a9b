import Foundation
import XCTest

/// `llada infill` on the fixture: holes filled, JSON fields, one-line errors.
final class InfillCLITests: XCTestCase {
    let model = FixturePaths.model.path

    func testFillsTheHolesOfAnAnswer() throws {
        let run = try CLIRunner.run(["infill", "--model", model, "--prompt", "sort: 6 5 9 2 8", "--text", "2 5 [MASK] 8 9", "--threads", "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "2 5 6 8 9\n")
        XCTAssertEqual(run.stderr, "")

        let json = try CLIRunner.run(["infill", "--model", model, "--prompt", "reverse: daczsb", "--text", "-", "--json", "--threads", "1"],
                                     stdin: "bs[MASK*2]ad")
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(object["fills"] as? [String], ["zc"])
        XCTAssertEqual(object["text"] as? String, "bszcad")
        let canvas = object["canvas_ids"] as! [Int], output = object["output_ids"] as! [Int]
        XCTAssertEqual(canvas.filter { $0 == 492 }.count, 2)
        XCTAssertEqual(canvas.suffix(33), [495] + Array(repeating: 481, count: 32), "answer end and padding follow the text")
        XCTAssertFalse(output.contains(492))
        for (index, id) in canvas.enumerated() where id != 492 { XCTAssertEqual(output[index], id) }
        XCTAssertEqual(object["model_calls"] as? Int, 2, "one step per hole")
    }

    func testBadInputsGiveOneErrorLine() throws {
        let cases: [([String], String)] = [
            (["--text", "a [MASK*0] b"], "malformed mask placeholder \"[MASK*0]\" at character 3"),
            (["--text", "no holes"], "no mask placeholder"),
            (["--text", "a [MASK]", "--gen-length", "8"], "--gen-length does not apply to infill"),
            (["--text", "a [MASK]", "--padding", "4"], "--padding applies only with --prompt"),
            (["--text", "abc [MASK*4]", "--block-length", "5"], "--block-length 5 must divide the canvas length"),
            (["--text", "[MASK*300]"], "max_sequence_length 256"),
        ]
        for (arguments, fragment) in cases {
            let run = try CLIRunner.run(["infill", "--model", model] + arguments)
            XCTAssertNotEqual(run.status, 0, "\(arguments)")
            XCTAssertEqual(run.stdout, "", "\(arguments)")
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.hasPrefix("error: ") && run.stderr.contains(fragment), "\(arguments): \(run.stderr)")
        }
    }
}
