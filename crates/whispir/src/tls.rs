//! The TLS implementation that carries HTTPS, chosen by the crate's features:
//! `rustls-aws-lc-rs` (the default), `rustls-ring` or `native-tls`.
//!
//! reqwest builds the TLS configuration itself, so that every TLS setting on
//! a `reqwest::ClientBuilder` given to [`crate::ClientBuilder::http_client`]
//! (roots, versions, client identity) keeps working. With `rustls-ring`
//! alone, reqwest has no crypto provider of its own: it takes the process's
//! default one, and [`install_tls_provider`] installs `ring` there unless the program
//! already chose one.

#[cfg(not(any(
    feature = "rustls-ring",
    feature = "rustls-aws-lc-rs",
    feature = "native-tls"
)))]
compile_error!(
    "whispir needs a TLS implementation: enable one of its features `rustls-aws-lc-rs` \
     (the default), `rustls-ring` or `native-tls`"
);

/// Makes sure reqwest finds a rustls crypto provider when it builds a
/// client: installs `ring` as the process default if none is installed.
///
/// `Client::builder().build()` calls it. Call it yourself before building a
/// plain `reqwest::Client` of your own first, in a program where only this
/// crate's `rustls-ring` feature brings TLS. A provider the program installed
/// itself is left alone, and losing a race to another thread installing one
/// is fine: either way one is in place. It does nothing with the other TLS
/// features.
#[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc-rs")))]
pub fn install_tls_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // rustls deprecated its `ring` provider (no post-quantum key
        // exchange), which is why it is no longer our default; a program
        // that turns `rustls-ring` on asks for it by name, so the warning
        // would tell it nothing.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        // An `Err` only means another provider got there first.
        let _ = provider.install_default();
    }
}

/// Makes sure reqwest finds a TLS implementation: with this feature set,
/// reqwest brings its own provider (`aws-lc-rs`) or does not use rustls, so
/// there is nothing to do.
#[cfg(not(all(feature = "rustls-ring", not(feature = "rustls-aws-lc-rs"))))]
pub fn install_tls_provider() {}
