//! Paging through list operations as an async stream of items.
//!
//! Every list call of the API takes `limit` (at most 20) and `offset` and
//! answers one page with a `link` array (`rel=next` when more follow) and a
//! `status` such as "1 to 20 of 45", or, past the end,
//! `{"status": "No records found"}`. [`ListStream::stream`] hides that: it
//! asks for page after page, from the request's own `offset` in pages of
//! its own `limit`, and yields the items.
//!
//! A stream never asks forever. It ends with a [`Refusal`] error, after the
//! items it could trust, when a page holds the same items as one of the
//! last few, in any order (a server that ignores `offset`), when a page links to more past the total it
//! stated, or when it has read [`Items::max_pages`] pages.
//!
//! The [`ListRequest`] implementations for the generated list builders are
//! written by `cargo xtask regen`.

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hasher as _};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::Stream;
use reqwest::Method;
use serde::Serialize;
use whispir_errors::Refusal;

use crate::Error;

/// The largest page the API serves.
pub const MAX_PAGE_SIZE: u32 = 20;

/// The most pages a stream reads unless told otherwise
/// ([`Items::max_pages`]): 200,000 items in pages of 20, and as many
/// requests as the smallest plan allows in a day.
pub const DEFAULT_MAX_PAGES: u32 = 10_000;

/// A generated list request that can be re-sent for any window of items.
pub trait ListRequest<'a>: Clone + Send + 'a {
    /// The item type of the list.
    type Item: Serialize + Send + 'a;

    /// The operation id, e.g. `messageList`, that a stream's errors name.
    const OPERATION_ID: &'static str;

    /// The `limit` and `offset` set on the request, where a stream starts;
    /// `Err` with the setter's text when one refused its value.
    fn requested_window(&self) -> Result<RequestedWindow, String>;

    /// The same request for `limit` items starting at `offset`.
    fn window(self, limit: u32, offset: u32) -> Self;

    /// Sends the request and splits the page into its items.
    fn fetch_page(self) -> BoxFuture<'a, Result<Page<Self::Item>, Error>>;
}

/// The `limit` and `offset` a list request was given, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestedWindow {
    /// The page size asked for.
    pub limit: Option<u32>,
    /// The first item asked for (0 is the first of the list).
    pub offset: Option<u32>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of the page.
    pub items: Vec<T>,
    /// Whether the page links to a next one: `Some(true)` or `Some(false)`
    /// when it has a `link` array, `None` when it says nothing.
    pub has_next: Option<bool>,
    /// How many items the whole list holds, when the page's `status`
    /// says so ("1 to 20 of 45" holds 45).
    pub total: Option<u64>,
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
            total: None,
        }
    }

    /// The page with the total its `status` states, if it states one.
    #[must_use]
    pub fn with_status(mut self, status: Option<&str>) -> Self {
        self.total = status.and_then(stated_total);
        self
    }
}

/// The total of a paging summary such as "1 to 20 of 45"; `None` for
/// anything else ("No records found").
fn stated_total(status: &str) -> Option<u64> {
    let words: Vec<&str> = status.split_whitespace().collect();
    match words.as_slice() {
        [first, to, last, of, total]
            if to.eq_ignore_ascii_case("to")
                && of.eq_ignore_ascii_case("of")
                && first.parse::<u64>().is_ok()
                && last.parse::<u64>().is_ok() =>
        {
            total.parse().ok()
        }
        _ => None,
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

/// A page as the stream sees it: its items, and a hash of them to tell a
/// repeated page (`None` if they could not be serialized).
struct Fetched<T> {
    page: Page<T>,
    fingerprint: Option<u64>,
}

/// A page on its way.
type PageFuture<'a, T> = BoxFuture<'a, Result<Fetched<T>, Error>>;

/// Asks for the page of `limit` items at `offset`.
type FetchPage<'a, T> = Box<dyn Fn(u32, u32) -> PageFuture<'a, T> + Send + 'a>;

/// What the stream does once the items it holds are read.
enum Next {
    /// Ask for the page at this offset.
    Ask(u32),
    /// Yield this error, then end.
    Fail(Error),
    /// End.
    Done,
}

/// The items of a list, fetched page by page as they are read. It is a
/// [`Stream`]; [`Items::try_next`] reads it without further imports.
///
/// After an error it ends. See the [module docs](self) for the errors that
/// stop a list the API would page through forever.
#[must_use = "an item stream does nothing until it is read"]
pub struct Items<'a, T> {
    fetch: FetchPage<'a, T>,
    /// The page being fetched, with the offset it was asked for at.
    in_flight: Option<(u32, PageFuture<'a, T>)>,
    ready: VecDeque<T>,
    next: Next,
    operation: &'static str,
    limit: u32,
    /// Pages read so far.
    pages: u32,
    max_pages: u32,
    /// Items yielded so far.
    yielded: usize,
    /// The most items to yield, if limited ([`Items::max_items`]).
    max_items: Option<usize>,
    /// Fingerprints of the last pages read ([`RECENT_PAGES`] at most).
    recent: VecDeque<u64>,
}

/// How many of the last pages a new page is compared with: a server that
/// ignores the offset and answers the same items in another order, or
/// alternates between a few pages, is caught within a handful of pages.
const RECENT_PAGES: usize = 8;

// Nothing of an `Items` is ever pinned in place: the items are moved out
// whole, and the futures are boxed.
impl<T> Unpin for Items<'_, T> {}

impl<T> std::fmt::Debug for Items<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items")
            .field("operation", &self.operation)
            .field("limit", &self.limit)
            .field("pages", &self.pages)
            .field("max_pages", &self.max_pages)
            .field("max_items", &self.max_items)
            .finish_non_exhaustive()
    }
}

impl<'a, T> Items<'a, T> {
    /// The items of `request`, in pages of `page_size` when given, else of
    /// the request's own limit or [`MAX_PAGE_SIZE`].
    fn start<R>(request: R, page_size: Option<u32>) -> Self
    where
        R: ListRequest<'a, Item = T>,
        T: Serialize + Send + 'a,
    {
        let operation = R::OPERATION_ID;
        let start = first_window(&request, page_size);
        let (limit, next) = match start {
            Ok((limit, offset)) => (limit, Next::Ask(offset)),
            Err(message) => (
                MAX_PAGE_SIZE,
                Next::Fail(Error::invalid_request(Some(operation), message)),
            ),
        };
        let fetch: FetchPage<'a, T> = Box::new(move |limit, offset| {
            let page = request.clone().window(limit, offset).fetch_page();
            Box::pin(async move {
                let page = page.await?;
                let fingerprint = fingerprint(&page.items);
                Ok(Fetched { page, fingerprint })
            })
        });
        Self {
            fetch,
            in_flight: None,
            ready: VecDeque::new(),
            next,
            operation,
            limit,
            pages: 0,
            max_pages: DEFAULT_MAX_PAGES,
            yielded: 0,
            max_items: None,
            recent: VecDeque::with_capacity(RECENT_PAGES),
        }
    }

    /// Reads at most `max_pages` pages (default [`DEFAULT_MAX_PAGES`]),
    /// counting those read already: a list that goes on past them ends the
    /// stream with [`Refusal::PageCap`] after the items read. With 0 the
    /// stream asks for nothing.
    pub fn max_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = max_pages;
        self
    }

    /// Ends the stream after `max_items` items in all, counting those read
    /// already: once they are read, the stream ends as if the list did
    /// (no error, no further page asked for). The page size stays the
    /// request's `limit`, so the last page may hold more than are read.
    /// With 0 the stream asks for nothing.
    ///
    /// ```no_run
    /// # async fn run(client: whispir::Client) -> Result<(), whispir::Error> {
    /// use whispir::ListStream as _;
    ///
    /// // The 50 newest messages, in pages of 10. Whispir documents no
    /// // default order, so the order is asked for.
    /// let newest = client
    ///     .message_list()
    ///     .limit(10)
    ///     .sort_fields("createdTime")
    ///     .sort_order("desc")
    ///     .stream()
    ///     .max_items(50)
    ///     .try_collect()
    ///     .await?;
    /// assert!(newest.len() <= 50);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_items(mut self, max_items: usize) -> Self {
        self.max_items = Some(max_items);
        self
    }

    /// The next item, `None` after the last one.
    pub async fn try_next(&mut self) -> Result<Option<T>, Error> {
        self.next().await.transpose()
    }

    /// Every remaining item, in order (stops at the first error).
    pub async fn try_collect(mut self) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        while let Some(item) = self.try_next().await? {
            all.push(item);
        }
        Ok(all)
    }

    fn refused(&self, refusal: Refusal) -> Error {
        Error::refused(Some(self.operation), Some(Method::GET), refusal)
    }

    /// What to do after the page that was asked for at `offset`, from what
    /// it says and how many items it had.
    fn after_page(
        &self,
        offset: u32,
        count: usize,
        has_next: Option<bool>,
        total: Option<u64>,
    ) -> Next {
        let Some(next_offset) = u32::try_from(count)
            .ok()
            .and_then(|count| offset.checked_add(count))
        else {
            // Past the largest offset the API takes: nothing more to ask.
            return Next::Done;
        };
        let full = usize::try_from(self.limit).is_ok_and(|limit| count >= limit);
        let continues = match has_next {
            _ if count == 0 => false,
            Some(has_next) => has_next,
            // No links: a full page may be followed by more, unless the
            // stated total is reached.
            None => full && total.is_none_or(|total| u64::from(next_offset) < total),
        };
        if !continues {
            return Next::Done;
        }
        if let Some(total) = total
            && u64::from(next_offset) >= total
        {
            return Next::Fail(self.refused(Refusal::PastStatedTotal {
                offset: next_offset,
                total,
            }));
        }
        Next::Ask(next_offset)
    }
}

/// The limit and offset of a stream's first page, or why there is none.
fn first_window<'a, R: ListRequest<'a>>(
    request: &R,
    page_size: Option<u32>,
) -> Result<(u32, u32), String> {
    let window = request.requested_window()?;
    let limit = match (page_size, window.limit) {
        (Some(size), Some(limit)) if size != limit => {
            return Err(format!(
                "the request's limit is {limit} but stream_pages_of asks for pages of {size}; \
                 set only one of them"
            ));
        }
        (Some(size), _) | (None, Some(size)) => size,
        (None, None) => MAX_PAGE_SIZE,
    };
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(format!(
            "a page of {limit} items cannot be asked for: the API serves pages of 1 to \
             {MAX_PAGE_SIZE} items; use a limit in that range (the stream reads page after page)"
        ));
    }
    Ok((limit, window.offset.unwrap_or(0)))
}

/// A hash of the set of items as the API sent them, whatever their order,
/// to tell a page that repeats a recent one; `None` when they cannot be
/// serialized. Each item is hashed on its own and the hashes are added, so
/// the same items in another order give the same fingerprint.
fn fingerprint<T: Serialize>(items: &[T]) -> Option<u64> {
    /// Feeds what is written to a hasher, so that no copy of an item is
    /// made.
    struct Hashing(DefaultHasher);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.write(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut sum = 0u64;
    for item in items {
        let mut hashing = Hashing(DefaultHasher::new());
        serde_json::to_writer(&mut hashing, item).ok()?;
        sum = sum.wrapping_add(hashing.0.finish());
    }
    let mut whole = DefaultHasher::new();
    whole.write_u64(sum);
    whole.write_usize(items.len());
    Some(whole.finish())
}

impl<T> Stream for Items<'_, T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.max_items.is_some_and(|max| this.yielded >= max) {
                // Enough items: what is left is not read, nor asked for.
                this.ready.clear();
                this.in_flight = None;
                this.next = Next::Done;
                return Poll::Ready(None);
            }
            if let Some(item) = this.ready.pop_front() {
                this.yielded = this.yielded.saturating_add(1);
                return Poll::Ready(Some(Ok(item)));
            }
            if let Some((offset, in_flight)) = &mut this.in_flight {
                let offset = *offset;
                let fetched = ready!(in_flight.as_mut().poll(cx));
                this.in_flight = None;
                let Fetched { page, fingerprint } = match fetched {
                    Ok(fetched) => fetched,
                    Err(err) => return Poll::Ready(Some(Err(err))),
                };
                this.pages = this.pages.saturating_add(1);
                if let Some(fingerprint) = fingerprint.filter(|_| !page.items.is_empty()) {
                    if this.recent.contains(&fingerprint) {
                        // The same items as a recent page: none of them are
                        // new, and asking on would get them forever.
                        this.next = Next::Fail(this.refused(Refusal::PageRepeated { offset }));
                        continue;
                    }
                    if this.recent.len() == RECENT_PAGES {
                        this.recent.pop_front();
                    }
                    this.recent.push_back(fingerprint);
                }
                this.next = this.after_page(offset, page.items.len(), page.has_next, page.total);
                this.ready = page.items.into();
                continue;
            }
            match std::mem::replace(&mut this.next, Next::Done) {
                Next::Done => return Poll::Ready(None),
                Next::Fail(err) => return Poll::Ready(Some(Err(err))),
                Next::Ask(_) if this.pages >= this.max_pages => {
                    let max_pages = this.max_pages;
                    return Poll::Ready(Some(Err(this.refused(Refusal::PageCap { max_pages }))));
                }
                Next::Ask(offset) => {
                    this.in_flight = Some((offset, (this.fetch)(this.limit, offset)));
                }
            }
        }
    }
}

/// Streams the items of a list request, page by page.
pub trait ListStream<'a>: ListRequest<'a> {
    /// All items from the request's `offset` (or the first), in pages of
    /// its `limit` (or [`MAX_PAGE_SIZE`]). A limit above
    /// [`MAX_PAGE_SIZE`] is an error, not a smaller page.
    fn stream(self) -> Items<'a, Self::Item> {
        Items::start(self, None)
    }

    /// All items from the request's `offset` (or the first), in pages of
    /// `page_size` (1 to [`MAX_PAGE_SIZE`]; anything else is an error, as
    /// is a `limit` on the request that differs).
    fn stream_pages_of(self, page_size: u32) -> Items<'a, Self::Item> {
        Items::start(self, Some(page_size))
    }
}

impl<'a, T: ListRequest<'a>> ListStream<'a> for T {}

#[cfg(test)]
mod tests;
