import Foundation
import Testing
@testable import TorsionBench

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Collects the text and the `rect` elements of an SVG document.
final class SVGCollector: NSObject, XMLParserDelegate {
    var texts: [String] = []
    var rects = 0
    var root: String?
    private var current = ""

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if root == nil { root = name }
        if name == "rect" { rects += 1 }
        current = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" || name == "title" { texts.append(current) }
        current = ""
    }
}

/// Parses `svg`; `nil` when it is not well-formed XML.
func parseSVG(_ svg: String) -> SVGCollector? {
    let parser = XMLParser(data: Data(svg.utf8))
    let collector = SVGCollector()
    parser.delegate = collector
    return parser.parse() ? collector : nil
}

@Suite("torsion bench charts")
struct BenchChartTests {
    @Test("a chart is well-formed SVG with one bar and one label per measured server and FAILED for the others")
    func wellFormed() throws {
        var plan = try makePlan(backends: "epoll,poll", workloads: "echo", rounds: 3)
        plan.servers.append(.peer(name: "dead", command: "x"))
        let runs = [record(1, "epoll", 200), record(1, "poll", 100), record(1, "dead", nil)]
        let summaries = BenchSummary.summarize(plan: plan, records: runs)
        let svg = BenchChart.svg(summaries, rounds: 3)
        let parsed = try #require(parseSVG(svg), "not well-formed:\n\(svg)")
        #expect(parsed.root == "svg")
        #expect(parsed.rects == 3)  // the background and two bars
        #expect(parsed.texts.contains("epoll") && parsed.texts.contains("poll") && parsed.texts.contains("dead"))
        #expect(parsed.texts.contains("200/s  1.00× epoll"))
        #expect(parsed.texts.contains("100/s  0.50× epoll"))
        #expect(parsed.texts.contains("FAILED"))
        #expect(parsed.texts.contains("echo 64×64B — messages/s, median of 3 rounds"))
        #expect(!svg.contains("<script") && !svg.contains("href"))
    }

    @Test("names with markup characters and control characters are escaped and stay well-formed")
    func escaping() throws {
        let name = "a<b>&\"c'\u{1}"
        let summary = BenchSummary(
            workload: "echo", label: "echo <1>", server: name, median: result(10), minRate: 10, maxRate: 10,
            ratioToEpoll: nil, rounds: 1, failures: [])
        let svg = BenchChart.svg([summary], rounds: 1)
        #expect(!svg.contains("<b>") && svg.contains("a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"))
        let parsed = try #require(parseSVG(svg), "not well-formed:\n\(svg)")
        #expect(parsed.texts.contains("a<b>&\"c'\u{FFFD}"))
        #expect(parsed.texts.contains("echo <1> — messages/s, median of 1 round"))
    }

    @Test("bars are proportional to the rate, the largest filling the bar area")
    func proportions() {
        let rows = [("x", 400), ("y", 100)].map { name, rate in
            BenchSummary(
                workload: "echo", label: "echo", server: name, median: result(rate), minRate: nil, maxRate: nil,
                ratioToEpoll: nil, rounds: 1, failures: [])
        }
        let svg = BenchChart.svg(rows, rounds: 1)
        #expect(svg.contains("width=\"\(BenchChart.barWidth)\" height"))
        #expect(svg.contains("width=\"\(BenchChart.barWidth / 4)\" height"))
    }
}
