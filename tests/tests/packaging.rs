//! What each published crate's `.crate` carries, as `cargo package --list`
//! says: what it needs to build (the generated code, the sandbox's demo data
//! and spec, every file an `include_str!` reads) and the licences, and
//! nothing the repository keeps for itself (tests, snapshots, benches, CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The crates published to crates.io, in the order they are published.
const PUBLISHED: [&str; 5] = [
    "whispir-errors",
    "whispir-callbacks",
    "whispir",
    "whispir-sandbox",
    "whispir-cli",
];

/// Files outside the crates that a package needs, and the crate that keeps a
/// copy of each: the copy is what the package carries.
const COPIES: [(&str, &str); 1] = [(
    "openapi/bundled.json",
    "crates/whispir-sandbox/openapi/bundled.json",
)];

/// `include_str!`s that read a file the package does not carry, allowed
/// because only a test of the workspace compiles them.
const TEST_ONLY_INCLUDES: [(&str, &str); 2] = [
    // `#[cfg(doctest)]`: the README's examples run as doc tests.
    ("whispir", "src/lib.rs -> ../../../README.md"),
    // `#[cfg(test)]`: a unit test reads the spec's workspace pattern.
    (
        "whispir",
        "src/runtime/segments.rs -> ../../../../openapi/bundled.json",
    ),
];

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
}

/// Every published crate's package listing (paths inside the `.crate`),
/// read once for all the tests here.
fn listings() -> &'static BTreeMap<&'static str, Vec<String>> {
    static LISTINGS: OnceLock<BTreeMap<&'static str, Vec<String>>> = OnceLock::new();
    LISTINGS.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        PUBLISHED
            .iter()
            .map(|&package| {
                // `--allow-dirty`: the listing is the same; a dirty tree is normal
                // while working. Nothing is built.
                let output = Command::new(&cargo)
                    .args([
                        "package",
                        "--list",
                        "--allow-dirty",
                        "--quiet",
                        "-p",
                        package,
                    ])
                    .current_dir(workspace_root())
                    .output()
                    .expect("cargo runs");
                assert!(
                    output.status.success(),
                    "`cargo package --list -p {package}` failed:\n{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let files = String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(str::to_string)
                    .collect();
                (package, files)
            })
            .collect()
    })
}

fn listing(package: &str) -> &'static [String] {
    &listings()[package]
}

fn assert_carries(package: &str, file: &str, why: &str) {
    assert!(
        listing(package).iter().any(|listed| listed == file),
        "the {package} package lacks {file} ({why}); it carries:\n{}\n\
         add it to `include` in crates/{package}/Cargo.toml (and check .gitignore: \
         cargo packages only what git sees)",
        listing(package).join("\n")
    );
}

#[test]
fn every_package_carries_both_licences() {
    for package in PUBLISHED {
        assert_carries(package, "LICENSE-MIT", "license = \"MIT OR Apache-2.0\"");
        assert_carries(package, "LICENSE-APACHE", "license = \"MIT OR Apache-2.0\"");
    }
}

#[test]
fn the_generated_code_is_in_its_packages() {
    assert_carries(
        "whispir-errors",
        "src/generated.rs",
        "the code table, by `cargo xtask regen`",
    );
    assert_carries(
        "whispir",
        "src/generated.rs",
        "the client, by `cargo xtask regen`",
    );
}

#[test]
fn the_sandbox_package_carries_its_demo_data_and_spec() {
    assert_carries(
        "whispir-sandbox",
        "src/demo.json",
        "the demo data `Sandbox::start` loads",
    );
    assert_carries(
        "whispir-sandbox",
        "openapi/bundled.json",
        "the spec the sandbox serves",
    );
}

#[test]
fn the_whispir_package_carries_the_readme() {
    assert_carries("whispir", "README.md", "crates.io shows it");
}

#[test]
fn every_file_an_include_reads_is_in_the_package() {
    let mut missing = Vec::new();
    for package in PUBLISHED {
        let files = listing(package);
        let crate_dir = workspace_root().join("crates").join(package);
        for source in files.iter().filter(|file| file.ends_with(".rs")) {
            let text = std::fs::read_to_string(crate_dir.join(source)).unwrap();
            for included in included_paths(&text) {
                let resolved = normalize(&Path::new(source).parent().unwrap().join(&included));
                let carried = resolved
                    .as_ref()
                    .is_some_and(|path| files.iter().any(|file| Path::new(file) == path));
                let entry = format!("{source} -> {included}");
                if !carried && !TEST_ONLY_INCLUDES.contains(&(package, entry.as_str())) {
                    missing.push(format!("{package}: {entry}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "these includes read a file the package does not carry, so the crate \
         does not build from crates.io; keep the file inside the crate and list \
         it in `include`:\n{}",
        missing.join("\n")
    );
}

#[test]
fn package_copies_equal_the_workspace_files() {
    // Like a generated file: a stale copy is brought up to date and the
    // test fails, so that the change is seen and committed.
    for (source, copy) in COPIES {
        let expected = std::fs::read(workspace_root().join(source)).unwrap();
        let copy_path = workspace_root().join(copy);
        if std::fs::read(&copy_path).ok().as_deref() != Some(expected.as_slice()) {
            std::fs::write(&copy_path, &expected).unwrap();
            panic!("{copy} differed from {source} and is now updated: commit it");
        }
    }
}

#[test]
fn no_package_carries_tests_snapshots_benches_or_ci_files() {
    let repository_only = |file: &str| {
        [
            "tests/",
            "benches/",
            "examples/",
            ".ci/",
            ".github/",
            "target/",
        ]
        .iter()
        .any(|dir| file.starts_with(dir))
            || file.contains("snapshots/")
            || file.ends_with(".snap")
            || file.ends_with(".proptest-regressions")
    };
    for package in PUBLISHED {
        let extra: Vec<_> = listing(package)
            .iter()
            .filter(|file| repository_only(file))
            .collect();
        assert!(
            extra.is_empty(),
            "the {package} package carries files only the repository needs: {extra:?}"
        );
    }
}

/// The literal paths of `include_str!` and `include_bytes!` in a source file.
fn included_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for macro_call in ["include_str!(\"", "include_bytes!(\""] {
        for (start, _) in text.match_indices(macro_call) {
            let rest = &text[start + macro_call.len()..];
            if let Some(end) = rest.find('"') {
                paths.push(rest[..end].to_string());
            }
        }
    }
    paths
}

/// `path` with `.` and `..` resolved, or `None` when it climbs out of the
/// package.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<_> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

#[test]
fn a_path_climbing_out_of_the_package_is_not_in_it() {
    assert_eq!(
        normalize(Path::new("src/../openapi/bundled.json")),
        Some(PathBuf::from("openapi/bundled.json"))
    );
    assert_eq!(
        normalize(Path::new("src/../../../openapi/bundled.json")),
        None
    );
}
