// swift-tools-version:6.0
import PackageDescription

/// Our modules call each other's generic code in every hot loop (a reader's closures, a table's rows):
/// optimized across modules, it is specialized where it is called instead of run through metadata
/// (docs/performance.md, "Build").
let acrossModules: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "civic",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "civic", targets: ["civic"]),
        .executable(name: "civic-verify-proof", targets: ["civic-verify-proof"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        // Workbooks (.xlsx) and Word documents (.docx) are zip archives (docs/formats.md, "Office files").
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        // The system liblmdb (Debian's liblmdb-dev), never vendored.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        // A small safe wrapper: environments, scoped transactions, databases, cursors, errors.
        .target(name: "LMDB", dependencies: ["CLMDB"], swiftSettings: acrossModules),
        // The protobuf wire format read and written in place, and the byte helpers of every stored form.
        .target(name: "Wire", swiftSettings: acrossModules),
        // Domain-agnostic: the hash-chained, append-only log of opaque events, and tables beside it.
        .target(name: "EventLog", dependencies: [
            "LMDB", "Wire", "Transparency",
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: acrossModules),
        // The verifiable log's forms (docs/transparency.md): the RFC 9162 Merkle tree and its proofs, C2SP
        // signed notes, checkpoints, cosignatures and tlog-proofs. No store: the offline verifier uses it.
        .target(name: "Transparency", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: acrossModules),
        // Strict JSON reading and compact writing, for the interchange and the reports.
        .target(name: "JSON", swiftSettings: acrossModules),
        // The domain: events, vocabulary, rules (decide) and records (evolve), and the stored encoding of an
        // event (EventCodec). No I/O.
        .target(name: "Campaign", dependencies: ["Wire"], swiftSettings: acrossModules),
        // Pure folds over campaign events: the board and the other views, and their snapshots.
        .target(name: "Projections", dependencies: ["Campaign", "Wire"], swiftSettings: acrossModules),
        // The campaign's ledger: the rules over the EventLog, what is derived from it, the stored and
        // exchanged formats.
        .target(name: "Ledger", dependencies: [
            "Campaign", "EventLog", "Projections", "JSON", "LMDB", "Wire", "Transparency",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], swiftSettings: acrossModules),
        // A realistic sample campaign, for `civic demo` and the tour.
        .target(name: "Demo", dependencies: ["Campaign", "Ledger", "EventLog", .product(name: "Crypto", package: "swift-crypto")],
                resources: [.copy("Resources/hengkou-setup.ndjson"), .copy("Resources/hengkou-problems.csv")]),
        // Rendering: Chinese tables, CSV, JSON, the dashboard's HTML.
        .target(name: "Reports", dependencies: [
            "Projections", "Campaign", "JSON", "Wire",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], swiftSettings: acrossModules),
        // The views asked by name and options, as the command line and the server both ask.
        .target(name: "Queries", dependencies: ["Ledger", "Reports", "Projections", "Campaign", "JSON", "EventLog"], swiftSettings: acrossModules),
        // The server of docs/server.md and its dashboard.
        .target(name: "CivicServer", dependencies: [
            "Queries", "Ledger", "Reports", "Projections", "Campaign", "JSON", "EventLog", "Transparency",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: acrossModules),
        // The command line: parses arguments and calls the libraries.
        .executableTarget(name: "civic", dependencies: [
            "Ledger", "Reports", "Campaign", "Demo", "Queries", "CivicServer", "EventLog", "LMDB", "JSON", "Transparency",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: acrossModules),
        // swift-protobuf's code of Schemas/civic/v1 (Tools/generate-protos): the tests' independent
        // oracle of the stored format. No product links it.
        .target(name: "CivicProtos", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),

        // The offline verifier of proof bundles: no store, no LMDB (docs/transparency.md).
        .executableTarget(name: "civic-verify-proof", dependencies: ["Transparency", "Campaign", "Wire"], path: "Tools/VerifyProof"),
        // A deterministic campaign generator, for the benchmark (Tools/bench/run).
        .executableTarget(name: "civic-generate", dependencies: ["Campaign", "Ledger", "JSON", "Demo"], path: "Tools/Generate"),

        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "TransparencyTests", dependencies: ["Transparency"], exclude: ["Vectors"]),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB"]),
        .testTarget(name: "EventLogTests", dependencies: ["EventLog", "LMDB", "Wire", "CivicProtos",
                                                          .product(name: "Crypto", package: "swift-crypto"),
                                                          .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "CampaignTests", dependencies: ["Campaign"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Projections", "Campaign", "JSON",
                                                         .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "ProjectionsTests", dependencies: ["Projections", "Campaign"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Campaign", "EventLog", "Projections", "JSON", "Demo", "Wire", "LMDB", "Transparency",
                                                        .product(name: "Crypto", package: "swift-crypto"),
                                                        "CivicProtos", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "CivicServerTests", dependencies: [
            "CivicServer", "Queries", "Ledger", "Demo", "JSON", "Campaign", "Transparency",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "CivicCLITests", dependencies: ["civic", "civic-verify-proof", "Ledger", "Campaign", "JSON", "LMDB", "Demo",
                                                         .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
    ],
    swiftLanguageModes: [.v6]
)
