//! Where a command's client comes from: flags, a profile of the config
//! file, the `WHISPIR_*` environment variables, or an embedded sandbox.
//!
//! Each setting is looked up in layers, the first that has it wins:
//! flags, the profile chosen with `--profile` (or `WHISPIR_PROFILE`), the
//! environment, then the profile `default`. The base URL and region are
//! taken together from one layer, and so are the credentials (token, or
//! user name and password), so that layers never mix halves of two logins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use whispir::{Client, Plan};
use whispir_sandbox::Sandbox;

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitClass};

/// The config file: named profiles.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// One profile: the same settings as the `WHISPIR_*` variables.
#[derive(Debug, Default, Clone, Deserialize)]
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
type Layer = BTreeMap<&'static str, String>;

const CREDENTIALS: [&str; 3] = ["WHISPIR_TOKEN", "WHISPIR_USERNAME", "WHISPIR_PASSWORD"];
const LOCATION: [&str; 2] = ["WHISPIR_BASE_URL", "WHISPIR_REGION"];
const SINGLE: [&str; 2] = ["WHISPIR_API_KEY", "WHISPIR_WORKSPACE"];

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
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(CliError::io(format!("cannot read {}", path.display()), err)),
    };
    toml::from_str(&text)
        .map(Some)
        .map_err(|err| CliError::usage(format!("config file {}: {err}", path.display())))
}

/// The settings, merged from every layer.
pub struct Settings {
    values: Layer,
    /// Where the settings were looked for, for error messages.
    sources: String,
}

impl Settings {
    /// Merges flags, the chosen profile, the environment and the default profile.
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
        let profile = |name: &str| {
            file.as_ref()
                .and_then(|file| file.profiles.get(name))
                .map(Profile::layer)
        };
        let mut layers = vec![flag_layer(global)];
        if let Some(name) = &chosen {
            let shown = path
                .as_deref()
                .map_or_else(|| "no config file".into(), |p| p.display().to_string());
            layers.push(profile(name).ok_or_else(|| {
                CliError::usage(format!(
                    "profile {name:?} is not in {shown}: add a [profiles.{name}] table"
                ))
            })?);
        }
        layers.push(env_layer());
        layers.push(profile("default").unwrap_or_default());
        let mut values = Layer::new();
        for group in [&CREDENTIALS[..], &LOCATION[..]] {
            if let Some(layer) = layers
                .iter()
                .find(|layer| group.iter().any(|name| layer.contains_key(name)))
            {
                for name in group {
                    if let Some(value) = layer.get(name) {
                        values.insert(name, value.clone());
                    }
                }
            }
        }
        for name in SINGLE {
            if let Some(value) = layers.iter().find_map(|layer| layer.get(name)) {
                values.insert(name, value.clone());
            }
        }
        let sources = match &path {
            Some(path) => format!("flags, the environment or a profile in {}", path.display()),
            None => "flags or the environment".into(),
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
    #![allow(clippy::unwrap_used, clippy::expect_used)]
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

    #[test]
    fn an_unknown_key_in_the_config_file_is_refused() {
        let parsed: Result<ConfigFile, _> = toml::from_str("[profiles.a]\napikey = \"k\"\n");
        assert!(parsed.is_err());
    }
}
