//! Plan quotas: requests per second and per day, answered the way Whispir
//! does when they are spent.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};

use crate::config::{OverQuota, Quota};
use crate::errors::ApiFailure;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug)]
struct Windows {
    second_start: Instant,
    second_count: u32,
    day_start: Instant,
    day_count: u32,
}

/// Counts requests against a plan's quota.
#[derive(Debug)]
pub(crate) struct QuotaCounter {
    quota: Quota,
    windows: Mutex<Windows>,
}

impl QuotaCounter {
    /// A counter for a quota.
    pub fn new(quota: Quota) -> Self {
        let now = Instant::now();
        QuotaCounter {
            quota,
            windows: Mutex::new(Windows {
                second_start: now,
                second_count: 0,
                day_start: now,
                day_count: 0,
            }),
        }
    }

    /// Counts one request; the answer to give when it is over the quota.
    pub fn admit(&self) -> Result<(), ApiFailure> {
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if now.duration_since(windows.second_start) >= Duration::from_secs(1) {
            windows.second_start = now;
            windows.second_count = 0;
        }
        if now.duration_since(windows.day_start) >= DAY {
            windows.day_start = now;
            windows.day_count = 0;
        }
        if let Some(per_day) = self.quota.per_day
            && windows.day_count >= per_day
        {
            let wait = DAY.saturating_sub(now.duration_since(windows.day_start));
            return Err(ApiFailure::new(
                StatusCode::FORBIDDEN,
                "Developer Over Qpd",
                format!("the plan allows {per_day} requests per day"),
            )
            .code("ERR_403_DEVELOPER_OVER_QPD")
            .header(header::RETRY_AFTER, wait.as_secs().max(1).to_string()));
        }
        if let Some(per_second) = self.quota.per_second
            && windows.second_count >= per_second
        {
            let wait =
                Duration::from_secs(1).saturating_sub(now.duration_since(windows.second_start));
            let retry_after = wait.as_secs_f64().ceil().max(1.0).to_string();
            let detail = format!("the plan allows {per_second} requests per second");
            return Err(match self.quota.over_quota {
                OverQuota::Forbidden => {
                    ApiFailure::new(StatusCode::FORBIDDEN, "Developer Over Qps", detail)
                        .code("ERR_403_DEVELOPER_OVER_QPS")
                }
                OverQuota::TooManyRequests => {
                    ApiFailure::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", detail)
                }
            }
            .header(header::RETRY_AFTER, retry_after));
        }
        windows.second_count += 1;
        windows.day_count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_request_after_the_daily_quota_is_refused() {
        let counter = QuotaCounter::new(Quota {
            per_day: Some(2),
            ..Quota::default()
        });
        assert!(counter.admit().is_ok());
        assert!(counter.admit().is_ok());
        let refused = counter.admit().unwrap_err();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn too_many_requests_per_second_can_answer_429() {
        let counter = QuotaCounter::new(Quota {
            per_second: Some(1),
            over_quota: OverQuota::TooManyRequests,
            ..Quota::default()
        });
        assert!(counter.admit().is_ok());
        assert_eq!(
            counter.admit().unwrap_err().status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
