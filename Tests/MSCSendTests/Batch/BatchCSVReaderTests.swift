import Foundation
import Testing
@testable import MSCSend

@Suite struct BatchCSVReaderTests {
  /// RFC 4180 section 2 and the spreadsheet habits `CSVReader` accepts: input, then every record.
  @Test(arguments: [
    ("a,b\n1,2\n", [ReadOutcome.row(number: 1, line: 2, ["a": "1", "b": "2"])]),
    (
      "a,b\r\n1,2\r\n3,4",  // CRLF; the last record has no line end (section 2 (2))
      [.row(number: 1, line: 2, ["a": "1", "b": "2"]), .row(number: 2, line: 3, ["a": "3", "b": "4"])]
    ),
    ("a,b\r1,2\r", [.row(number: 1, line: 2, ["a": "1", "b": "2"])]),  // lone CR, as old Mac files
    (
      "name,note\r\n\"Doe, Jane\",\"one\r\ntwo \"\"q\"\"\"\r\nx,y\r\n",  // section 2 (5)-(7)
      [
        .row(number: 1, line: 2, ["name": "Doe, Jane", "note": "one\r\ntwo \"q\""]),
        .row(number: 2, line: 4, ["name": "x", "note": "y"]),
      ]
    ),
    (
      "a,b\n\"1\n\n2\",x\n3,y\n",  // an empty line inside quotes is data, and counted
      [.row(number: 1, line: 2, ["a": "1\n\n2", "b": "x"]), .row(number: 2, line: 5, ["a": "3", "b": "y"])]
    ),
    ("a,b,c\n,,\n", [.row(number: 1, line: 2, ["a": "", "b": "", "c": ""])]),
    ("a,b\n\"\",\"\"\"\"\n", [.row(number: 1, line: 2, ["a": "", "b": "\""])]),
    ("\u{FEFF}email\nx@y.test\n", [.row(number: 1, line: 2, ["email": "x@y.test"])]),  // Excel's BOM
    (
      "a\n\n1\r\n\r\n\n2\n\n",  // empty lines are skipped, not records
      [.row(number: 1, line: 3, ["a": "1"]), .row(number: 2, line: 6, ["a": "2"])]
    ),
    (" a , b \n1,2\n", [.row(number: 1, line: 2, [" a ": "1", " b ": "2"])]),  // names exactly as written
    ("a,b\n", []),
    (
      "名前,ort\n山田 太郎,Göteborg\n\"李, 小龙\",Milano\n",
      [
        .row(number: 1, line: 2, ["名前": "山田 太郎", "ort": "Göteborg"]),
        .row(number: 2, line: 3, ["名前": "李, 小龙", "ort": "Milano"]),
      ]
    ),
  ])
  func readsRecords(input: String, expected: [ReadOutcome]) throws {
    #expect(try csvOutcomes(input) == expected)
  }

  /// Bad records are row errors, with the record number and its first line; the rows after them
  /// are still read.
  @Test(arguments: [
    (
      "a,b\n1\n1,2,3\n4,5\n6,\n",
      [
        ReadOutcome.error("row 1 (line 2): has 1 field, the header row has 2"),
        .error("row 2 (line 3): has 3 fields, the header row has 2"),
        .row(number: 3, line: 4, ["a": "4", "b": "5"]),
        .row(number: 4, line: 5, ["a": "6", "b": ""]),
      ]
    ),
    (
      "a,b\nx\"y,2\n3,4\n",
      [
        .error(
          "row 1 (line 2): field 1 (a) has a quote inside an unquoted value: quote the field and double the quote"),
        .row(number: 2, line: 3, ["a": "3", "b": "4"]),
      ]
    ),
    (
      "a,b\n1, \"x\"\n",
      [.error("row 1 (line 2): field 2 (b) has a space before its opening quote: remove it, or quote the whole field")]
    ),
    (
      "a,b\n\"x\"y,2\n\"multi\nline\",3\n",
      [
        .error(
          "row 1 (line 2): field 1 (a) has text after its closing quote: a quote inside quotes is written twice (\"\")"
        ),
        .row(number: 2, line: 3, ["a": "multi\nline", "b": "3"]),
      ]
    ),
    ("a,b\n1,2,\n", [.error("row 1 (line 2): has 3 fields, the header row has 2")]),  // a trailing comma
  ])
  func reportsBadRecords(input: String, expected: [ReadOutcome]) throws {
    #expect(try csvOutcomes(input) == expected)
  }

  @Test func invalidUTF8IsARowErrorNamingTheColumn() throws {
    let latin1 = Array("email,name\n".utf8) + [0x61, 0xE9, 0x2C, 0x62, 0x0A] + Array("c,d\n".utf8)
    var reader = try CSVReader(bytes: latin1)
    let first = try #require(try reader.next())
    guard case .failure(let error) = first else {
      Issue.record("expected a row error, got \(first)")
      return
    }
    #expect(error.message == "row 1 (line 2): field 1 (email) is not valid UTF-8: save the file as UTF-8")
    #expect(error.kind == .invalidUTF8)
    #expect(error.variable == "email")
    #expect(try reader.next().map(ReadOutcome.init) == .row(number: 2, line: 3, ["email": "c", "name": "d"]))
  }

  /// A quote never closed swallows the rest of the file: reading stops, naming where it opened.
  @Test func unterminatedQuoteIsFatalAndNamesWhereItOpened() throws {
    var reader = try CSVReader(bytes: Array("a,b\n1,2\n3,\"multi\nline\n4,5\n".utf8))
    #expect(try reader.next().map(ReadOutcome.init) == .row(number: 1, line: 2, ["a": "1", "b": "2"]))
    let error = inputError { () throws(BatchInputError) in _ = try reader.next() }
    let expected = "row 2 (line 3): the quote opened on line 3 is never closed"
    #expect(error == BatchInputError(.unterminatedQuote, line: 3, expected))

    var later = try CSVReader(bytes: Array("a,b,c\n1,\"two\nlines\",\"open\nx\n".utf8))
    let laterError = inputError { () throws(BatchInputError) in _ = try outcomes(&later) }
    #expect(laterError?.message == "row 1 (line 2): the quote opened on line 3 is never closed")
    #expect(laterError?.line == 3)
  }

  @Test func recordLargerThanTheLimitIsFatal() throws {
    let input = Array(("a\n\"" + String(repeating: "x", count: 40)).utf8)
    var reader = try CSVReader(bytes: input, maximumRecordBytes: 16)
    let error = inputError { () throws(BatchInputError) in _ = try outcomes(&reader) }
    let expected = "row 1 (line 2) is larger than 16 bytes: is a quote never closed?"
    #expect(error == BatchInputError(.recordTooLarge, line: 2, expected))
  }

  @Test(arguments: [
    ("", BatchInputError.Kind.missingHeader, "the CSV input is empty: its first line must name the variables"),
    ("\u{FEFF}\r\n\n", .missingHeader, "the CSV input is empty: its first line must name the variables"),
    ("email,,name\n", .invalidHeader, "header row (line 1): column 2 has no name"),
    ("email,name,email\n", .invalidHeader, "header row (line 1): column 3 repeats the name \"email\" of column 1"),
    (
      "\n\nemail,x\"y\n", .invalidHeader,
      "header row (line 3): field 2 has a quote inside an unquoted value: quote the field and double the quote"
    ),
    ("\"email\n", .unterminatedQuote, "header row (line 1): the quote opened on line 1 is never closed"),
  ])
  func rejectsUnusableHeaderRows(input: String, kind: BatchInputError.Kind, message: String) {
    let error = inputError { () throws(BatchInputError) in _ = try CSVReader(bytes: Array(input.utf8)) }
    #expect(error?.kind == kind)
    #expect(error?.message == message)
  }

  @Test func headerRowThatIsNotUTF8IsRejected() {
    let error = inputError { () throws(BatchInputError) in _ = try CSVReader(bytes: [0x61, 0x2C, 0xFF, 0x0A]) }
    #expect(error == BatchInputError(.invalidHeader, line: 1, "header row (line 1): column 2 is not valid UTF-8"))
  }

  /// Chunk boundaries fall between CR and LF, inside quotes, inside "" and inside UTF-8
  /// sequences: reading the file in chunks of any size gives what reading it whole gives.
  @Test func chunkedFileReadingMatchesInMemoryReading() throws {
    let text =
      "\u{FEFF}name,note,ort\r\n\"Doe, Jane\",\"one\r\ntwo \"\"q\"\"\",Göteborg\r\n山田,\"\",\"李\n小龙\"\r\n"
      + "bad\"quote,x,y\n\nshort\r\nlast,row,no end"
    let bytes = Array(text.utf8)
    var whole = try CSVReader(bytes: bytes)
    let expected = try outcomes(&whole)
    #expect(expected.count == 5)
    let file = try TemporaryFile(bytes, name: "rows.csv")
    defer { file.cleanUp() }
    for chunkSize in [1, 2, 3, 5, 7, 64 * 1024] {
      var reader = try CSVReader(contentsOfFile: file.path, chunkSize: chunkSize)
      #expect(reader.header == ["name", "note", "ort"], "chunk size \(chunkSize)")
      #expect(try outcomes(&reader) == expected, "chunk size \(chunkSize)")
    }
  }

  @Test func missingFileIsUnreadable() {
    let error = inputError { () throws(BatchInputError) in
      _ = try CSVReader(contentsOfFile: "/nonexistent/msc-send/rows.csv")
    }
    #expect(
      error == BatchInputError(.unreadable, "cannot open /nonexistent/msc-send/rows.csv: No such file or directory"))
    #expect(error?.exitCode == .ioError)
  }

  @Test func readAllSplitsGoodAndBadRows() throws {
    var reader = try CSVReader(bytes: Array("a,b\n1,2\n3\n4,5\n".utf8))
    let (rows, errors) = try reader.readAll()
    #expect(rows.map(\.number) == [1, 3])
    #expect(errors.map(\.row) == [2])
    #expect(reader.columns == ["a", "b"])
  }
}
