//! The last step of `regen`: write the generated files, or (with `--check`)
//! compare them with what is checked in.

use std::path::{Path, PathBuf};

use crate::XtaskError;

/// One generated file: where it goes (relative to the project root) and
/// what it must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the project root, with `/` separators.
    pub path: &'static str,
    /// The full contents.
    pub contents: String,
}

/// Whether to write files or only compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write every file whose contents differ.
    Write,
    /// Write nothing; fail listing the stale files.
    Check,
}

/// Files that differ from what is on disk (missing files count as stale).
pub fn stale_files(root: &Path, files: &[GeneratedFile]) -> Vec<&'static str> {
    files
        .iter()
        .filter(|file| {
            std::fs::read_to_string(root.join(file.path))
                .ok()
                .as_deref()
                != Some(file.contents.as_str())
        })
        .map(|file| file.path)
        .collect()
}

/// Writes or checks the generated files; returns the paths it wrote.
pub fn apply(
    root: &Path,
    files: &[GeneratedFile],
    mode: Mode,
) -> Result<Vec<&'static str>, XtaskError> {
    let stale = stale_files(root, files);
    match mode {
        Mode::Check if stale.is_empty() => Ok(Vec::new()),
        Mode::Check => Err(XtaskError::Stale(
            stale.iter().map(|s| s.to_string()).collect(),
        )),
        Mode::Write => {
            for file in files.iter().filter(|file| stale.contains(&file.path)) {
                let path: PathBuf = root.join(file.path);
                std::fs::write(&path, &file.contents).map_err(|source| XtaskError::Write {
                    path: file.path.to_string(),
                    source,
                })?;
            }
            Ok(stale)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{project_root, regen_files};

    /// rust-analyzer style: the checked-in generated files must be what the
    /// generator makes of the checked-in spec and table.
    #[test]
    fn generated_files_are_fresh() {
        let root = project_root();
        let files = regen_files(&root).expect("the generator runs on the checked-in inputs");
        let stale = stale_files(&root, &files);
        assert!(
            stale.is_empty(),
            "generated files are stale: {}; run `cargo xtask regen`",
            stale.join(", ")
        );
    }

    #[test]
    fn generation_is_deterministic() {
        let root = project_root();
        let first = regen_files(&root).expect("first run");
        let second = regen_files(&root).expect("second run");
        assert_eq!(first, second);
        for file in &first {
            assert!(
                !file.contents.contains(root.to_string_lossy().as_ref()),
                "{} contains an absolute path",
                file.path
            );
        }
    }

    #[test]
    fn check_mode_lists_stale_files_and_writes_nothing() {
        let dir = std::env::temp_dir().join(format!("xtask-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("a.txt"), "old").expect("write");
        let files = vec![
            GeneratedFile {
                path: "a.txt",
                contents: "new".into(),
            },
            GeneratedFile {
                path: "b.txt",
                contents: "b".into(),
            },
        ];
        let err = apply(&dir, &files, Mode::Check).expect_err("stale files fail the check");
        let message = err.to_string();
        assert!(
            message.contains("a.txt") && message.contains("b.txt"),
            "{message}"
        );
        assert!(message.contains("cargo xtask regen"), "{message}");
        assert_eq!(
            std::fs::read_to_string(dir.join("a.txt")).expect("read"),
            "old"
        );
        assert!(!dir.join("b.txt").exists());

        let written = apply(&dir, &files, Mode::Write).expect("write mode");
        assert_eq!(written, vec!["a.txt", "b.txt"]);
        assert!(
            apply(&dir, &files, Mode::Check)
                .expect("fresh now")
                .is_empty()
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
