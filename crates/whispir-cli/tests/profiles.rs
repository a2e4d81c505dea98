//! Profiles as an operator uses them: saved with `whispir profile add`
//! into a file only its owner can read, shown without secrets, and taken
//! whole, so that one profile's login never travels with another
//! account's API key or workspace.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{SandboxProcess, assert_no_secret, json_lines};

/// `whispir ARGS` with nothing but PATH, the config file and `env`.
fn whispir(config: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut command = assert_cmd::Command::new(support::bin());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", config);
    for (name, value) in env {
        command.env(name, value);
    }
    command.args(args).output().unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_profile_is_saved_owner_only_shown_without_secrets_listed_and_used() {
    let sandbox = SandboxProcess::start();
    let config = sandbox.path("conf/whispir/config.toml");
    let secrets = [
        ("WHISPIR_API_KEY", sandbox.api_key.as_str()),
        ("WHISPIR_PASSWORD", sandbox.password.as_str()),
    ];
    let added = whispir(
        &config,
        &secrets,
        &[
            "profile",
            "add",
            "local",
            "--username",
            &sandbox.username,
            "--base-url",
            &sandbox.base_url,
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert_no_secret(&added, &sandbox.secrets());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the file is the owner's alone");
        let folder = std::fs::metadata(config.parent().unwrap()).unwrap();
        assert_eq!(folder.permissions().mode() & 0o777, 0o700);
    }
    // A second add of the same name needs --force.
    let again = whispir(
        &config,
        &secrets,
        &["profile", "add", "local", "--username", "x"],
    );
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("--force"));

    let shown = whispir(&config, &[], &["--json", "profile", "show", "local"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert_no_secret(&shown, &sandbox.secrets());
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["settings"]["username"], sandbox.username.as_str());
    assert_eq!(shown["settings"]["password"], "(set)");
    assert_eq!(shown["settings"]["api_key"], "(set)");

    let listed = whispir(&config, &[], &["--json", "profile", "list"]);
    let names: Vec<Value> = json_lines(&listed.stdout)
        .into_iter()
        .map(|row| row["profile"].clone())
        .collect();
    assert_eq!(names, ["local"]);

    // The saved profile works on its own: no WHISPIR_* variable set.
    let used = whispir(
        &config,
        &[],
        &[
            "--profile",
            "local",
            "--json",
            "messages",
            "list",
            "--limit",
            "1",
        ],
    );
    assert!(used.status.success(), "{}", stderr(&used));
}

#[test]
fn a_chosen_profile_never_takes_the_api_key_or_workspace_of_the_environment() {
    let sandbox = SandboxProcess::start();
    let config = sandbox.path("config.toml");
    // A login without an API key: before, WHISPIR_API_KEY of another
    // account filled the gap.
    std::fs::write(
        &config,
        format!(
            "[profiles.prod]\nbase_url = \"{}\"\nusername = \"{}\"\npassword = \"{}\"\n",
            sandbox.base_url, sandbox.username, sandbox.password
        ),
    )
    .unwrap();
    support::owner_only(&config);
    let output = whispir(
        &config,
        &[
            ("WHISPIR_API_KEY", &sandbox.api_key),
            ("WHISPIR_WORKSPACE", "STAGING"),
        ],
        &["--profile", "prod", "messages", "list"],
    );
    assert_eq!(
        output.status.code(),
        Some(3),
        "no API key in the profile: {}",
        stderr(&output)
    );
    let shown = stderr(&output);
    assert!(
        shown.contains("WHISPIR_API_KEY, WHISPIR_WORKSPACE are set but not used"),
        "{shown}"
    );
    assert_no_secret(&output, &sandbox.secrets());
    // A flag may still give the one missing setting.
    let output = whispir(
        &config,
        &[],
        &[
            "--profile",
            "prod",
            "--api-key",
            &sandbox.api_key,
            "--json",
            "messages",
            "list",
            "--limit",
            "1",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn credentials_in_the_environment_are_taken_whole_over_the_default_profile() {
    let sandbox = SandboxProcess::start();
    let config = sandbox.path("config.toml");
    // The default profile points at the sandbox with a wrong password; the
    // environment sets a whole account. The environment wins, whole.
    std::fs::write(
        &config,
        format!(
            "[profiles.default]\nbase_url = \"{}\"\nusername = \"{}\"\npassword = \"wrong\"\napi_key = \"{}\"\n",
            sandbox.base_url, sandbox.username, sandbox.api_key
        ),
    )
    .unwrap();
    support::owner_only(&config);
    let env = [
        ("WHISPIR_BASE_URL", sandbox.base_url.as_str()),
        ("WHISPIR_USERNAME", sandbox.username.as_str()),
        ("WHISPIR_PASSWORD", sandbox.password.as_str()),
        ("WHISPIR_API_KEY", sandbox.api_key.as_str()),
    ];
    let output = whispir(
        &config,
        &env,
        &["--json", "messages", "list", "--limit", "1"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // With only a workspace in the environment, the default profile is the
    // place, and the variable it leaves aside is named.
    let output = whispir(
        &config,
        &[("WHISPIR_WORKSPACE", "X")],
        &["messages", "list"],
    );
    assert!(
        stderr(&output).contains("WHISPIR_WORKSPACE is set but not used"),
        "{}",
        stderr(&output)
    );
}
