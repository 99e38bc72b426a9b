// Fuzz target: arbitrary bytes as text through the tokenizer of LLADA_FUZZ_TOKENIZER (a directory
// with tokenizer.json; run.sh passes the fixture's). See Tests/Fuzz/run.sh and FuzzEntry.encode.
import Foundation
@_spi(Fuzzing) import LLaDAEngine

let tokenizer: Tokenizer = {
    guard let directory = ProcessInfo.processInfo.environment["LLADA_FUZZ_TOKENIZER"] else {
        fatalError("set LLADA_FUZZ_TOKENIZER to a directory holding tokenizer.json")
    }
    do { return try Tokenizer(directory: URL(fileURLWithPath: directory)) } catch { fatalError("\(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzEntry.encode(UnsafeRawBufferPointer(start: data, count: count), with: tokenizer)
    return 0
}
