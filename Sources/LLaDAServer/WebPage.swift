import HTTPTypes
import Hummingbird
import NIOCore

/// The web page (`GET /`): HTML, CSS and JS compiled into the binary (SwiftPM `embedInCode`), so
/// `llada serve` needs no files beside it and the page no network. Sources: WebPage/.
enum WebPage {
    static let files: [String: (bytes: [UInt8], type: String)] = [
        "/": (PackageResources.index_html, "text/html; charset=utf-8"),
        "/web.css": (PackageResources.web_css, "text/css; charset=utf-8"),
        "/web.js": (PackageResources.web_js, "text/javascript; charset=utf-8"),
    ]

    static func response(for path: String) -> Response? {
        guard let file = files[path] else { return nil }
        // no-cache: a restarted (perhaps upgraded) server's page is fetched again.
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
