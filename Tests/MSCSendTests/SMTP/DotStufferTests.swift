import Testing
@testable import MSCSend

@Suite struct DotStufferTests {
  private func stuff(_ input: String, chunkSize: Int = 1_000) -> String {
    var stuffer = DotStuffer()
    var output: [UInt8] = []
    let bytes = Array(input.utf8)
    var offset = 0
    while offset < bytes.count {
      let end = min(offset + chunkSize, bytes.count)
      stuffer.process(bytes[offset..<end], into: &output)
      offset = end
    }
    stuffer.finish(into: &output)
    return String(decoding: output, as: UTF8.self)
  }

  @Test(arguments: [1, 2, 5, 1_000])
  func edgeCases(chunkSize: Int) {
    #expect(stuff(".starts with a dot\r\n", chunkSize: chunkSize) == "..starts with a dot\r\n.\r\n")
    #expect(stuff("a\r\n.\r\nb\r\n", chunkSize: chunkSize) == "a\r\n..\r\nb\r\n.\r\n")
    #expect(stuff("no final line break", chunkSize: chunkSize) == "no final line break\r\n.\r\n")
    #expect(stuff("bare\nLF\n.dot", chunkSize: chunkSize) == "bare\r\nLF\r\n..dot\r\n.\r\n")
    #expect(stuff("bare\rCR\r", chunkSize: chunkSize) == "bare\r\nCR\r\n.\r\n")
    #expect(stuff("mid. dot .\r\n..two\r\n", chunkSize: chunkSize) == "mid. dot .\r\n...two\r\n.\r\n")
    #expect(stuff("", chunkSize: chunkSize) == ".\r\n")
    #expect(stuff(".", chunkSize: chunkSize) == "..\r\n.\r\n")
    #expect(stuff("x\r\n\r\n", chunkSize: chunkSize) == "x\r\n\r\n.\r\n")
  }
}
