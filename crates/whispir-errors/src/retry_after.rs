//! `Retry-After`, in both of its forms: a number of seconds or an HTTP date.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The longest wait the SDK accepts from a server; larger values are capped
/// so that a bogus header cannot park a caller for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait a `Retry-After` header asks for.
///
/// The seconds form is the wait itself. The date form is measured against
/// the answer's own `Date` header when it has a usable one (RFC 9110
/// §10.2.3): both dates come from the server's clock, so a client whose
/// clock is off still waits what the server meant. Only an answer without
/// a `Date` that parses is measured from `now`, the local clock.
///
/// A date before the answer's (or before `now`) means no wait (zero). A
/// value that is neither form is ignored (`None`).
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = header_text(headers, http::header::RETRY_AFTER)?;
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let until = httpdate::parse_http_date(value).ok()?;
        let sent = header_text(headers, http::header::DATE)
            .and_then(|date| httpdate::parse_http_date(date).ok())
            .unwrap_or(now);
        until.duration_since(sent).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A header's value as text, trimmed; `None` when absent or not text.
fn header_text(headers: &HeaderMap, name: http::header::HeaderName) -> Option<&str> {
    Some(headers.get(name)?.to_str().ok()?.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_str(value).expect("valid"),
        );
        headers
    }

    /// A `Retry-After` date `wait` after the answer's `Date`, `sent`.
    fn dated(sent: SystemTime, wait: Duration) -> HeaderMap {
        let mut headers = headers(&httpdate::fmt_http_date(sent + wait));
        headers.insert(
            http::header::DATE,
            HeaderValue::from_str(&httpdate::fmt_http_date(sent)).expect("valid"),
        );
        headers
    }

    /// A server time on a whole second, as HTTP dates carry.
    const SERVER_NOW: u64 = 1_445_412_480;

    #[test]
    fn seconds_form_is_read() {
        assert_eq!(
            parse_retry_after(&headers("7"), SystemTime::now()),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn a_date_is_measured_from_the_answers_date_when_the_client_clock_is_slow() {
        let server = SystemTime::UNIX_EPOCH + Duration::from_secs(SERVER_NOW);
        let ten_minutes_slow = server - Duration::from_secs(600);
        assert_eq!(
            parse_retry_after(&dated(server, Duration::from_secs(1)), ten_minutes_slow),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn a_date_is_measured_from_the_answers_date_when_the_client_clock_is_fast() {
        let server = SystemTime::UNIX_EPOCH + Duration::from_secs(SERVER_NOW);
        let ten_minutes_fast = server + Duration::from_secs(600);
        assert_eq!(
            parse_retry_after(&dated(server, Duration::from_secs(30)), ten_minutes_fast),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn a_date_before_the_answers_date_means_no_wait() {
        let server = SystemTime::UNIX_EPOCH + Duration::from_secs(SERVER_NOW);
        let mut headers = dated(server, Duration::ZERO);
        headers.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(server - Duration::from_secs(5)))
                .expect("valid"),
        );
        let client_slow = server - Duration::from_secs(600);
        assert_eq!(
            parse_retry_after(&headers, client_slow),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn an_unusable_answer_date_falls_back_to_the_local_clock() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(SERVER_NOW);
        let mut headers = headers(&httpdate::fmt_http_date(now + Duration::from_secs(90)));
        headers.insert(http::header::DATE, HeaderValue::from_static("yesterday"));
        assert_eq!(
            parse_retry_after(&headers, now),
            Some(Duration::from_secs(90))
        );
    }

    #[test]
    fn the_seconds_form_ignores_the_answers_date() {
        let server = SystemTime::UNIX_EPOCH + Duration::from_secs(SERVER_NOW);
        let mut headers = dated(server, Duration::ZERO);
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            parse_retry_after(&headers, server - Duration::from_secs(600)),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn without_a_date_header_a_date_is_measured_from_now() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(
            parse_retry_after(&headers(&later), now),
            Some(Duration::from_secs(90))
        );
    }

    #[test]
    fn a_past_date_means_no_wait() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        assert_eq!(
            parse_retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT"), now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn garbage_and_absence_are_ignored() {
        assert_eq!(parse_retry_after(&headers("soon"), SystemTime::now()), None);
        assert_eq!(parse_retry_after(&headers("-3"), SystemTime::now()), None);
        assert_eq!(
            parse_retry_after(&HeaderMap::new(), SystemTime::now()),
            None
        );
    }

    #[test]
    fn huge_waits_are_capped() {
        let wait = parse_retry_after(&headers("99999999999"), SystemTime::now());
        assert_eq!(wait, Some(MAX_RETRY_AFTER));
    }
}
