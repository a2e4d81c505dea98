//! The config file as a user meets it: an error about it names the file,
//! the line and the key but never a value, and a file holding a secret is
//! refused while others can read it, with the `chmod` that fixes it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use support::{SandboxProcess, assert_no_secret, owner_only};

const PASSWORD: &str = "hunter2-config-secret";

/// `whispir messages list` with only this config file to go by.
fn run_with(config: &Path) -> std::process::Output {
    assert_cmd::Command::new(support::bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", config)
        .args(["--profile", "prod", "messages", "list"])
        .output()
        .unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_typo_in_the_config_file_names_file_line_and_key_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[profiles.prod]\nusername = \"ops\"\npasword = \"{PASSWORD}\"\n"),
    )
    .unwrap();
    owner_only(&config);
    let output = run_with(&config);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_no_secret(&output, &[PASSWORD]);
    let shown = stderr(&output);
    assert!(
        shown.contains(&format!(
            "config file {}, line 3, key `pasword`: unknown key, expected one of",
            config.display()
        )),
        "{shown}"
    );
}

#[test]
fn a_config_file_line_that_is_not_toml_is_named_by_its_number_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[profiles.prod]\npassword = \"{PASSWORD}\n"),
    )
    .unwrap();
    owner_only(&config);
    let output = run_with(&config);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_no_secret(&output, &[PASSWORD]);
    assert!(
        stderr(&output).contains(&format!(
            "config file {}, line 2: not valid TOML",
            config.display()
        )),
        "{}",
        stderr(&output)
    );
}

#[cfg(unix)]
#[test]
fn a_config_file_with_a_password_that_others_can_read_is_refused_until_chmod_600() {
    use std::os::unix::fs::PermissionsExt as _;

    let sandbox = SandboxProcess::start();
    let config = sandbox.path("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.prod]\nbase_url = \"{}\"\nusername = \"{}\"\npassword = \"{}\"\napi_key = \"{}\"\n",
            sandbox.base_url, sandbox.username, sandbox.password, sandbox.api_key
        ),
    )
    .unwrap();
    for mode in [0o644, 0o640, 0o604, 0o620, 0o666] {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode)).unwrap();
        let output = run_with(&config);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert_no_secret(&output, &sandbox.secrets());
        let shown = stderr(&output);
        assert!(
            shown.contains(&format!(
                "config file {path} holds a password, token or API key and other users can read or change it \
                 (mode {mode:04o}); run `chmod 600 {path}`",
                path = config.display()
            )),
            "{shown}"
        );
    }
    // The command the error gives is the fix.
    let chmod = std::process::Command::new("chmod")
        .arg("600")
        .arg(&config)
        .status()
        .unwrap();
    assert!(chmod.success());
    let output = run_with(&config);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_no_secret(&output, &sandbox.secrets());
}

#[cfg(unix)]
#[test]
fn a_config_file_without_secrets_may_be_readable_by_others() {
    use std::os::unix::fs::PermissionsExt as _;

    let sandbox = SandboxProcess::start();
    let config = sandbox.path("config.toml");
    std::fs::write(
        &config,
        format!("[profiles.prod]\nbase_url = \"{}\"\n", sandbox.base_url),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    // The credentials come from flags: a profile is taken whole, so the
    // environment's would not be mixed into it.
    let output = sandbox
        .command()
        .env("WHISPIR_CONFIG", &config)
        .args([
            "--profile",
            "prod",
            "--api-key",
            &sandbox.api_key,
            "--username",
            &sandbox.username,
            "--password",
            &sandbox.password,
            "messages",
            "list",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}
