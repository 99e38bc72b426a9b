// Fuzz target: a request body of `llada serve`. See Tests/Fuzz/run.sh and ServerFuzzEntry.
import LLaDAServerRequests

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> CInt {
    ServerFuzzEntry.requestBody(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}
