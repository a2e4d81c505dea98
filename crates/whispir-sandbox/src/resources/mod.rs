//! The resources: each module serves the operations with behaviour of
//! their own (messages, callbacks, imports, one-time codes, tokens), and
//! [`crud`] every other one. They stand on the shared terms
//! ([`crate::answers`], [`crate::paging`]) and the state below them; the
//! dispatch ([`crate::operations`]) and the pipeline stand above.

pub(crate) mod auth_endpoint;
pub(crate) mod callbacks;
pub(crate) mod crud;
pub(crate) mod dynamic;
pub(crate) mod imports;
pub(crate) mod messages;
pub(crate) mod otp;
