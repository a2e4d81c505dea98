//! What the crate counts through the OpenTelemetry metrics API (feature
//! `opentelemetry`): callbacks received, refused (by reason) and duplicate.
//! Without the feature the type has no size and every method is empty.
//!
//! | instrument | unit | attributes |
//! | --- | --- | --- |
//! | `whispir.callbacks.received` counter | `{callback}` | none |
//! | `whispir.callbacks.refused` counter | `{callback}` | `whispir.refusal.reason` |
//! | `whispir.callbacks.duplicates` counter | `{callback}` | none |
//!
//! No attribute ever carries what a request held (its key, body, sender or
//! text): a refusal's reason is one of a fixed set of names.

use crate::error::CallbackError;
use crate::payload::Callback;

/// The meter's scope name.
#[cfg(feature = "opentelemetry")]
const SCOPE: &str = "whispir-callbacks";

/// The counters of one receiver (or store), made from one meter provider.
#[cfg(feature = "opentelemetry")]
#[derive(Debug, Clone)]
pub(crate) struct CallbackMetrics {
    received: opentelemetry::metrics::Counter<u64>,
    refused: opentelemetry::metrics::Counter<u64>,
    duplicates: opentelemetry::metrics::Counter<u64>,
}

/// Nothing: the crate was built without `opentelemetry`.
#[cfg(not(feature = "opentelemetry"))]
#[derive(Debug, Clone)]
pub(crate) struct CallbackMetrics;

#[cfg(feature = "opentelemetry")]
impl CallbackMetrics {
    /// The counters of the global meter provider as it is now.
    pub(crate) fn global() -> Self {
        Self::from_meter(&opentelemetry::global::meter_with_scope(scope()))
    }

    /// The counters of `provider`.
    pub(crate) fn from_provider(provider: &impl opentelemetry::metrics::MeterProvider) -> Self {
        Self::from_meter(&provider.meter_with_scope(scope()))
    }

    fn from_meter(meter: &opentelemetry::metrics::Meter) -> Self {
        Self {
            received: meter
                .u64_counter("whispir.callbacks.received")
                .with_unit("{callback}")
                .with_description("Callback requests that passed every check and parsed")
                .build(),
            refused: meter
                .u64_counter("whispir.callbacks.refused")
                .with_unit("{callback}")
                .with_description("Callback requests refused, by reason (bad_key, bad_body, …)")
                .build(),
            duplicates: meter
                .u64_counter("whispir.callbacks.duplicates")
                .with_unit("{callback}")
                .with_description(
                    "Deliveries of an event already acted on or being handled: not acted on",
                )
                .build(),
        }
    }

    /// Counts a request's verdict: received, or refused for its reason.
    pub(crate) fn verdict(&self, verdict: &Result<Callback, CallbackError>) {
        match verdict {
            Ok(_) => self.received.add(1, &[]),
            Err(error) => self.refused.add(
                1,
                &[opentelemetry::KeyValue::new(
                    "whispir.refusal.reason",
                    error.refusal_reason(),
                )],
            ),
        }
    }

    /// Counts a delivery the store did not let through: done before, or
    /// held by another delivery.
    pub(crate) fn duplicate(&self) {
        self.duplicates.add(1, &[]);
    }
}

/// The meter's scope: the crate's name and version.
#[cfg(feature = "opentelemetry")]
fn scope() -> opentelemetry::InstrumentationScope {
    opentelemetry::InstrumentationScope::builder(SCOPE)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

#[cfg(not(feature = "opentelemetry"))]
impl CallbackMetrics {
    #[inline(always)]
    pub(crate) fn global() -> Self {
        Self
    }

    #[inline(always)]
    pub(crate) fn verdict(&self, _verdict: &Result<Callback, CallbackError>) {}

    #[inline(always)]
    pub(crate) fn duplicate(&self) {}
}

// Its `Recorder` serves the Redis store's tests too.
#[cfg(test)]
#[cfg(feature = "opentelemetry")]
pub(crate) mod tests;
