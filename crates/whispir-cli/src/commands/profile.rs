//! `whispir profile add|show|list`: the config file's profiles, written
//! with the owner's permissions alone and shown without their secrets.

use std::io::Write as _;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::cli::ProfileCommand;
use crate::config::{Layer, PROFILE_KEYS, config_path, given_settings, profiles};
use crate::exit::{CliError, ExitClass};
use crate::global::GlobalArgs;
use crate::output::Output;

/// What a profile's secret shows as.
const SET: &str = "(set)";

/// Runs `profile`.
pub fn run(
    global: &GlobalArgs,
    out: Output,
    command: ProfileCommand,
) -> Result<ExitClass, CliError> {
    let path = config_path(global).ok_or_else(|| {
        CliError::usage("no config directory on this system: give --config PATH or WHISPIR_CONFIG")
    })?;
    match command {
        ProfileCommand::Add { name, force } => add(global, out, &path, &name, force),
        ProfileCommand::Show { name } => {
            let name = name
                .or_else(|| global.profile.clone())
                .or_else(|| {
                    std::env::var("WHISPIR_PROFILE")
                        .ok()
                        .filter(|n| !n.is_empty())
                })
                .unwrap_or_else(|| "default".into());
            let all = profiles(&path)?;
            let layer = all.get(&name).ok_or_else(|| {
                CliError::new(
                    ExitClass::NotFound,
                    format!("profile {name:?} is not in {}", path.display()),
                )
            })?;
            let shown = shown(layer);
            out.object(
                &json!({"profile": name, "file": path.display().to_string(), "settings": shown}),
                || {
                    let mut lines = vec![format!("profile {name} ({})", path.display())];
                    lines.extend(shown.iter().map(|(key, value)| {
                        format!("  {key:<10} {}", value.as_str().unwrap_or(""))
                    }));
                    lines
                },
            )?;
            Ok(ExitClass::Success)
        }
        ProfileCommand::List => {
            let all = profiles(&path)?;
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|(name, layer)| {
                    let place = match (layer.get("WHISPIR_BASE_URL"), layer.get("WHISPIR_REGION")) {
                        (Some(url), _) => url.clone(),
                        (None, Some(region)) => region.clone(),
                        (None, None) => String::new(),
                    };
                    let user = layer.get("WHISPIR_USERNAME").cloned().unwrap_or_else(|| {
                        if layer.contains_key("WHISPIR_TOKEN") {
                            "(token)".into()
                        } else {
                            String::new()
                        }
                    });
                    vec![name.clone(), place, user]
                })
                .collect();
            if out.json {
                for row in &rows {
                    out.json_line(&json!({"profile": row[0], "location": row[1], "user": row[2]}))?;
                }
                Ok(ExitClass::Success)
            } else {
                out.table(&["PROFILE", "LOCATION", "USER"], &rows)?;
                Ok(ExitClass::Success)
            }
        }
    }
}

/// A profile's settings by config-file key, secrets shown as set.
fn shown(layer: &Layer) -> Map<String, Value> {
    PROFILE_KEYS
        .iter()
        .filter_map(|(key, variable, secret)| {
            let value = layer.get(variable)?;
            let value = if *secret {
                SET.to_string()
            } else {
                value.clone()
            };
            Some(((*key).to_string(), Value::String(value)))
        })
        .collect()
}

/// Saves what the flags and the environment give as profile `name`.
fn add(
    global: &GlobalArgs,
    out: Output,
    path: &Path,
    name: &str,
    force: bool,
) -> Result<ExitClass, CliError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(CliError::usage(format!(
            "profile name {name:?}: use letters, digits, `-` and `_`"
        )));
    }
    let settings = given_settings(global);
    let has_key = settings.contains_key("WHISPIR_API_KEY");
    let has_login = settings.contains_key("WHISPIR_TOKEN")
        || (settings.contains_key("WHISPIR_USERNAME") && settings.contains_key("WHISPIR_PASSWORD"));
    if !has_key || !has_login {
        return Err(CliError::usage(
            "a profile needs an API key and a login: set WHISPIR_API_KEY and WHISPIR_PASSWORD (or \
             WHISPIR_TOKEN) in the environment (e.g. `read -rs WHISPIR_PASSWORD; export \
             WHISPIR_PASSWORD`: a secret given as a flag shows in `ps` and the shell's history), \
             and --username, --region or --base-url, --workspace as flags",
        ));
    }
    // Checked as every command reads it: valid, and the owner's alone.
    let existing = profiles(path)?;
    if existing.contains_key(name) && !force {
        return Err(CliError::usage(format!(
            "profile {name:?} is already in {}: give --force to replace it",
            path.display()
        )));
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(CliError::io(format!("cannot read {}", path.display()), err)),
    };
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|_| CliError::usage(format!("config file {}: not valid TOML", path.display())))?;
    let profiles_table = document
        .entry("profiles")
        .or_insert_with(|| {
            let mut table = toml_edit::Table::new();
            table.set_implicit(true);
            toml_edit::Item::Table(table)
        })
        .as_table_mut()
        .ok_or_else(|| {
            CliError::usage(format!(
                "config file {}: `profiles` is not a table",
                path.display()
            ))
        })?;
    let mut table = toml_edit::Table::new();
    for (key, variable, _) in PROFILE_KEYS {
        if let Some(value) = settings.get(variable) {
            table.insert(key, toml_edit::value(value.as_str()));
        }
    }
    profiles_table.insert(name, toml_edit::Item::Table(table));
    write_owner_only(path, document.to_string().as_bytes())?;
    let shown = shown(&settings);
    out.object(
        &json!({"profile": name, "file": path.display().to_string(), "settings": shown}),
        || {
            vec![format!(
                "saved profile {name} in {} (readable by you alone); use it with --profile {name}",
                path.display()
            )]
        },
    )?;
    Ok(ExitClass::Success)
}

/// Replaces `path` with `bytes` in one step (a new file renamed over it),
/// readable and writable by the owner alone; creates its folder, the
/// owner's alone, when missing.
fn write_owner_only(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let cannot = |err| CliError::io(format!("cannot write {}", path.display()), err);
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(folder).map_err(cannot)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = folder.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(err) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(cannot(err));
    }
    Ok(())
}
