// swift-tools-version: 6.1
// libFuzzer targets for Hookline, kept out of the main package so that `swift build` and
// `swift test` at the root are unaffected. Build and run them as docs/FUZZING.md says.
import PackageDescription

let package = Package(
    name: "HooklineFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named, so that the references below do not depend on the name of the checkout directory.
        .package(name: "Hookline", path: ".."),
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver, which each target's `main` calls.
        .systemLibrary(name: "CLibFuzzer"),
        .executableTarget(
            name: "FuzzCanonicalJSON",
            dependencies: ["CLibFuzzer", .product(name: "HooklineCore", package: "Hookline")]
        ),
        .executableTarget(
            name: "FuzzSignatureVerifier",
            dependencies: ["CLibFuzzer", .product(name: "HooklineCore", package: "Hookline")]
        ),
        .executableTarget(
            name: "FuzzIngestRequest",
            dependencies: [
                "CLibFuzzer",
                .product(name: "HooklineCore", package: "Hookline"),
                .product(name: "HooklineServer", package: "Hookline"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
