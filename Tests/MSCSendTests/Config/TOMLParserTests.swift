import Testing
@testable import MSCSend

private func position(_ line: Int, _ column: Int) -> SourcePosition { SourcePosition(line: line, column: column) }

private func table(_ node: TOMLNode?) -> TOMLTable? {
  if case .table(let table) = node?.value { table } else { nil }
}

private func array(_ node: TOMLNode?) -> [TOMLNode]? {
  if case .array(let nodes) = node?.value { nodes } else { nil }
}

@Test func tomlKeysAndValuesRememberWhereTheyWereWritten() throws {
  let document = """
    # relay settings
    title = "x"
    [server]
      host = "mail.example.com"
      ports = [ 25,
        587 ]
    [[relay]]
    name = "a"
    [[relay]]
    "ключ" = "значение"
    limits = { per.hour = 10 }
    """
  let root = try TOMLParser.parse(document, file: "relay.toml")
  #expect(root.keys == ["title", "server", "relay"])
  #expect(root.position == position(1, 1))
  #expect(root.entry("title")?.keyPosition == position(2, 1))
  #expect(root["title"] == TOMLNode(value: .string("x"), position: position(2, 9)))

  let server = try #require(table(root["server"]))
  #expect(server.position == position(3, 1))
  #expect(root["server"]?.position == position(3, 1))
  #expect(root.entry("server")?.keyPosition == position(3, 2))
  #expect(server.entry("host")?.keyPosition == position(4, 3))
  #expect(server["host"]?.position == position(4, 10))
  let ports = try #require(array(server["ports"]))
  #expect(ports.map(\.value) == [.integer(25), .integer(587)])
  #expect(ports.map(\.position) == [position(5, 13), position(6, 5)])

  let relays = try #require(array(root["relay"]))
  #expect(root["relay"]?.position == position(7, 1))
  #expect(relays.map(\.position) == [position(7, 1), position(9, 1)])
  let second = try #require(table(relays.last))
  #expect(second.keys == ["ключ", "limits"])
  // Columns count characters: `"ключ" = ` is 9 characters but 13 bytes.
  #expect(second["ключ"] == TOMLNode(value: .string("значение"), position: position(10, 10)))
  let limits = try #require(table(second["limits"]))
  #expect(limits.position == position(11, 10))
  let per = try #require(table(limits["per"]))
  #expect(per.position == position(11, 12))
  #expect(per.entry("hour")?.keyPosition == position(11, 16))
  #expect(per["hour"]?.value == .integer(10))
}

@Test func tomlImplicitTablesCanBeDefinedLaterAndKeepTheirOrder() throws {
  let root = try TOMLParser.parse("[a.b.c]\nx = 1\n[a]\ny = 2\n[a.b.d]\n")
  let a = try #require(table(root["a"]))
  #expect(a.keys == ["b", "y"])
  #expect(a.position == position(3, 1), "defining [a] moves its position to the header")
  #expect(root.entry("a")?.keyPosition == position(1, 2))
  let b = try #require(table(a["b"]))
  #expect(b.keys == ["c", "d"])
}

@Test func tomlScalarValues() throws {
  let document = #"""
    int = [+99, -17, 0, 1_000, 0xDEAD_beef, 0o755, 0b1101, 9223372036854775807, -9223372036854775808]
    flt = [1.0, -0.01, 5e+22, 1e06, -2E-2, 6.626e-34, 224_617.445_991, inf, -inf]
    str = ["\u00E9\U0001F600\t\"", 'C:\path', """
    one \
        two""", '''
    raw\n''']
    quotes = """""x"""""
    bools = [true, false]
    """#
  let root = try TOMLParser.parse(document)
  #expect(array(root["int"])?.map(\.value) == [
    .integer(99), .integer(-17), .integer(0), .integer(1000), .integer(0xDEAD_BEEF), .integer(0o755),
    .integer(0b1101), .integer(.max), .integer(.min),
  ])
  #expect(array(root["flt"])?.map(\.value) == [
    .float(1), .float(-0.01), .float(5e22), .float(1e6), .float(-0.02), .float(6.626e-34),
    .float(224_617.445_991), .float(.infinity), .float(-.infinity),
  ])
  #expect(array(root["str"])?.map(\.value) == [
    .string("é😀\t\""), .string(#"C:\path"#), .string("one two"), .string(#"raw\n"#),
  ])
  #expect(root["quotes"]?.value == .string(#"""x"""#))
  #expect(array(root["bools"])?.map(\.value) == [.boolean(true), .boolean(false)])
  let nan = try TOMLParser.parse("a = nan\nb = -nan")
  guard case .float(let value) = nan["a"]?.value, case .float(let negative) = nan["b"]?.value else {
    Issue.record("nan is not a float")
    return
  }
  #expect(value.isNaN && negative.isNaN)
}

@Test func tomlMultilineStringsNormaliseCRLFAndTrimTheFirstNewline() throws {
  let root = try TOMLParser.parse(Array("s = \"\"\"\r\na\r\nb\\\r\n   c\"\"\"\r\n".utf8))
  #expect(root["s"]?.value == .string("a\nbc"))
}

@Test func tomlDateTimesKeepTheirComponentsAsWritten() throws {
  let document = """
    odt = 1979-05-27T00:32:00.999999999999-07:00
    utc = 1979-05-27 07:32:00z
    ldt = 2024-02-29t23:59:60.5
    ld = 1979-05-27
    lt = 07:32:00.000100
    """
  let root = try TOMLParser.parse(document)
  let date = TOMLDate(year: 1979, month: 5, day: 27)
  let odt = TOMLDateTime(date: date, time: TOMLTime(hour: 0, minute: 32, second: 0, fraction: "999999999999"),
    offset: .minutes(-420))
  #expect(root["odt"]?.value == .offsetDateTime(odt))
  #expect(odt.time?.nanosecond == 999_999_999)
  #expect(odt.description == "1979-05-27T00:32:00.999999999999-07:00")
  #expect(odt.offset?.minutesEastOfUTC == -420)
  let utc = TOMLDateTime(date: date, time: TOMLTime(hour: 7, minute: 32, second: 0), offset: .utc)
  #expect(root["utc"]?.value == .offsetDateTime(utc))
  #expect(utc.description == "1979-05-27T07:32:00Z")
  let ldt = TOMLDateTime(date: TOMLDate(year: 2024, month: 2, day: 29),
    time: TOMLTime(hour: 23, minute: 59, second: 60, fraction: "5"))
  #expect(root["ldt"]?.value == .localDateTime(ldt))
  #expect(ldt.time?.nanosecond == 500_000_000)
  #expect(root["ld"]?.value == .localDate(TOMLDateTime(date: date)))
  let lt = TOMLDateTime(time: TOMLTime(hour: 7, minute: 32, second: 0, fraction: "000100"))
  #expect(root["lt"]?.value == .localTime(lt))
  #expect(lt.description == "07:32:00.000100")
  #expect(lt.time?.nanosecond == 100_000)
}

@Test func tomlDateFollowedByCommentIsADate() throws {
  let root = try TOMLParser.parse("d = 1979-05-27 # a comment\ne = [1979-05-27 ,07:32:00]")
  #expect(root["d"]?.value == .localDate(TOMLDateTime(date: TOMLDate(year: 1979, month: 5, day: 27))))
  #expect(array(root["e"])?.count == 2)
}

@Test func tomlByteOrderMarkIsSkippedWithoutShiftingColumns() throws {
  let root = try TOMLParser.parse([0xEF, 0xBB, 0xBF] + Array("a = 1".utf8))
  #expect(root.entry("a")?.keyPosition == position(1, 1))
  #expect(root["a"] == TOMLNode(value: .integer(1), position: position(1, 5)))
}

@Test func tomlValueTypeNames() {
  #expect(TOMLValue.integer(1).typeName == "integer")
  #expect(TOMLValue.localDate(TOMLDateTime()).typeName == "local date")
  #expect(TOMLValue.array([]).typeNameWithArticle == "an array")
  #expect(TOMLValue.string("").typeNameWithArticle == "a string")
}
