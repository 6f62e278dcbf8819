// swift-tools-version: 6.0
// msc-send: a delivery-channel router for email. No SwiftPM package dependencies: system OpenSSL and
// SQLite come in through `.systemLibrary` module maps (Debian: libssl-dev, libsqlite3-dev).
import PackageDescription

let package = Package(
  name: "msc-send",
  products: [
    .executable(name: "msc-send", targets: ["msc-send"]),
  ],
  targets: [
    .systemLibrary(
      name: "COpenSSL", pkgConfig: "openssl",
      providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
    .systemLibrary(
      name: "CSQLite", pkgConfig: "sqlite3",
      providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
    .target(
      name: "MSCSend",
      dependencies: ["COpenSSL", "CSQLite"],
      swiftSettings: [.swiftLanguageMode(.v6)]),
    .executableTarget(
      name: "msc-send",
      dependencies: ["MSCSend"],
      swiftSettings: [.swiftLanguageMode(.v6)]),
    .testTarget(
      name: "MSCSendTests",
      dependencies: ["MSCSend", "msc-send"],
      exclude: ["Compose/Golden"],
      swiftSettings: [.swiftLanguageMode(.v6)]),
  ]
)
