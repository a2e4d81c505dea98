//! Registering a callback and receiving it, from one description: the
//! model Whispir is sent and the [`Receiver`] that accepts what Whispir
//! then posts can never disagree on the key or where it travels.

use whispir_callbacks::{AuthMode, CallbackKey, DedupStore, KeyError, Receiver};

use crate::enums::{
    CallbackAuthType, CallbackCallbacksReply, CallbackCallbacksUndeliverable, CallbackContentType,
    CallbackRemoveHtml,
};
use crate::types::{Callback, CallbackAuth, CallbackCallbacks};
use crate::{Client, Error, ExtraFields};

impl From<AuthMode> for CallbackAuthType {
    /// The model's name for a receiver's [`AuthMode`]: the same four
    /// places Whispir can put the key.
    fn from(mode: AuthMode) -> Self {
        match mode {
            AuthMode::QueryParam => Self::Queryparam,
            AuthMode::HttpHeader => Self::Httpheader,
            AuthMode::BasicAuth => Self::Basicauth,
            AuthMode::BearerToken => Self::Bearertoken,
        }
    }
}

/// A callback to register with Whispir: its name, the URL Whispir posts
/// to, where the key travels ([`AuthMode`]) and which events are wanted.
///
/// [`register`](Self::register) creates it and gives back the matching
/// [`Receiver`] for the server that takes the posts.
///
/// ```no_run
/// use whispir::callbacks::{AuthMode, CallbackKey};
/// use whispir::CallbackSetup;
///
/// # async fn run(client: whispir::Client) -> anyhow::Result<()> {
/// let key = CallbackKey::new(std::env::var("CALLBACK_KEY")?)?;
/// let setup = CallbackSetup::new("orders", "https://example.com/whispir", AuthMode::HttpHeader, key)?
///     .failures_to("ops@example.com");
/// let receiver = setup.register(&client).await?;
/// // serve `receiver.into_service(handler)` at https://example.com/whispir
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CallbackSetup {
    name: String,
    url: String,
    mode: AuthMode,
    key: CallbackKey,
    replies: bool,
    undeliverable: bool,
    retries: bool,
    remove_html: bool,
    failures_to: String,
    dedup: Option<DedupStore>,
}

impl CallbackSetup {
    /// A callback named `name` posting to `url` with `key` in `mode`; it
    /// asks for replies and undeliverable notices, JSON bodies and
    /// Whispir's retries. Refused when `key` cannot travel unchanged in
    /// `mode` (see [`KeyError::NotQuerySafe`]).
    pub fn new(
        name: impl Into<String>,
        url: impl Into<String>,
        mode: AuthMode,
        key: CallbackKey,
    ) -> Result<Self, KeyError> {
        // The receiver checks the key for its mode: the same check here.
        Receiver::new(mode, key.clone())?;
        Ok(Self {
            name: name.into(),
            url: url.into(),
            mode,
            key,
            replies: true,
            undeliverable: true,
            retries: true,
            remove_html: false,
            failures_to: String::new(),
            dedup: None,
        })
    }

    /// Whether Whispir posts recipients' replies (default: yes).
    pub fn replies(mut self, wanted: bool) -> Self {
        self.replies = wanted;
        self
    }

    /// Whether Whispir posts undeliverable notices (default: yes).
    pub fn undeliverable(mut self, wanted: bool) -> Self {
        self.undeliverable = wanted;
        self
    }

    /// Whether Whispir retries a post the receiver did not accept
    /// (default: yes; give the receiver a store with
    /// [`dedup`](Self::dedup) to act once per event).
    pub fn retries(mut self, wanted: bool) -> Self {
        self.retries = wanted;
        self
    }

    /// Whether Whispir strips HTML from replies (default: no).
    pub fn remove_html(mut self, wanted: bool) -> Self {
        self.remove_html = wanted;
        self
    }

    /// The address Whispir tells when it cannot deliver a callback.
    /// Whispir requires one: [`register`](Self::register) refuses a setup
    /// without it.
    pub fn failures_to(mut self, email: impl Into<String>) -> Self {
        self.failures_to = email.into();
        self
    }

    /// Where the receiver keeps its claims, so that its service acts once
    /// per event: a [`Deduplicator`](whispir_callbacks::Deduplicator) for
    /// one process, a `RedisDedup` (feature `redis`) for replicas (see
    /// [`Receiver::with_dedup`]).
    pub fn dedup(mut self, store: impl Into<DedupStore>) -> Self {
        self.dedup = Some(store.into());
        self
    }

    /// The receiver that accepts this callback's posts, with the
    /// [`dedup`](Self::dedup) store if one was given.
    pub fn receiver(&self) -> Result<Receiver, KeyError> {
        let receiver = Receiver::new(self.mode, self.key.clone())?;
        Ok(match &self.dedup {
            Some(store) => receiver.with_dedup(store.clone()),
            None => receiver,
        })
    }

    /// The model `callback_create` sends (it carries the key: never log
    /// it; its `Debug` shows the key as Whispir's model does).
    pub fn model(&self) -> Callback {
        let on = |wanted: bool| {
            if wanted {
                (
                    CallbackCallbacksReply::Enabled,
                    CallbackCallbacksUndeliverable::Enabled,
                )
            } else {
                (
                    CallbackCallbacksReply::Disabled,
                    CallbackCallbacksUndeliverable::Disabled,
                )
            }
        };
        Callback {
            auth: CallbackAuth {
                key: self.key.expose_secret().to_owned(),
                type_: self.mode.into(),
                extra_fields: ExtraFields::default(),
            },
            callbacks: CallbackCallbacks {
                reply: on(self.replies).0,
                undeliverable: on(self.undeliverable).1,
                extra_fields: ExtraFields::default(),
            },
            content_type: CallbackContentType::Json,
            email: self.failures_to.clone(),
            id: None,
            link: None,
            name: self.name.clone(),
            remove_html: if self.remove_html {
                CallbackRemoveHtml::Enabled
            } else {
                CallbackRemoveHtml::Disabled
            },
            retries_enabled: self.retries,
            url: self.url.clone(),
            extra_fields: ExtraFields::default(),
        }
    }

    /// Why Whispir would refuse `failures_to`, if it would: the spec
    /// requires `email`, an address of at most 64 characters.
    fn failures_to_problem(&self) -> Option<String> {
        let email = &self.failures_to;
        if email.trim().is_empty() {
            Some(
                "no address for failed callbacks: Whispir requires one; \
                 set it with CallbackSetup::failures_to"
                    .to_string(),
            )
        } else if !crate::recipients::is_address(email) || email.chars().count() > 64 {
            Some(format!(
                "failures_to ({email:?}) is not an email address of at most 64 characters"
            ))
        } else {
            None
        }
    }

    /// Registers the callback with Whispir (`callback_create`, in the
    /// client's workspace if it has one) and gives the matching receiver.
    /// Refused before anything is sent without a
    /// [`failures_to`](Self::failures_to) address.
    pub async fn register(&self, client: &Client) -> Result<Receiver, Error> {
        if let Some(problem) = self.failures_to_problem() {
            return Err(Error::invalid_request(Some("callbackCreate"), problem));
        }
        // The receiver first: a key it refused would never be registered.
        // (`new` checked it for this mode already; never unwrapped.)
        let receiver = self
            .receiver()
            .map_err(|err| Error::invalid_request(Some("callbackCreate"), err.to_string()))?;
        client.callback_create().body(self.model()).send().await?;
        Ok(receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CallbackKey {
        CallbackKey::new("example-key-1").expect("a valid key")
    }

    #[test]
    fn every_receiver_mode_has_its_model_name() {
        for mode in AuthMode::ALL {
            assert_eq!(CallbackAuthType::from(mode).as_str(), mode.as_str());
        }
    }

    #[test]
    fn the_model_carries_what_the_receiver_checks() {
        let setup = CallbackSetup::new(
            "orders",
            "https://example.com/cb",
            AuthMode::BearerToken,
            key(),
        )
        .expect("a valid setup")
        .undeliverable(false)
        .failures_to("ops@example.com");
        let model = serde_json::to_value(setup.model()).expect("json");
        assert_eq!(
            model["auth"],
            serde_json::json!({"type": "bearertoken", "key": "example-key-1"})
        );
        assert_eq!(
            model["callbacks"],
            serde_json::json!({"reply": "enabled", "undeliverable": "disabled"})
        );
        assert_eq!(model["contentType"], "json");
        assert_eq!(model["retriesEnabled"], true);
        assert_eq!(model["email"], "ops@example.com");
        assert_eq!(setup.receiver().expect("receiver").accepted_keys().len(), 1);
        assert!(setup.receiver().expect("receiver").dedup().is_none());
    }

    #[test]
    fn the_receiver_carries_the_dedup_store() {
        let setup = CallbackSetup::new(
            "orders",
            "https://example.com/cb",
            AuthMode::HttpHeader,
            key(),
        )
        .expect("a valid setup")
        .dedup(whispir_callbacks::Deduplicator::new(
            10,
            whispir_callbacks::DEFAULT_REMEMBER_DONE,
        ));
        assert!(setup.receiver().expect("receiver").dedup().is_some());
    }

    #[tokio::test]
    async fn a_setup_without_an_address_for_failures_is_refused_before_sending() {
        // Port 9 (discard): a request that were sent would fail to connect.
        let client = Client::builder()
            .base_url("http://127.0.0.1:9")
            .credentials(crate::Credentials::basic("u", "p"))
            .api_key("k")
            .build()
            .expect("a client");
        let setup = CallbackSetup::new(
            "orders",
            "https://example.com/cb",
            AuthMode::HttpHeader,
            key(),
        )
        .expect("a valid setup");
        let err = setup.register(&client).await.expect_err("no address");
        assert!(err.is_invalid_request(), "{err:?}");
        assert!(
            err.to_string().contains("CallbackSetup::failures_to"),
            "{err}"
        );
        let err = setup
            .failures_to("ops")
            .register(&client)
            .await
            .expect_err("not an address");
        assert!(
            err.to_string()
                .contains("(\"ops\") is not an email address"),
            "{err}"
        );
    }

    #[test]
    fn a_key_that_cannot_travel_in_its_mode_is_refused_at_once() {
        let key = CallbackKey::new("a&b").expect("visible ASCII");
        assert!(matches!(
            CallbackSetup::new(
                "orders",
                "https://example.com/cb",
                AuthMode::QueryParam,
                key
            ),
            Err(KeyError::NotQuerySafe { .. })
        ));
    }
}
