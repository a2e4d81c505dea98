//! Turning a reqwest failure into the SDK's [`Error`], without the URL
//! reqwest keeps (it may hold credentials).

use http::Method;

use crate::error::{Error, SendState, TransportKind};

/// What a reqwest error says about the request, from its flags. `None` for
/// a request that could not even be built.
fn transport_kind(err: &reqwest::Error) -> Option<(TransportKind, SendState)> {
    if err.is_connect() {
        // Connecting failed (also by timing out): nothing was sent.
        Some((TransportKind::Connect, SendState::NotSent))
    } else if err.is_timeout() {
        Some((TransportKind::Timeout, SendState::MaybeSent))
    } else if err.is_body() || err.is_decode() {
        Some((TransportKind::Body, SendState::MaybeSent))
    } else if err.is_builder() {
        None
    } else {
        Some((TransportKind::Other, SendState::MaybeSent))
    }
}

/// What kind of transport failure a reqwest error is (a request that
/// could not be built counts as [`TransportKind::Other`]).
pub fn kind_of(err: &reqwest::Error) -> TransportKind {
    transport_kind(err).map_or(TransportKind::Other, |(kind, _)| kind)
}

/// Classifies a reqwest error of `operation` and strips its URL.
pub fn from_reqwest(operation: Option<&str>, method: Option<Method>, err: reqwest::Error) -> Error {
    // Only host and port: the rest of the URL may hold what is not ours to show.
    let host = err.url().and_then(|url| {
        let host = url.host_str()?;
        Some(match url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        })
    });
    match transport_kind(&err) {
        Some((kind, sent)) => {
            let error = Error::transport(operation, method, kind, sent, err.without_url());
            match host {
                Some(host) => error.with_host(host),
                None => error,
            }
        }
        None => {
            // Why it could not be built (e.g. a body that refuses to be
            // encoded) is in the causes; none of them holds the URL.
            let causes = causes(&err);
            let mut text = err.without_url().to_string();
            for cause in causes {
                text.push_str(": ");
                text.push_str(&cause);
            }
            Error::invalid_request(operation, text)
        }
    }
}

/// The causes of a reqwest error, outermost first. The error's own text is
/// left out: it holds the request URL, which may hold credentials.
pub fn causes(err: &reqwest::Error) -> Vec<String> {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_is_not_sent_and_keeps_no_url() {
        let http = reqwest::Client::new();
        // Port 9 on loopback: nothing listens there.
        let err = http
            .get("http://user:secret@127.0.0.1:9/messages")
            .send()
            .await
            .expect_err("nothing listens");
        let err = from_reqwest(Some("messageList"), Some(Method::GET), err);
        assert_eq!(err.send_state(), Some(SendState::NotSent));
        assert!(err.is_retryable());
        let shown = format!("{err:#}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(
            shown.starts_with("messageList: could not connect to 127.0.0.1:9;"),
            "{shown}"
        );
        assert_eq!(err.host(), Some("127.0.0.1:9"));
    }
}
