import Foundation
import XCTest

/// The CLI on a real terminal, driven in tmux (skipped when tmux is not installed): the live
/// canvas of `--visual`, and an interactive chat. `Benchmarks/record-session.sh` records the
/// same kind of session into Benchmarks/results/session.txt.
final class TerminalSessionTests: XCTestCase {
    /// A private tmux server per test, with a fixed-size window.
    final class Tmux {
        let socket: String
        let log: URL
        let starter = Process()

        init(command: String) throws {
            let name = FileManager.default.temporaryDirectory.appendingPathComponent("llada-tmux-\(UUID().uuidString.prefix(8))").path
            socket = name + ".sock"
            log = URL(fileURLWithPath: name + ".log")
            // The pane waits for a key so that its output is recorded from the first byte.
            // The server inherits the descriptor swift-corelibs-foundation uses to notice the
            // client's exit, so waiting for this client would last as long as the server.
            starter.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            starter.arguments = ["tmux", "-S", socket, "new-session", "-d", "-s", "t", "-x", "100", "-y", "30",
                                 "read go; \(command); echo; echo EXIT=$?; sleep 30"]
            starter.standardOutput = FileHandle.nullDevice
            starter.standardError = FileHandle.nullDevice
            try starter.run()
            for _ in 0..<100 {
                if try run(["list-sessions"]).hasPrefix("t:") { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            try run(["pipe-pane", "-t", "t", "-o", "cat >> \(log.path)"])
            try send("Enter")
        }

        deinit {
            _ = try? run(["kill-server"])
            try? FileManager.default.removeItem(at: log)
            try? FileManager.default.removeItem(atPath: socket)
        }

        /// A tmux client command against the running server.
        @discardableResult
        func run(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["tmux", "-S", socket] + arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }

        func send(_ keys: String...) throws { try run(["send-keys", "-t", "t"] + keys) }
        func screen() throws -> String { try run(["capture-pane", "-p", "-t", "t"]) }
        var raw: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// Polls the screen until `predicate` holds (generous limit: the machine may be busy).
        func wait(for description: String, _ predicate: (String) -> Bool) throws -> String {
            for _ in 0..<600 {
                let screen = try screen()
                if predicate(screen) { return screen }
                Thread.sleep(forTimeInterval: 0.1)
            }
            XCTFail("timed out waiting for \(description); screen:\n\(try screen())\nsessions: \(try run(["list-sessions"]))\noutput: \(raw)")
            return try screen()
        }
    }

    func tmux(_ command: String) throws -> Tmux {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/tmux")
        else { throw XCTSkip("tmux is not installed") }
        return try Tmux(command: command)
    }

    var llada: String { CLITests.executable.path }
    var model: String { FixturePaths.model.path }

    func testVisualRedrawsTheCanvasThenLeavesTheAnswer() throws {
        let session = try tmux("\(llada) generate --model \(model) --prompt 'sort: 6 5 9 2 8' --gen-length 32 --steps 32 --block-length 8 --visual --threads 1 --no-early-stop")
        let screen = try session.wait(for: "the end of the run") { $0.contains("EXIT=") }
        XCTAssertTrue(screen.contains("2 5 6 8 9\n"), screen)
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
        XCTAssertFalse(screen.contains("░"), "the canvas is erased at the end")
        let raw = session.raw
        // Frames: a status line each, masks shown as ░, new tokens in reverse video, redrawn in place.
        // Without early stop the last step (no masks left) is always drawn, however fast the run.
        let frames = raw.components(separatedBy: "step ").count - 1
        XCTAssertGreaterThanOrEqual(frames, 2, raw)
        XCTAssertTrue(raw.contains("step 1/32"), "the first step is always drawn")
        XCTAssertTrue(raw.contains("░"))
        XCTAssertTrue(raw.contains("\u{1B}[7m"))
        XCTAssertTrue(raw.contains("\u{1B}[J"))
    }

    func testInteractiveChatShowsPromptsAndAnswers() throws {
        let session = try tmux("\(llada) chat --model \(model) --gen-length 32 --steps 32 --block-length 32 --threads 1")
        // capture-pane drops trailing blanks: the "> " prompt shows as ">".
        _ = try session.wait(for: "the banner") { $0.contains("/quit\n>") }
        try session.send("reverse: daczsb", "Enter")
        _ = try session.wait(for: "the first answer") { $0.contains("bszcad") }
        try session.send("/settings", "Enter")
        _ = try session.wait(for: "the settings") { $0.contains("1 turn\n") }
        try session.send("/quit", "Enter")
        let screen = try session.wait(for: "the end") { $0.contains("EXIT=") }
        XCTAssertTrue(screen.contains("> reverse: daczsb\nbszcad\n"), screen)
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
    }
}
