//! `cargo xtask build-cost`: what a user pays to compile `whispir`.
//!
//! Writes a hello app that depends on `whispir` (by path) and tokio into a
//! temporary directory, builds it clean in a fresh target directory with
//! `cargo build --timings` (debug), then prints the wall time and the
//! slowest units read from cargo's HTML timing report. The temporary
//! directory, target included, is removed afterwards.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::XtaskError;

/// How many of the slowest units to print.
const SLOWEST: usize = 5;

/// The hello app's `main.rs`: builds a client, which is what every user of
/// the crate compiles and links at least.
const HELLO_MAIN: &str = r#"fn main() {
    let client = whispir::Client::builder()
        .region(whispir::Region::Au)
        .credentials(whispir::Credentials::basic("user", "password"))
        .api_key("key")
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread().build();
    println!("hello whispir: {} {}", client.is_ok(), runtime.is_ok());
}
"#;

/// Which features of `whispir` the hello app asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Features {
    /// `--no-default-features`.
    pub no_default: bool,
    /// `--features a,b`.
    pub enabled: Vec<String>,
}

/// One unit of cargo's timing report.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Unit {
    /// The crate.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The target kind (empty for a library, ` build-script (run)`, …).
    #[serde(default)]
    pub target: String,
    /// Seconds it took.
    pub duration: f64,
}

/// Removes the directory when dropped, so a failed build leaves nothing.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Builds the hello app clean and prints its cost.
pub fn run(root: &Path, features: &Features) -> Result<(), XtaskError> {
    let dir =
        TempDir(std::env::temp_dir().join(format!("whispir-build-cost-{}", std::process::id())));
    write_app(root, &dir.0, features)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    eprintln!("building a hello app clean in {} …", dir.0.display());
    let started = Instant::now();
    let status = Command::new(cargo)
        .args(["build", "--timings", "--quiet"])
        .current_dir(&dir.0)
        .env("CARGO_TARGET_DIR", dir.0.join("target"))
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .status()
        .map_err(|err| XtaskError::BuildCost(format!("cannot run cargo: {err}")))?;
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(XtaskError::BuildCost(format!(
            "the hello app did not build ({status})"
        )));
    }
    let report_path = dir.0.join("target/cargo-timings/cargo-timing.html");
    let report = std::fs::read_to_string(&report_path).map_err(|source| XtaskError::Read {
        path: report_path.display().to_string(),
        source,
    })?;
    let units = parse_units(&report).map_err(XtaskError::BuildCost)?;
    print!("{}", summary(wall, &units, features));
    Ok(())
}

/// Writes the hello app's manifest, lock file and `main.rs` into `dir`.
fn write_app(root: &Path, dir: &Path, features: &Features) -> Result<(), XtaskError> {
    let write = |path: PathBuf, contents: &str| {
        std::fs::write(&path, contents).map_err(|source| XtaskError::Write {
            path: path.display().to_string(),
            source,
        })
    };
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|source| XtaskError::Write {
        path: src.display().to_string(),
        source,
    })?;
    write(dir.join("Cargo.toml"), &manifest(root, features))?;
    // The workspace's versions, so the figure is the one CI builds.
    if let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) {
        write(dir.join("Cargo.lock"), &lock)?;
    }
    write(src.join("main.rs"), HELLO_MAIN)
}

/// The hello app's `Cargo.toml`.
fn manifest(root: &Path, features: &Features) -> String {
    let path = root.join("crates/whispir");
    let path = path.display().to_string().replace('\\', "/");
    let mut whispir = format!("{{ path = {path:?}");
    if features.no_default {
        whispir.push_str(", default-features = false");
    }
    if !features.enabled.is_empty() {
        whispir.push_str(&format!(", features = {:?}", features.enabled));
    }
    whispir.push_str(" }");
    format!(
        "[package]\nname = \"hello-whispir\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nwhispir = {whispir}\ntokio = {{ version = \"1\", features = [\"rt\"] }}\n\n\
         # Not a member of the whispir-rs workspace.\n[workspace]\n"
    )
}

/// Reads the `UNIT_DATA` array out of cargo's HTML timing report.
pub fn parse_units(report: &str) -> Result<Vec<Unit>, String> {
    const MARKER: &str = "const UNIT_DATA = ";
    let start = report
        .find(MARKER)
        .ok_or("the timing report has no UNIT_DATA: did cargo's format change?")?
        + MARKER.len();
    // The array is followed by `;` and more script: read exactly one value.
    let mut values = serde_json::Deserializer::from_str(&report[start..]).into_iter::<Vec<Unit>>();
    match values.next() {
        Some(Ok(units)) => Ok(units),
        Some(Err(err)) => Err(format!("cannot read UNIT_DATA in the timing report: {err}")),
        None => Err("UNIT_DATA in the timing report is empty".to_string()),
    }
}

/// The printed result: wall time, `whispir`'s own unit, the slowest units.
pub fn summary(wall: f64, units: &[Unit], features: &Features) -> String {
    let mut sorted: Vec<&Unit> = units.iter().collect();
    sorted.sort_by(|a, b| b.duration.total_cmp(&a.duration));
    let chosen = match (features.no_default, features.enabled.is_empty()) {
        (false, true) => "default features".to_string(),
        (no_default, _) => format!(
            "features [{}]{}",
            features.enabled.join(", "),
            if no_default {
                " without the defaults"
            } else {
                ""
            }
        ),
    };
    let mut out = format!(
        "hello app (whispir with {chosen} + tokio), clean debug build: {wall:.1} s wall, {} units\n",
        units.len()
    );
    if let Some(own) = units
        .iter()
        .filter(|unit| unit.name == "whispir" && unit.target.trim().is_empty())
        .map(|unit| unit.duration)
        .reduce(f64::max)
    {
        out.push_str(&format!("whispir's own unit: {own:.1} s\n"));
    }
    out.push_str(&format!("the {SLOWEST} slowest units:\n"));
    for unit in sorted.into_iter().take(SLOWEST) {
        let target = unit.target.trim();
        let target = if target.is_empty() {
            String::new()
        } else {
            format!(" {target}")
        };
        out.push_str(&format!(
            "  {:>6.1} s  {} {}{target}\n",
            unit.duration, unit.name, unit.version
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use super::*;

    const REPORT: &str = r#"<script>
const UNIT_DATA = [
  {"i": 1, "name": "ring", "version": "0.17.14", "mode": "todo", "target": " build-script (run)", "start": 0.1, "duration": 4.5},
  {"i": 2, "name": "whispir", "version": "0.1.0", "mode": "todo", "target": "", "start": 9.0, "duration": 6.09},
  {"i": 3, "name": "serde", "version": "1.0.0", "mode": "todo", "target": "", "start": 0.2, "duration": 1.25},
  {"i": 4, "name": "tokio", "version": "1.0.0", "mode": "todo", "target": "", "start": 0.3, "duration": 3.0},
  {"i": 5, "name": "a", "version": "1.0.0", "mode": "todo", "target": "", "start": 0.3, "duration": 0.5},
  {"i": 6, "name": "b", "version": "1.0.0", "mode": "todo", "target": "", "start": 0.3, "duration": 0.75}
];
const CONCURRENCY_DATA = [];
</script>"#;

    #[test]
    fn units_are_read_from_the_timing_report() {
        let units = parse_units(REPORT).unwrap();
        assert_eq!(units.len(), 6);
        assert_eq!(units[1].name, "whispir");
        assert_eq!(units[0].target, " build-script (run)");
        assert!((units[1].duration - 6.09).abs() < 1e-9);
    }

    #[test]
    fn a_report_without_unit_data_is_an_error_naming_it() {
        let err = parse_units("<html></html>").unwrap_err();
        assert!(err.contains("UNIT_DATA"), "{err}");
    }

    #[test]
    fn the_summary_lists_the_five_slowest_units_slowest_first() {
        let units = parse_units(REPORT).unwrap();
        let text = summary(42.04, &units, &Features::default());
        assert_eq!(
            text,
            "hello app (whispir with default features + tokio), clean debug build: 42.0 s wall, 6 units\n\
             whispir's own unit: 6.1 s\n\
             the 5 slowest units:\n\
             \x20    6.1 s  whispir 0.1.0\n\
             \x20    4.5 s  ring 0.17.14 build-script (run)\n\
             \x20    3.0 s  tokio 1.0.0\n\
             \x20    1.2 s  serde 1.0.0\n\
             \x20    0.8 s  b 1.0.0\n"
        );
    }

    #[test]
    fn the_manifest_passes_the_feature_choice_on() {
        let features = Features {
            no_default: true,
            enabled: vec!["rustls-aws-lc-rs".to_string()],
        };
        let text = manifest(Path::new("/r"), &features);
        assert!(
            text.contains(
                r#"whispir = { path = "/r/crates/whispir", default-features = false, features = ["rustls-aws-lc-rs"] }"#
            ),
            "{text}"
        );
        assert!(text.contains("[workspace]"), "{text}");
    }
}
