//! `Retry-After`, in both of its forms: a number of seconds or an HTTP date.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The longest wait the SDK accepts from a server; larger values are capped
/// so that a bogus header cannot park a caller for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait a `Retry-After` header asks for, measured from `now`.
///
/// A date in the past means "now" (zero). A value that is neither form is
/// ignored (`None`).
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
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

    #[test]
    fn seconds_form_is_read() {
        assert_eq!(
            parse_retry_after(&headers("7"), SystemTime::now()),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn date_form_is_measured_from_now() {
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
