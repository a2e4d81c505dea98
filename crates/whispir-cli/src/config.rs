//! Where a command's client comes from: flags, a profile of the config
//! file, the `WHISPIR_*` environment variables, or an embedded sandbox.
//!
//! The account's settings come from one place, whole: the profile chosen
//! with `--profile` (or `WHISPIR_PROFILE`); else the `WHISPIR_*`
//! environment when it sets an API key or a login; else the profile
//! `default`. Nothing is taken from the others (a `WHISPIR_*` variable a
//! profile leaves aside is named on stderr), so one login never travels
//! with another account's API key or workspace. Flags override single
//! settings of that place; the login (a token, or a user name and
//! password) and the location (base URL or region) are each replaced whole.
//!
//! The config file may hold secrets, so an error about it names the file,
//! the line and the key, never a value or the line's text; and a file that
//! holds a password, token or API key is refused while other users can read
//! it (on unix), with the `chmod` that fixes it, as ssh does for keys.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use whispir::{Client, Plan};
use whispir_sandbox::Sandbox;

use crate::exit::{CliError, ExitClass};
use crate::global::GlobalArgs;

/// The config file: named profiles. No `Debug`: it holds secrets.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// One profile: the same settings as the `WHISPIR_*` variables. No
/// `Debug`: it holds secrets.
#[derive(Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    api_key: Option<String>,
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
    base_url: Option<String>,
    region: Option<String>,
    workspace: Option<String>,
}

/// One layer of settings, by `WHISPIR_*` variable name.
pub type Layer = BTreeMap<&'static str, String>;

/// Each setting of a profile: its key in the config file, the variable it
/// stands for, and whether it is a secret (never printed).
pub const PROFILE_KEYS: [(&str, &str, bool); 7] = [
    ("api_key", "WHISPIR_API_KEY", true),
    ("username", "WHISPIR_USERNAME", false),
    ("password", "WHISPIR_PASSWORD", true),
    ("token", "WHISPIR_TOKEN", true),
    ("base_url", "WHISPIR_BASE_URL", false),
    ("region", "WHISPIR_REGION", false),
    ("workspace", "WHISPIR_WORKSPACE", false),
];

/// The profiles of the config file at `path`, by name, each as a layer;
/// none when there is no file. Checked as every command checks it: errors
/// show no value, and a file holding a secret must be the owner's alone.
pub fn profiles(path: &Path) -> Result<BTreeMap<String, Layer>, CliError> {
    Ok(read_config(path)?
        .map(|file| {
            file.profiles
                .iter()
                .map(|(name, profile)| (name.clone(), profile.layer()))
                .collect()
        })
        .unwrap_or_default())
}

/// The settings the flags and the `WHISPIR_*` environment give, each
/// flag over its variable (what `whispir profile add` saves: the operator
/// puts one account together on purpose, secrets in the environment and
/// the rest as flags).
pub fn given_settings(global: &GlobalArgs) -> Layer {
    let mut settings = env_layer();
    settings.extend(flag_layer(global));
    settings
}

/// The login: a token, or a user name and password; replaced whole.
const CREDENTIALS: [&str; 3] = ["WHISPIR_TOKEN", "WHISPIR_USERNAME", "WHISPIR_PASSWORD"];
/// Where the API is; replaced whole.
const LOCATION: [&str; 2] = ["WHISPIR_BASE_URL", "WHISPIR_REGION"];
/// Settings a flag replaces one by one.
const SINGLE: [&str; 2] = ["WHISPIR_API_KEY", "WHISPIR_WORKSPACE"];
/// What makes the environment the place the settings come from: an API
/// key or a login.
const ACCOUNT: [&str; 4] = [
    "WHISPIR_API_KEY",
    "WHISPIR_TOKEN",
    "WHISPIR_USERNAME",
    "WHISPIR_PASSWORD",
];

/// `base` with `flags` over it: the login and the location each whole,
/// the API key and the workspace one by one.
fn over(flags: Layer, mut base: Layer) -> Layer {
    for group in [&CREDENTIALS[..], &LOCATION[..]] {
        if group.iter().any(|name| flags.contains_key(name)) {
            for name in group {
                match flags.get(name) {
                    Some(value) => base.insert(name, value.clone()),
                    None => base.remove(name),
                };
            }
        }
    }
    for name in SINGLE {
        if let Some(value) = flags.get(name) {
            base.insert(name, value.clone());
        }
    }
    base
}

impl ConfigFile {
    /// Whether a profile sets a password, a token or an API key.
    fn holds_secret(&self) -> bool {
        self.profiles.values().any(|profile| {
            [&profile.password, &profile.token, &profile.api_key]
                .into_iter()
                .flatten()
                .any(|value| !value.trim().is_empty())
        })
    }
}

impl Profile {
    fn layer(&self) -> Layer {
        let pairs = [
            ("WHISPIR_API_KEY", &self.api_key),
            ("WHISPIR_USERNAME", &self.username),
            ("WHISPIR_PASSWORD", &self.password),
            ("WHISPIR_TOKEN", &self.token),
            ("WHISPIR_BASE_URL", &self.base_url),
            ("WHISPIR_REGION", &self.region),
            ("WHISPIR_WORKSPACE", &self.workspace),
        ];
        pairs
            .into_iter()
            .filter_map(|(name, value)| Some((name, value.clone()?)))
            .filter(|(_, value)| !value.trim().is_empty())
            .collect()
    }
}

/// The settings of the flags.
fn flag_layer(global: &GlobalArgs) -> Layer {
    Profile {
        api_key: global.api_key.clone(),
        username: global.username.clone(),
        password: global.password.clone(),
        token: global.token.clone(),
        base_url: global.base_url.clone(),
        region: global.region.clone(),
        workspace: global.workspace.clone(),
    }
    .layer()
}

/// The settings of the environment.
fn env_layer() -> Layer {
    CREDENTIALS
        .into_iter()
        .chain(LOCATION)
        .chain(SINGLE)
        .filter_map(|name| Some((name, std::env::var(name).ok()?)))
        .filter(|(_, value)| !value.trim().is_empty())
        .collect()
}

/// The config file's path: `--config`, `WHISPIR_CONFIG`, or the platform's
/// config directory.
pub fn config_path(global: &GlobalArgs) -> Option<PathBuf> {
    global
        .config
        .clone()
        .or_else(|| std::env::var_os("WHISPIR_CONFIG").map(PathBuf::from))
        .or_else(|| {
            directories::ProjectDirs::from("", "", "whispir")
                .map(|dirs| dirs.config_dir().join("config.toml"))
        })
}

fn read_config(path: &Path) -> Result<Option<ConfigFile>, CliError> {
    let cannot_read = |err| CliError::io(format!("cannot read {}", path.display()), err);
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(cannot_read(err)),
    };
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(cannot_read)?;
    let config = parse_config(path, &text)?;
    if config.holds_secret() {
        // The mode of the file that was read, not of whatever the path names now.
        let metadata = file.metadata().map_err(cannot_read)?;
        refuse_if_others_can_read(path, &metadata)?;
    }
    Ok(Some(config))
}

/// The config file's profiles, or an error naming the file, the line and
/// (when the file is valid TOML) the key; never a value, never the line.
fn parse_config(path: &Path, text: &str) -> Result<ConfigFile, CliError> {
    let shown = path.display();
    // A syntax error may sit on any line, a pasted secret too: only its number.
    if let Err(err) = toml::from_str::<toml::Table>(text) {
        let at = err.span().map_or_else(String::new, |span| {
            format!(", line {}", line_number(text, span.start))
        });
        return Err(CliError::usage(format!(
            "config file {shown}{at}: not valid TOML (the line is not shown: it may hold a secret)"
        )));
    }
    toml::from_str::<ConfigFile>(text).map_err(|err| {
        let (line, key) = err.span().map_or((None, None), |span| {
            (Some(line_number(text, span.start)), key_at(text, span))
        });
        let line = line.map_or_else(String::new, |line| format!(", line {line}"));
        let key = key.map_or_else(String::new, |key| format!(", key `{key}`"));
        CliError::usage(format!(
            "config file {shown}{line}{key}: {}",
            what_is_wrong(err.message())
        ))
    })
}

/// The 1-based number of the line holding byte `offset`.
fn line_number(text: &str, offset: usize) -> usize {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    before.iter().filter(|&&byte| byte == b'\n').count() + 1
}

/// The key on the line where a serde error's `span` starts: the table
/// header, or the left side of the line's first `=` (a span points at an
/// unknown key or at a value, both on their key's line). `None` for
/// anything that might not be a bare key: a quote could hold a value.
fn key_at(text: &str, span: std::ops::Range<usize>) -> Option<String> {
    let start = text.get(..span.start)?.rfind('\n').map_or(0, |at| at + 1);
    let line = text.get(start..)?.lines().next().unwrap_or("");
    let key = if line.trim_start().starts_with('[') {
        line.trim()
    } else {
        line.split_once('=')?.0.trim()
    };
    let key_like = |c: char| c.is_ascii_alphanumeric() || "_-.[] ".contains(c);
    (!key.is_empty() && key.chars().all(key_like)).then(|| key.to_string())
}

/// What serde says is wrong, in words that hold no value: only what was
/// expected (which comes from this file's types) is kept.
fn what_is_wrong(message: &str) -> String {
    let expected = message
        .rsplit_once(", expected ")
        .map_or_else(String::new, |(_, expected)| {
            format!(", expected {expected}")
        });
    let problem = if message.starts_with("unknown field") {
        "unknown key"
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        "wrong value (not shown)"
    } else if message.starts_with("duplicate") {
        return "the key is set twice".into();
    } else {
        return "not a valid setting (the value is not shown)".into();
    };
    format!("{problem}{expected}")
}

/// Refuses a config file holding secrets that others than its owner may
/// read or write, with the command that fixes it (as ssh does for keys).
#[cfg(unix)]
fn refuse_if_others_can_read(path: &Path, metadata: &std::fs::Metadata) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "config file {} holds a password, token or API key and other users can read or change it \
         (mode {mode:04o}); run `chmod 600 {}` and try again",
        path.display(),
        shell_quoted(path)
    )))
}

/// Windows keeps access in ACLs, which the file's own directory sets.
#[cfg(not(unix))]
fn refuse_if_others_can_read(_: &Path, _: &std::fs::Metadata) -> Result<(), CliError> {
    Ok(())
}

/// `path` as a shell word: as it is when it needs no quoting, else in
/// single quotes.
#[cfg(unix)]
fn shell_quoted(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The settings, merged from every layer.
pub struct Settings {
    values: Layer,
    /// Where the settings were looked for, for error messages.
    sources: String,
}

impl Settings {
    /// The settings of one place (the chosen profile, the environment or
    /// the profile `default`), with the flags over them.
    pub fn load(global: &GlobalArgs) -> Result<Self, CliError> {
        let path = config_path(global);
        let file = match &path {
            Some(path) => read_config(path)?,
            None => None,
        };
        let chosen = global.profile.clone().or_else(|| {
            std::env::var("WHISPIR_PROFILE")
                .ok()
                .filter(|p| !p.is_empty())
        });
        let shown = path
            .as_deref()
            .map_or_else(|| "no config file".into(), |p| p.display().to_string());
        let profile = |name: &str| {
            file.as_ref()
                .and_then(|file| file.profiles.get(name))
                .map(Profile::layer)
        };
        let environment = env_layer();
        let (base, place) = match &chosen {
            Some(name) => {
                let layer = profile(name).ok_or_else(|| {
                    CliError::usage(format!(
                        "profile {name:?} is not in {shown}: add it with `whispir profile add {name}`"
                    ))
                })?;
                (layer, Some(format!("profile {name:?} of {shown}")))
            }
            None if ACCOUNT.iter().any(|name| environment.contains_key(name)) => {
                (environment.clone(), None)
            }
            None => match profile("default") {
                Some(layer) => (layer, Some(format!("profile \"default\" of {shown}"))),
                None => (environment.clone(), None),
            },
        };
        if let Some(place) = &place {
            let unused: Vec<&str> = environment.keys().copied().collect();
            if !unused.is_empty() {
                eprintln!(
                    "note: {} {} set but not used: the settings come from {place} (flags override single settings)",
                    unused.join(", "),
                    if unused.len() == 1 { "is" } else { "are" }
                );
            }
        }
        let values = over(flag_layer(global), base);
        let sources = match &path {
            Some(path) => format!(
                "flags, the WHISPIR_* environment or a profile in {} (`whispir profile add`)",
                path.display()
            ),
            None => "flags or the WHISPIR_* environment".into(),
        };
        Ok(Settings { values, sources })
    }

    fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }
}

/// A client and what the commands need beside it.
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
    /// The workspace to act in, if one was chosen.
    pub workspace: Option<String>,
    /// The user name of the credentials, if they have one (a token has none).
    pub user: Option<String>,
    /// Whether this is the embedded sandbox of `--sandbox`.
    pub sandbox: bool,
    /// The embedded sandbox, kept running as long as the connection.
    _sandbox: Option<Sandbox>,
}

impl Connection {
    /// Connects as the settings say, or to a new embedded sandbox with
    /// `--sandbox`; held to `plan` when one is given.
    pub async fn open(global: &GlobalArgs, plan: Option<Plan>) -> Result<Self, CliError> {
        if global.sandbox {
            let sandbox = Sandbox::builder()
                .message_step(std::time::Duration::from_millis(200))
                .start()
                .await
                .map_err(|err| CliError::failure(format!("cannot start the sandbox: {err}")))?;
            let mut builder = sandbox.client_builder();
            if let Some(plan) = plan {
                builder = builder.rate_limit(plan);
            }
            let client = builder
                .build()
                .map_err(|err| CliError::usage(err.to_string()))?;
            return Ok(Connection {
                client,
                base_url: sandbox.base_url().trim_end_matches('/').to_string(),
                workspace: global.workspace.clone(),
                user: Some(sandbox.credentials().user.clone()),
                sandbox: true,
                _sandbox: Some(sandbox),
            });
        }
        let settings = Settings::load(global)?;
        let mut builder = Client::builder_from(|name| settings.get(name)).map_err(|err| {
            CliError::new(
                ExitClass::Auth,
                format!(
                    "no credentials: {err}; set them with {}, or use --sandbox",
                    settings.sources
                ),
            )
        })?;
        if let Some(plan) = plan {
            builder = builder.rate_limit(plan);
        }
        let client = builder
            .build()
            .map_err(|err| CliError::usage(err.to_string()))?;
        let base_url = match (
            settings.get("WHISPIR_BASE_URL"),
            settings.get("WHISPIR_REGION"),
        ) {
            (Some(url), _) => url.trim_end_matches('/').to_string(),
            (None, Some(region)) => region
                .parse::<whispir::Region>()
                .map_err(|err| CliError::usage(err.to_string()))?
                .base_url(),
            (None, None) => whispir::Region::Au.base_url(),
        };
        Ok(Connection {
            client,
            base_url,
            workspace: settings.get("WHISPIR_WORKSPACE"),
            user: settings
                .get("WHISPIR_TOKEN")
                .is_none()
                .then(|| settings.get("WHISPIR_USERNAME"))
                .flatten(),
            sandbox: false,
            _sandbox: None,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_profile_names_its_settings_as_the_environment_does() {
        let file: ConfigFile =
            toml::from_str("[profiles.prod]\napi_key = \"k\"\ntoken = \"t\"\nregion = \"us\"\n")
                .unwrap();
        let layer = file.profiles["prod"].layer();
        assert_eq!(layer.get("WHISPIR_API_KEY").map(String::as_str), Some("k"));
        assert_eq!(layer.get("WHISPIR_TOKEN").map(String::as_str), Some("t"));
        assert_eq!(layer.get("WHISPIR_REGION").map(String::as_str), Some("us"));
    }

    fn parse_error(text: &str) -> String {
        match parse_config(Path::new("/home/ops/whispir.toml"), text) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn an_unknown_key_names_the_file_line_and_key_but_not_the_value() {
        let shown = parse_error("[profiles.a]\nusername = \"ops\"\npasword = \"hunter2-secret\"\n");
        assert!(
            shown.starts_with(
                "config file /home/ops/whispir.toml, line 3, key `pasword`: unknown key, \
                 expected one of `api_key`, `username`, `password`"
            ),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named_by_its_key_only() {
        let shown = parse_error("[profiles.a]\npassword = 20240607\n");
        assert_eq!(
            shown,
            "config file /home/ops/whispir.toml, line 2, key `password`: \
             wrong value (not shown), expected a string"
        );
        let shown = parse_error("[profiles]\na = \"hunter2-secret\"\n");
        assert!(
            shown.contains("line 2, key `a`: wrong value (not shown)"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn an_unknown_table_is_named_by_its_header() {
        let shown = parse_error("[profile.prod] # token hunter2-secret\ntoken = \"t\"\n");
        assert!(
            shown.contains("line 1: unknown key, expected `profiles`"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        let shown = parse_error("[profile.prod]\n");
        assert!(
            shown.contains("line 1, key `[profile.prod]`: unknown key"),
            "{shown}"
        );
    }

    #[test]
    fn a_line_that_is_not_toml_is_named_by_its_number_only() {
        // A secret pasted on a line of its own.
        let shown = parse_error("[profiles.a]\nusername = \"ops\"\nhunter2-secret\n");
        assert_eq!(
            shown,
            "config file /home/ops/whispir.toml, line 3: not valid TOML \
             (the line is not shown: it may hold a secret)"
        );
        let shown = parse_error("[profiles.a]\npassword = \"hunter2-secret\n");
        assert!(shown.contains("line 2: not valid TOML"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn a_key_that_might_hold_a_value_is_not_named() {
        let shown = parse_error("[profiles.a]\n\"hunter2-secret\" = \"x\"\n");
        assert!(shown.contains("line 2: unknown key"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn a_password_token_or_api_key_is_a_secret_and_a_user_name_is_not() {
        let holds = |text: &str| toml::from_str::<ConfigFile>(text).unwrap().holds_secret();
        assert!(holds("[profiles.a]\npassword = \"p\"\n"));
        assert!(holds("[profiles.a]\ntoken = \"t\"\n"));
        assert!(holds("[profiles.a]\n[profiles.b]\napi_key = \"k\"\n"));
        assert!(!holds(
            "[profiles.a]\nusername = \"ops\"\napi_key = \" \"\nregion = \"us\"\n"
        ));
    }

    #[cfg(unix)]
    #[test]
    fn the_chmod_to_run_quotes_a_path_the_shell_would_split() {
        assert_eq!(
            shell_quoted(Path::new("/home/ops/.config/whispir/config.toml")),
            "/home/ops/.config/whispir/config.toml"
        );
        assert_eq!(
            shell_quoted(Path::new("/tmp/my dir/it's.toml")),
            r"'/tmp/my dir/it'\''s.toml'"
        );
    }
}
