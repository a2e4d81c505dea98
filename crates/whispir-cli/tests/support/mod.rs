//! What the CLI tests share: a sandbox running as `whispir sandbox` in
//! its own process, and `whispir` commands pointed at it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Makes `path` readable by its owner only, as the CLI requires of a
/// config file that holds secrets.
pub fn owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// The `whispir` binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_whispir"))
}

/// A `whispir sandbox` process, stopped when dropped.
pub struct SandboxProcess {
    child: Child,
    /// Its base URL.
    pub base_url: String,
    /// Its user name.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Its API key.
    pub api_key: String,
    /// A folder for config files and CSVs, removed when dropped.
    pub dir: tempfile::TempDir,
}

impl SandboxProcess {
    /// Starts one on a free port, with messages moving on every 50 ms.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// The same, with more `whispir sandbox` flags.
    pub fn start_with(flags: &[&str]) -> Self {
        let mut child = Command::new(bin())
            .args([
                "--json",
                "sandbox",
                "--port",
                "0",
                "--message-step-ms",
                "50",
                "--quiet",
            ])
            .args(flags)
            .env("WHISPIR_CONFIG", "/nonexistent/whispir.toml")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("whispir sandbox starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("a line");
        let info: Value = serde_json::from_str(&line).expect("the sandbox prints JSON");
        let text = |key: &str| info[key].as_str().expect(key).to_string();
        Self {
            base_url: text("baseUrl"),
            username: text("username"),
            password: text("password"),
            api_key: text("apiKey"),
            dir: tempfile::tempdir().expect("temp dir"),
            child,
        }
    }

    /// `whispir ARGS` against this sandbox, credentials from the environment.
    pub fn command(&self) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::new(bin());
        self.configure(&mut command);
        command
    }

    /// The same, as a `std` command (for processes to kill).
    pub fn std_command(&self) -> Command {
        let mut command = Command::new(bin());
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("WHISPIR_CONFIG", self.dir.path().join("none.toml"))
            .env("WHISPIR_BASE_URL", &self.base_url)
            .env("WHISPIR_USERNAME", &self.username)
            .env("WHISPIR_PASSWORD", &self.password)
            .env("WHISPIR_API_KEY", &self.api_key)
            .current_dir(self.dir.path());
        command
    }

    fn configure(&self, command: &mut assert_cmd::Command) {
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("WHISPIR_CONFIG", self.dir.path().join("none.toml"))
            .env("WHISPIR_BASE_URL", &self.base_url)
            .env("WHISPIR_USERNAME", &self.username)
            .env("WHISPIR_PASSWORD", &self.password)
            .env("WHISPIR_API_KEY", &self.api_key)
            .current_dir(self.dir.path());
    }

    /// The secrets no output may show.
    pub fn secrets(&self) -> [&str; 2] {
        [&self.password, &self.api_key]
    }

    /// Every message the sandbox lists, as JSON.
    pub fn messages(&self) -> Vec<Value> {
        let output = self
            .command()
            .args(["--json", "messages", "list", "--all"])
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        json_lines(&output.stdout)
    }

    /// A file in the test folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// JSON lines of a command's output.
pub fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{line:?}: {err}")))
        .collect()
}

/// Asserts that neither output shows a secret.
pub fn assert_no_secret(output: &std::process::Output, secrets: &[&str]) {
    for stream in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(stream);
        for secret in secrets {
            assert!(!text.contains(secret), "a secret was printed:\n{text}");
        }
    }
}

/// Writes a CSV of `n` rows to distinct recipients.
pub fn write_csv(path: &Path, n: usize) {
    let mut text = String::from("to,name\n");
    for i in 0..n {
        text.push_str(&format!("614{:08},Person {i}\n", 10_000 + i));
    }
    std::fs::write(path, text).expect("csv written");
}
