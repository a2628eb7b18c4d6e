/// The bar chart of one workload: one horizontal bar per server, its
/// median rate written beside it, as a self-contained SVG document (no
/// script, no external style or font), every text escaped.
enum BenchChart {
    // Layout in SVG user units: a label column wide enough for a backend
    // or peer name, bars up to `barWidth`, room for the value on the right.
    static let labelWidth = 160
    static let barWidth = 440
    static let valueWidth = 200
    static let rowHeight = 28
    static let top = 48

    static func svg(_ rows: [BenchSummary], rounds: Int) -> String {
        let width = labelWidth + barWidth + valueWidth
        let height = top + rows.count * rowHeight + 16
        let largest = rows.compactMap { $0.median?.messagesPerSecond }.max() ?? 0
        let title = "\(rows.first?.label ?? "") — messages/s, median of \(rounds) round\(rounds == 1 ? "" : "s")"
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
                + "viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"13\">",
            "<title>\(escape(title))</title>",
            "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>",
            "<text x=\"8\" y=\"24\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>",
        ]
        for (index, row) in rows.enumerated() {
            let y = top + index * rowHeight
            let middle = y + rowHeight / 2 + 4
            lines.append(
                "<text x=\"\(labelWidth - 8)\" y=\"\(middle)\" text-anchor=\"end\">\(escape(row.server))</text>")
            guard let rate = row.median?.messagesPerSecond else {
                lines.append("<text x=\"\(labelWidth)\" y=\"\(middle)\" fill=\"#b00020\">FAILED</text>")
                continue
            }
            let length = largest > 0 ? max(1, Int((rate / largest * Double(barWidth)).rounded())) : 1
            let color = row.server == "epoll" ? "#4c72b0" : "#55a868"
            var value = "\(BenchTable.integer(rate))/s"
            if let ratio = row.ratioToEpoll { value += "  \(BenchTable.fixed(ratio, 2))× epoll" }
            lines.append(
                "<rect x=\"\(labelWidth)\" y=\"\(y + 4)\" width=\"\(length)\" height=\"\(rowHeight - 8)\" fill=\"\(color)\">"
                    + "<title>\(escape(row.server)): \(escape(value))</title></rect>")
            lines.append("<text x=\"\(labelWidth + length + 6)\" y=\"\(middle)\">\(escape(value))</text>")
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` safe inside an XML element or a double-quoted attribute.
    /// Control characters other than tab and newline, which XML 1.0
    /// forbids even escaped, become U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value):
                out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
