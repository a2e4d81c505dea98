//! `cargo xtask`: the whispir-rs generator.
//!
//! - `cargo xtask regen [--check] [--dump-adapted PATH]`: code table + spec →
//!   `openapi/bundled.json`, `crates/whispir/src/generated.rs`,
//!   `crates/whispir-errors/src/generated.rs`, and the CLI's `whispir api`
//!   commands (`crates/whispir-cli/src/generated.rs`) with their test.
//! - `cargo xtask codes [PATH]`: the parsed code table as JSON.
//! - `cargo xtask upstream-diff PATH`: every difference between the bundled
//!   spec and a published description must be listed in
//!   `openapi/CHANGES-FROM-UPSTREAM.md`.
//! - `cargo xtask build-cost [--no-default-features] [--features F,G]`: a
//!   hello app's clean build time and slowest units.

mod adapt;
mod build_cost;
mod bundle;
mod check;
mod cli_commands;
mod codes;
mod enums;
mod examples;
mod generate;
mod passes;
mod rewrite_counts;
mod spec;
mod upstream_diff;
mod wire_tests;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use check::{GeneratedFile, Mode};

/// The project's spec, relative to the root.
const SPEC_PATH: &str = "openapi/whispir.yaml";
/// The project's code table, relative to the root.
const TABLE_PATH: &str = "openapi/response-codes.md";

const USAGE: &str = "\
usage:
  cargo xtask regen [--check] [--dump-adapted PATH]
      regenerate openapi/bundled.json and the generated Rust files;
      --check writes nothing and fails when a file is stale;
      --dump-adapted writes the spec as progenitor sees it, for debugging
  cargo xtask codes [PATH]
      print the code table (default openapi/response-codes.md) as JSON
  cargo xtask upstream-diff PATH
      compare the bundled spec with the published description at PATH;
      fails on any difference openapi/CHANGES-FROM-UPSTREAM.md does not list
  cargo xtask build-cost [--no-default-features] [--features F,G]
      build a hello app on whispir clean (debug, fresh target dir, removed
      afterwards); print the wall time and the five slowest units";

/// Everything that can stop the xtask.
#[derive(Debug, thiserror::Error)]
pub enum XtaskError {
    /// Bad command-line arguments.
    #[error("{0}\n{USAGE}")]
    Usage(String),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The code table is malformed.
    #[error(transparent)]
    Table(#[from] codes::TableError),
    /// The table of secret fields is malformed or names what the spec has not.
    #[error(transparent)]
    Secrets(#[from] passes::secret_fields::TableError),
    /// The spec is malformed.
    #[error("{file}: {source}")]
    Spec {
        /// The spec file.
        file: String,
        /// What is wrong.
        source: spec::SpecError,
    },
    /// Generation failed.
    #[error(transparent)]
    Generate(#[from] generate::GenerateError),
    /// The `whispir api` commands could not be generated.
    #[error(transparent)]
    CliCommands(#[from] cli_commands::CliShapeError),
    /// JSON output failed.
    #[error("cannot render JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The project's spec differs from upstream in ways the changes file
    /// does not list (or the file lists what is no longer different).
    #[error("{0}")]
    UpstreamDiff(String),
    /// `build-cost` could not measure.
    #[error("build-cost: {0}")]
    BuildCost(String),
    /// `--check` found stale files.
    #[error("generated files are stale: {}\nrun `cargo xtask regen`", .0.join(", "))]
    Stale(Vec<String>),
}

/// The workspace root, whatever the current directory.
pub fn project_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// A path as errors show it: relative to the project root when inside it,
/// so messages name `openapi/whispir.yaml`, not a machine's absolute path.
pub fn shown_path(path: &Path) -> String {
    path.strip_prefix(project_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Runs the whole pipeline in memory and returns every generated file.
pub fn regen_files(root: &Path) -> Result<Vec<GeneratedFile>, XtaskError> {
    Ok(regen_outputs(root)?.files)
}

/// Everything one run of the pipeline makes.
struct RegenOutputs {
    files: Vec<GeneratedFile>,
    /// The spec as progenitor sees it.
    adapted: serde_json::Value,
    /// What each rewrite pass touched.
    counts: Vec<rewrite_counts::PassCount>,
}

fn regen_outputs(root: &Path) -> Result<RegenOutputs, XtaskError> {
    let table = codes::read_table(&root.join(TABLE_PATH))?;
    let spec = spec::read_spec(&root.join(SPEC_PATH))?;
    let spec_error = |source| XtaskError::Spec {
        file: SPEC_PATH.to_string(),
        source,
    };
    let bundled = bundle::bundle(&spec, &table).map_err(spec_error)?;
    examples::check_examples(&bundled).map_err(spec_error)?;
    examples::check_error_bodies(&bundled).map_err(spec_error)?;
    let adapted = adapt::adapt(&bundled).map_err(spec_error)?;
    let secrets_path = root.join(passes::secret_fields::TABLE_PATH);
    let secrets_table =
        std::fs::read_to_string(&secrets_path).map_err(|source| XtaskError::Read {
            path: passes::secret_fields::TABLE_PATH.to_string(),
            source,
        })?;
    // From the bundled spec: adapting turns some properties into `$ref`s.
    let secrets = passes::secret_fields::secret_fields(
        &bundled,
        &passes::secret_fields::parse_table(&secrets_table)?,
    )?;
    let client = generate::client_source(
        &adapted.spec,
        &adapted.operations,
        &adapted.enums,
        &passes::path_segments::path_patterns(&bundled).map_err(generate::GenerateError::from)?,
        &secrets,
    )?;
    let (cli_source, cli_test) =
        cli_commands::sources(&adapted.spec, &adapted.operations, &client.source)?;
    let files = vec![
        GeneratedFile {
            path: "openapi/bundled.json",
            contents: bundle::to_pretty_json(&bundled)?,
        },
        GeneratedFile {
            path: "crates/whispir/src/generated.rs",
            contents: client.source,
        },
        GeneratedFile {
            path: "tests/tests/operations/generated.rs",
            contents: generate::wire_test_source(&adapted.spec, &adapted.operations)?,
        },
        GeneratedFile {
            path: "crates/whispir-cli/src/generated.rs",
            contents: cli_source,
        },
        GeneratedFile {
            path: "crates/whispir-cli/tests/api.rs",
            contents: cli_test,
        },
        GeneratedFile {
            path: "crates/whispir-errors/src/generated.rs",
            contents: generate::code_table_source(&table)?,
        },
    ];
    Ok(RegenOutputs {
        files,
        adapted: adapted.spec,
        counts: client.counts,
    })
}

/// Bundles the project's spec and compares it with the description at
/// `upstream_path`, against the listed changes.
fn upstream_diff_command(root: &Path, upstream_path: &Path) -> Result<(), XtaskError> {
    let table = codes::read_table(&root.join(TABLE_PATH))?;
    let spec = spec::read_spec(&root.join(SPEC_PATH))?;
    let bundled = bundle::bundle(&spec, &table).map_err(|source| XtaskError::Spec {
        file: SPEC_PATH.to_string(),
        source,
    })?;
    let upstream = upstream_diff::read_upstream(upstream_path)?;
    let changes_path = root.join(upstream_diff::CHANGES_PATH);
    let text = std::fs::read_to_string(&changes_path).map_err(|source| XtaskError::Read {
        path: upstream_diff::CHANGES_PATH.to_string(),
        source,
    })?;
    let listed = upstream_diff::parse_changes(upstream_diff::CHANGES_PATH, &text)
        .map_err(XtaskError::UpstreamDiff)?;
    let report = upstream_diff::report(&upstream, &bundled, &listed);
    if report.passes() {
        eprintln!("{report}");
        Ok(())
    } else {
        Err(XtaskError::UpstreamDiff(report.to_string()))
    }
}

fn run(args: &[String]) -> Result<(), XtaskError> {
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("regen") => {
            let mut mode = Mode::Write;
            let mut dump = None;
            let mut rest = args[1..].iter();
            while let Some(arg) = rest.next() {
                match arg.as_str() {
                    "--check" => mode = Mode::Check,
                    "--dump-adapted" => {
                        let path = rest.next().ok_or_else(|| {
                            XtaskError::Usage("--dump-adapted needs a PATH".into())
                        })?;
                        dump = Some(PathBuf::from(path));
                    }
                    other => return Err(XtaskError::Usage(format!("unknown argument {other:?}"))),
                }
            }
            let outputs = regen_outputs(&root)?;
            if let Some(path) = dump {
                let text = bundle::to_pretty_json(&outputs.adapted)?;
                std::fs::write(&path, text).map_err(|source| XtaskError::Write {
                    path: path.display().to_string(),
                    source,
                })?;
                eprintln!("wrote the adapted spec to {}", path.display());
            }
            let written = check::apply(&root, &outputs.files, mode)?;
            for count in &outputs.counts {
                println!("{count}");
            }
            match (mode, written.is_empty()) {
                (Mode::Check, _) => eprintln!("generated files are up to date"),
                (Mode::Write, true) => eprintln!("nothing to do: generated files are up to date"),
                (Mode::Write, false) => {
                    for path in written {
                        eprintln!("wrote {path}");
                    }
                }
            }
            Ok(())
        }
        Some("codes") => {
            if args.len() > 2 {
                return Err(XtaskError::Usage("codes takes at most one PATH".into()));
            }
            let path = args
                .get(1)
                .map_or_else(|| root.join(TABLE_PATH), PathBuf::from);
            let table = codes::read_table(&path)?;
            println!("{}", serde_json::to_string_pretty(&table)?);
            Ok(())
        }
        Some("upstream-diff") => {
            let [_, path] = args else {
                return Err(XtaskError::Usage("upstream-diff takes one PATH".into()));
            };
            upstream_diff_command(&root, Path::new(path))
        }
        Some("build-cost") => {
            let mut features = build_cost::Features::default();
            let mut rest = args[1..].iter();
            while let Some(arg) = rest.next() {
                match arg.as_str() {
                    "--no-default-features" => features.no_default = true,
                    "--features" => {
                        let list = rest
                            .next()
                            .ok_or_else(|| XtaskError::Usage("--features needs a list".into()))?;
                        features.enabled.extend(
                            list.split(',')
                                .map(str::trim)
                                .filter(|f| !f.is_empty())
                                .map(String::from),
                        );
                    }
                    other => return Err(XtaskError::Usage(format!("unknown argument {other:?}"))),
                }
            }
            build_cost::run(&root, &features)
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(XtaskError::Usage(format!("unknown command {other:?}"))),
        None => Err(XtaskError::Usage("no command given".into())),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
