// Fuzz target: see Tests/Fuzz/run.sh and FuzzEntry.tokenizerJSON.
@_spi(Fuzzing) import LLaDAEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzEntry.tokenizerJSON(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}
