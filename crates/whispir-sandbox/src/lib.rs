//! An offline, stateful Whispir: the API of `openapi/bundled.json` served
//! from memory, for examples, tests and conformance checks.
//!
//! ```
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use whispir_sandbox::Sandbox;
//!
//! let sandbox = Sandbox::start().await?; // demo data, a free port on 127.0.0.1
//! let contacts = sandbox.client().contact_list().send().await?;
//! println!("{} serves {:?}", sandbox.base_url(), contacts.into_inner());
//! # Ok(()) }
//! ```
//!
//! Every operation of the spec answers: resources are kept per workspace
//! (calls without a workspace act in the first one), request bodies,
//! path, query and header parameters are checked against the spec's
//! schemas, and the API's manners are kept: Basic or Bearer credentials
//! together with `x-api-key` (401 and 403 with Whispir's error bodies and
//! `X-Error-Code`), vendor media types (415 for another version, or for a
//! body sent as plain `application/json`), 404 and 405, `Location` on 201
//! and 202, `limit`/`offset` paging with `link`s and
//! `{"status": "No records found"}`, plan quotas (403
//! `ERR_403_DEVELOPER_OVER_QPS` / `…_OVER_QPD`, or 429 with `Retry-After`),
//! `ETag` and 304.
//!
//! # Testing your code
//!
//! [`Sandbox::sent_messages`] tells what your code sent (recipients,
//! subject, body, email, and [`SentMessage::text`], what an SMS recipient
//! reads), [`Sandbox::requests`] every request and its answer, with
//! credentials redacted. [`Sandbox`] lists every control a test has
//! (message timing, failing recipients, replies, quotas, faults), with an
//! example.
//!
//! # Features
//!
//! - `schema-checks` (default): every request body and parameter is
//!   checked against the spec's schemas, as Whispir checks them (a 400 or
//!   422 naming the field). It brings a JSON Schema validator, most of the
//!   sandbox's build; without it only the sandbox's own rules hold (vendor
//!   media types, recipients, credentials, quotas, required fields).
//! - `cli`: the `whispir-sandbox` binary.
//!
//! # The binary
//!
//! The `whispir-sandbox` binary needs the `cli` feature (so that the
//! library, as a dev-dependency, builds no command-line parser):
//! `cargo run -p whispir-sandbox --features cli -- --port 8080` prints the
//! base URL, the demo credentials, the `export` lines for
//! `whispir::Client::from_env` and a `curl` line that sends a message,
//! and serves until Ctrl-C. `--empty` starts without
//! demo data, `--data FILE` loads a data file, `--config FILE` reads a
//! [`SandboxConfig`] (JSON, or YAML unless the name ends in `.json`), and
//! `--fault`, `--per-second`, `--per-day`, `--too-many-requests`,
//! `--message-step-ms`, `--processing-delay-ms`, `--clock-ahead-secs`
//! and `--auto-reply` add to it; `--help` lists them.
//!
//! # Messages, replies and callbacks
//!
//! Each recipient of a sent message is `PENDING` for one step (1 s unless
//! [`SandboxBuilder::message_step`] says otherwise), `SENT` for the next,
//! then `DELIVRD`, or `FAILED` for [`FAILING_NUMBER`] and the other
//! [failing recipients](SandboxBuilder::failing_recipient). A reply
//! ([`Sandbox::simulate_reply`], or [`SandboxBuilder::auto_reply`]) makes it
//! `READ` and shows in the message's responses. A message whose
//! `callbackId` names a callback (by id or name) makes the sandbox POST
//! Whispir's payload (`messageid`, `messagelocation`, `from`,
//! `responseMessage`, `customParameters`) as JSON or XML to the callback's
//! URL, with its key as `?auth=`, `X-Whispir-Callback-Key`, Basic or Bearer,
//! for undeliverable recipients and replies as the callback enables them;
//! each POST is recorded as a callback call. One-time codes are the first
//! `codeLength` digits of [`CODE_DIGITS`]; [`Sandbox::otp_code`] tells them.
//!
//! The message list is Whispir's: newest first (as Whispir's examples
//! list it); only the last 7 days
//! unless all four `criteriaFromDate`, `criteriaFromTime`,
//! `criteriaToDate`, `criteriaToTime` name a range (the sandbox reads them
//! in UTC; an empty value counts as left out; a partial set, or one that
//! names no date, is a 422); only the API user's messages unless
//! `viewType=shared` (a data file marks another user's message with
//! `"sentByAnotherUser": true`). [`SandboxBuilder::processing_delay`] keeps
//! an accepted message out of the list for a while, as Whispir processes
//! it after its 202, and [`Sandbox::advance_clock`] (or
//! [`SandboxBuilder::clock_ahead`]) runs the sandbox's clock ahead, so a
//! test can see what a client sees days later. The demo messages are
//! dated an hour before the sandbox starts.
//!
//! Whispir documents no default order for the other lists; the sandbox
//! gives their items in the order they were made. Every list sorts by
//! `sortFields` (comma-separated: each next field orders the ties of the
//! ones before it; numbers by value, text regardless of case) in
//! `sortOrder` (`asc` unless `desc`), and pages by `limit` and `offset`.
//!
//! # Data files
//!
//! `workspaces` is a list of workspaces, each of which may hold lists of
//! its `contacts`, `messages`, `templates`, `distributionlists`, `events`,
//! `resources`, `responserules`, `scenarios` and `activities`; `callbacks`,
//! `users`, `keys`, `customlists` and `activities` are lists at the top.
//! Ids given are kept. The demo data ([`DEMO_WORKSPACE_ID`] and a second
//! workspace) has this shape.
//!
//! # Faults
//!
//! A [`FaultRule`] strikes every operation or one (`operationId`), always
//! or a number of times: latency, a TCP reset before or after acting, an
//! error status, a redirect to the same origin (under [`MOVED_PREFIX`]) or
//! to the second listener on another port, a body that is not JSON, a huge
//! body. On the command line: `[OPERATION:]KIND[=VALUE][*TIMES]`, e.g.
//! `--fault messageCreate:status=503*2`.
//!
//! # Limits
//!
//! Credentials and the API key are checked before a request's body is
//! read, so a refused request never makes the sandbox wait for or hold
//! its body. A body may be 10 MiB and must arrive within 30 s. [`Limits`]
//! (the `limits` of a config file, or [`SandboxBuilder::limits`]) bound
//! the rest:
//!
//! | limit | default | past it |
//! |---|---|---|
//! | `max_connections` | 512 | further connections wait, unanswered, until one closes |
//! | `idle_timeout_millis` | 30,000 | a connection that sends no request headers for that long is closed |
//! | `max_tokens` | 1,000 | issuing a token retires the oldest issued one |
//! | `max_callback_calls` | 10,000 | recording a callback call drops the oldest |
//! | `max_recorded_requests` | 1,000 | [`Sandbox::requests`] drops the oldest |
//! | `max_sent_messages` | 10,000 | [`Sandbox::sent_messages`] drops the oldest |
//!
//! Every other collection (each kind of resource, the lives of sent
//! messages, one-time codes) keeps its newest 10,000 records. A recorded
//! callback call names the callback's URL without its query, fragment or
//! user info, where keys travel, and its error text leaves the URL out.
//!
//! # Where it differs from Whispir
//!
//! Nothing is sent; state lives in memory, bounded (see [Limits](#limits)),
//! and is gone when the sandbox stops; a scheduled message starts its life
//! at once; a sent message is checked for what Whispir checks (readable
//! recipients separated by `,`, a subject: 422 naming the field) but not
//! for what only a real network knows; answers are JSON even when `Accept` names an XML twin (the spec
//! documents JSON answers only), while XML request bodies are read. Error
//! bodies carry `status` as text besides `errorSummary`, `errorText` and
//! `errorDetail`, so that they match exactly one branch of the spec's error
//! schema.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, top down (no module uses one above it): the server and
// the request pipeline; the dispatch (`operations`); the resources
// (`resources/`); the terms they share (`answers`, `paging`); the state
// (`state`, `delivery`, `auth`, `store`, ...) and the leaves (`lock`,
// `bounded`, `clock`, `errors`, ...).
mod answers;
mod auth;
mod bounded;
mod clock;
mod config;
mod data;
mod delivery;
mod errors;
mod faults;
mod lock;
mod media;
mod operations;
mod paging;
mod params;
mod pipeline;
mod quota;
mod recipients;
mod recorded;
mod resources;
mod schema;
mod server;
mod spec;
mod state;
mod store;
mod xml;

pub use config::{
    CallbackRetries, ConfigError, FAILING_NUMBER, Limits, MessageBehaviour, OverQuota, Quota,
    SandboxConfig, SandboxCredentials,
};
pub use data::{DEMO_WORKSPACE_ID, DataError};
pub use faults::{
    DEFAULT_HUGE_BODY, Fault, FaultParseError, FaultRule, MOVED_PREFIX, RedirectTarget,
};
pub use recorded::{MAX_RECORDED_BODY, REDACTED, RecordedRequest, SentEmail, SentMessage};
pub use resources::otp::CODE_DIGITS;
pub use server::{Sandbox, SandboxBuilder, StartError};
pub use spec::SpecError;
pub use state::SetupError;
