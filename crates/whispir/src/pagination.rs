//! Paging through list operations as an async stream of items.
//!
//! Every list call of the API takes `limit` (at most 20) and `offset` and
//! answers one page with a `link` array (`rel=next` when more follow) or,
//! past the end, `{"status": "No records found"}`. [`ListStream::stream`]
//! hides that: it asks for page after page and yields the items.
//!
//! The [`ListRequest`] implementations for the generated list builders are
//! written by `cargo xtask regen`.

use std::pin::Pin;
use std::task::{Context, Poll};

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

/// The items of a list, fetched page by page as they are read. It is a
/// [`Stream`]; [`Items::try_next`] reads it without further imports.
#[must_use = "an item stream does nothing until it is read"]
pub struct Items<'a, T> {
    inner: Pin<Box<dyn Stream<Item = Result<T, Error>> + Send + 'a>>,
}

impl<T> std::fmt::Debug for Items<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items").finish_non_exhaustive()
    }
}

impl<'a, T> Items<'a, T> {
    /// The next item, `None` after the last one.
    pub async fn try_next(&mut self) -> Result<Option<T>, Error> {
        self.inner.next().await.transpose()
    }

    /// Every remaining item, in order (stops at the first error).
    pub async fn try_collect(mut self) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        while let Some(item) = self.try_next().await? {
            all.push(item);
        }
        Ok(all)
    }
}

impl<T> Stream for Items<'_, T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// Streams the items of a list request, page by page.
pub trait ListStream<'a>: ListRequest<'a> {
    /// All items, in pages of [`MAX_PAGE_SIZE`].
    fn stream(self) -> Items<'a, Self::Item> {
        self.stream_pages_of(MAX_PAGE_SIZE)
    }

    /// All items, in pages of `page_size` (1 to [`MAX_PAGE_SIZE`]).
    fn stream_pages_of(self, page_size: u32) -> Items<'a, Self::Item> {
        let limit = page_size.clamp(1, MAX_PAGE_SIZE);
        let state = Some((self, 0u32));
        let pages = stream::unfold(state, move |state| async move {
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
        });
        Items {
            inner: Box::pin(pages.flatten()),
        }
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
