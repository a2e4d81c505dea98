//! Paging through list operations as an async stream of items.
//!
//! Every list call of the API takes `limit` (at most 20) and `offset` and
//! answers one page with a `link` array (`rel=next` when more follow) or,
//! past the end, `{"status": "No records found"}`. [`ListStream::stream`]
//! hides that: it asks for page after page and yields the items.
//!
//! The [`ListRequest`] implementations for the generated list builders are
//! written by `cargo xtask regen`.

use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::{self, Stream};

use crate::Error;

/// The largest page the API serves.
pub const MAX_PAGE_SIZE: u32 = 20;

/// A generated list request that can be re-sent for any window of items.
pub trait ListRequest<'a>: Clone + Send + 'a {
    /// The item type of the list.
    type Item: Send + 'a;

    /// The same request for `limit` items starting at `offset`.
    fn window(self, limit: u32, offset: u32) -> Self;

    /// Sends the request and splits the page into its items.
    fn fetch_page(self) -> BoxFuture<'a, Result<Page<Self::Item>, Error>>;
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of the page.
    pub items: Vec<T>,
    /// Whether the page links to a next one: `Some(true)` or `Some(false)`
    /// when it has a `link` array, `None` when it says nothing.
    pub has_next: Option<bool>,
}

impl<T> Page<T> {
    /// A page of `items` with the `rel` values of its links, if it had any.
    pub fn new<'r>(
        items: impl PageItems<T>,
        rels: Option<impl IntoIterator<Item = Option<&'r str>>>,
    ) -> Self {
        let has_next = rels.map(|rels| rels.into_iter().any(|rel| rel == Some("next")));
        Self {
            items: items.into_items(),
            has_next,
        }
    }

    /// Whether another page should be asked for after this one.
    fn continues(&self, limit: u32) -> bool {
        match self.has_next {
            _ if self.items.is_empty() => false,
            Some(has_next) => has_next,
            // No links: a full page may be followed by more.
            None => self.items.len() >= usize::try_from(limit).unwrap_or(usize::MAX),
        }
    }
}

/// The item field of a generated page: a list, or an optional one (absent
/// on the empty last page).
pub trait PageItems<T> {
    /// The items, empty when absent.
    fn into_items(self) -> Vec<T>;
}

impl<T> PageItems<T> for Vec<T> {
    fn into_items(self) -> Vec<T> {
        self
    }
}

impl<T> PageItems<T> for Option<Vec<T>> {
    fn into_items(self) -> Vec<T> {
        self.unwrap_or_default()
    }
}

/// Streams the items of a list request, page by page.
pub trait ListStream<'a>: ListRequest<'a> {
    /// All items, in pages of [`MAX_PAGE_SIZE`], starting at offset 0.
    fn stream(self) -> impl Stream<Item = Result<Self::Item, Error>> + Send + 'a {
        self.stream_pages_of(MAX_PAGE_SIZE)
    }

    /// All items, in pages of `page_size` (clamped to 1..=20). A failed page
    /// ends the stream after yielding its error.
    fn stream_pages_of(
        self,
        page_size: u32,
    ) -> impl Stream<Item = Result<Self::Item, Error>> + Send + 'a {
        let limit = page_size.clamp(1, MAX_PAGE_SIZE);
        let state = Some((self, 0u32));
        stream::unfold(state, move |state| async move {
            let (request, offset) = state?;
            match request.clone().window(limit, offset).fetch_page().await {
                Err(err) => Some((stream::iter(vec![Err(err)]), None)),
                Ok(page) => {
                    let count = u32::try_from(page.items.len()).unwrap_or(u32::MAX);
                    let next = page
                        .continues(limit)
                        .then(|| (request, offset.saturating_add(count)));
                    let items: Vec<Result<Self::Item, Error>> =
                        page.items.into_iter().map(Ok).collect();
                    Some((stream::iter(items), next))
                }
            }
        })
        .flatten()
    }
}

impl<'a, T: ListRequest<'a>> ListStream<'a> for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_link_continues_and_its_absence_stops() {
        let with_next = Page::new(vec![1], Some([Some("self"), Some("next")]));
        assert!(with_next.continues(20));
        let last = Page::new(vec![1], Some([Some("prev")]));
        assert!(!last.continues(20));
    }

    #[test]
    fn without_links_a_full_page_continues() {
        let full = Page::new(vec![0; 20], None::<Vec<Option<&str>>>);
        assert!(full.continues(20));
        let short = Page::new(vec![0; 3], None::<Vec<Option<&str>>>);
        assert!(!short.continues(20));
    }

    #[test]
    fn an_empty_page_always_stops() {
        let empty: Page<u8> = Page::new(Vec::new(), Some([Some("next")]));
        assert!(!empty.continues(20));
    }
}
