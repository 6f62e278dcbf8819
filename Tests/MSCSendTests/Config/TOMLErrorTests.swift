import Testing
@testable import MSCSend

/// Each case: a document and the exact `line:col: message` it must fail with. Positions point at
/// the offending character or key, columns count characters (not bytes).
private let errorCases: [(document: String, expected: String)] = [
  ("host = \"a\"\nhost = \"b\"", #"2:1: duplicate key "host" (first defined at 1:1)"#),
  ("a.b = 1\na.b = 2", #"2:3: duplicate key "a.b" (first defined at 1:3)"#),
  ("[a]\nx = 1\n[a]", "3:1: table [a] is defined twice (first defined at 1:1)"),
  ("[x]\ny.z = 1\n[x.y]", "3:1: table [x.y] was already defined with dotted keys at 2:1"),
  ("[a.b]\nc = 1\n[a]\nb.d = 2",
   "4:1: cannot add to table [a.b] with a dotted key: it was defined by its header at 1:1"),
  ("a = {b = 1}\na.c = 2", #"2:1: cannot add to inline table "a" defined at 1:5: inline tables cannot be extended"#),
  ("a = [1]\n[[a]]",
   #"2:1: cannot append to the static array "a" defined at 1:5: [[a]] only extends arrays made by [[a]]"#),
  ("[[a]]\n[a]", "2:1: table [a] conflicts with the array of tables [[a]] defined at 1:1"),
  ("a.b = 1\na.b.c = 2", #"2:3: cannot use "a.b" as a table: it is an integer (defined at 1:7)"#),
  ("n = 9223372036854775808", "1:5: integer 9223372036854775808 does not fit in 64 bits"),
  ("n = 0x8000000000000000", "1:5: integer 0x8000000000000000 does not fit in 64 bits"),
  ("n = 0x", "1:7: expected a digit in the integer of \"0x\", found end of file"),
  ("n = 1__000", "1:6: an underscore in a number must stand between two digits"),
  ("n = 012", "1:5: leading zeros are not allowed in decimal numbers"),
  ("n = -0x1", "1:5: a sign is not allowed on hexadecimal, octal or binary integers"),
  ("f = 1e999", "1:5: float 1e999 is out of range for a 64-bit float"),
  ("f = .5", "1:5: a float needs a digit before the decimal point"),
  (#"s = "a\qb""#,
   #"1:7: invalid escape sequence: \ followed by "q" (TOML 1.0 allows \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX)"#),
  (#"s = "\uD800""#, #"1:6: escape \uD800 is not a Unicode scalar value"#),
  ("s = \"é\u{01}\"", #"1:7: control character U+0001 must be escaped in a string (write \u0001)"#),
  ("s = \"abc\nt = 1", "1:5: unterminated string: missing closing \" before the end of the line"),
  ("s = '''abc", "1:5: unterminated multi-line string: missing closing '''"),
  ("\"ключ\" = 1 2", "1:12: expected a newline after the value, found \"2\""),
  ("a = [1, 2", "1:10: unterminated array: missing \"]\" for the \"[\" at 1:5"),
  ("a = [1 2]", "1:8: expected \",\" or \"]\" after an array element, found \"2\""),
  ("t = {a = 1, }", "1:13: trailing comma is not allowed in an inline table (TOML 1.0)"),
  ("t = {a = 1,\nb = 2}",
   "1:12: newline inside an inline table: in TOML 1.0 an inline table must be on one line (the \"{\" is at 1:5)"),
  ("d = 2023-02-29", "1:5: invalid date: 2023-02 has no day 29"),
  ("t = 24:00:00", "1:5: invalid hour 24: must be at most 23"),
  ("t = 07:32", "1:10: time must include seconds (HH:MM:SS), found end of file"),
  ("a = 1\rb = 2", "1:6: carriage return (CR) must be followed by a line feed (LF)"),
  ("# café \u{7F}", "1:8: control character U+007F is not allowed in a comment"),
  ("a = true\nb = True", "2:5: expected a value, found \"T\""),
  ("key", "1:4: expected \"=\" after the key \"key\", found end of file"),
  ("a =\n1", "1:4: expected a value, found a newline"),
  ("[a", "1:3: expected \"]\" to close the table header, found end of file"),
  ("[[a]", "1:5: expected \"]]\" to close the array-of-tables header, found end of file"),
  ("[a]]", "1:4: expected a newline after the table header, found \"]\""),
  ("\"\"\"k\"\"\" = 1", "1:1: multi-line strings cannot be used as keys"),
  ("a = 1\n\u{3000}b = 2", "2:1: expected a key, found U+3000"),
]

@Test(arguments: errorCases)
func tomlErrorMessageAndPosition(document: String, expected: String) {
  #expect(throws: TOMLError.self) { try TOMLParser.parse(document) }
  do {
    _ = try TOMLParser.parse(document)
  } catch {
    #expect(error.description == expected)
  }
}

@Test func tomlErrorNamesTheFile() {
  let document = "[smtp]\nhost = \"a\"\n      host = \"b\"\n"
  do {
    _ = try TOMLParser.parse(Array(document.utf8), file: "config.toml")
    Issue.record("duplicate key accepted")
  } catch {
    #expect(error.description == #"config.toml:3:7: duplicate key "host" (first defined at 2:1)"#)
    #expect(error.position == SourcePosition(line: 3, column: 7))
    #expect(error.file == "config.toml")
    #expect(error.message == #"duplicate key "host" (first defined at 2:1)"#)
  }
}

@Test func tomlRejectsBadEncodings() {
  let cases: [([UInt8], String)] = [
    (Array("a = \"".utf8) + [0xFF, 0x22], "1:6: invalid UTF-8 (byte 0xFF); TOML files must be UTF-8"),
    (Array("a = 1\nb = \"".utf8) + [0xC0, 0x80, 0x22], "2:6: invalid UTF-8 (byte 0xC0); TOML files must be UTF-8"),
    (Array("é = '".utf8) + [0xED, 0xA0, 0x80, 0x27], "1:6: invalid UTF-8 (byte 0xED); TOML files must be UTF-8"),
    (Array("a = '".utf8) + [0xE2, 0x82], "1:6: invalid UTF-8 (byte 0xE2); TOML files must be UTF-8"),
    ([0xFF, 0xFE, 0x61, 0x00], "1:1: file starts with a UTF-16 byte order mark; TOML files must be UTF-8"),
  ]
  for (bytes, expected) in cases {
    do {
      _ = try TOMLParser.parse(bytes)
      Issue.record("accepted \(bytes)")
    } catch {
      #expect(error.description == expected)
    }
  }
}

@Test func tomlHeaderOverInlineTableNamesIt() {
  do {
    _ = try TOMLParser.parse("a = {}\n[a]")
    Issue.record("inline table reopened")
  } catch {
    #expect(error.description == "2:1: table [a] conflicts with the key defined at 1:1 (an inline table)")
  }
}
