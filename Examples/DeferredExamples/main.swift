// The Deferred examples of the seed write-up (section 1.3), ported to
// Torsion. Each prints what the Python original prints. Example 3-4 needs
// time to pass; here a deterministic Clock stands in for the reactor so the
// program runs instantly and always prints the same thing.
import TorsionCore

func section(_ title: String) { print("\n== \(title)") }

// Example 3-1: a callback.
section("Example 3-1")
do {
    let d = Deferred<String>()
    d.addCallback { result in print(result) }
    try d.callback("ok")
}

// Example 3-2: an errback.
section("Example 3-2")
do {
    let d = Deferred<Void>()
    d.addErrback { failure in print(failure) }
    try d.errback(message: "errback")
}

// Example 3-3: a chain of callbacks, each result feeding the next.
section("Example 3-3")
do {
    let d = Deferred<String>()
    d.addCallback { "<b>\($0)</b>" }
        .addCallback { "<i>\($0)</i>" }
        .addCallback { print($0) }
    try d.callback("hello")
}

// addCallbacks: a callback and an errback on one level.
section("addCallbacks")
do {
    let d = Deferred<String>()
    d.addCallbacks({ print($0) }, { print($0) })
    try d.callback("come on")
}

// Example 3-4: a headline retriever firing its Deferred from callLater.
section("Example 3-4")
final class HeadlineRetriever {
    let clock: any ReactorTime
    var d = Deferred<String>()

    init(clock: any ReactorTime) { self.clock = clock }

    func processHeadline(_ headline: String) {
        print("processing")
        if headline.count > 50 {
            try? d.errback(message: "The headline ``\(headline)'' is too long!")
        } else {
            try? d.callback(headline)
        }
    }

    func toHTML(_ result: String) -> String { "<h1>\(result)</h1>" }

    func getHeadline(_ input: String) -> Deferred<String> {
        d = Deferred<String>()
        clock.callLater(5) { self.processHeadline(input) }
        return d.addCallback(toHTML)
    }
}

let clock = Clock()
for input in ["Breaking news: Twisted Takes Us to the Moon!", String(repeating: "123456789", count: 6)] {
    let retriever = HeadlineRetriever(clock: clock)
    retriever.getHeadline(input).addCallbacks(
        { print($0) },
        { print($0) })
    clock.advance(5)
}
