#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::ops::Range;
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;

use super::*;

type Serve = dyn Fn(u32, u32) -> Result<Page<u32>, Error> + Send + Sync;

/// A list request over pages that `serve` makes up from limit and offset,
/// recording every window asked for.
#[derive(Clone)]
struct FakeList {
    requested: Result<RequestedWindow, String>,
    window: (u32, u32),
    serve: Arc<Serve>,
    asked: Arc<Mutex<Vec<(u32, u32)>>>,
}

impl<'a> ListRequest<'a> for FakeList {
    type Item = u32;
    const OPERATION_ID: &'static str = "fakeList";

    fn requested_window(&self) -> Result<RequestedWindow, String> {
        self.requested.clone()
    }

    fn window(mut self, limit: u32, offset: u32) -> Self {
        self.window = (limit, offset);
        self
    }

    fn fetch_page(self) -> BoxFuture<'a, Result<Page<u32>, Error>> {
        self.asked.lock().unwrap().push(self.window);
        let page = (self.serve)(self.window.0, self.window.1);
        Box::pin(async move { page })
    }
}

fn list(serve: impl Fn(u32, u32) -> Result<Page<u32>, Error> + Send + Sync + 'static) -> FakeList {
    FakeList {
        requested: Ok(RequestedWindow::default()),
        window: (0, 0),
        serve: Arc::new(serve),
        asked: Arc::default(),
    }
}

fn requested(list: FakeList, limit: Option<u32>, offset: Option<u32>) -> FakeList {
    FakeList {
        requested: Ok(RequestedWindow { limit, offset }),
        ..list
    }
}

/// A page of the items in `range`, with a `next` link or not (`None`: no
/// links at all), and a paging summary.
fn page(range: Range<u32>, next: Option<bool>, status: Option<&str>) -> Page<u32> {
    let rels = next.map(|next| {
        let mut rels = vec![Some("self")];
        if next {
            rels.push(Some("next"));
        }
        rels
    });
    Page::new(range.collect::<Vec<_>>(), rels).with_status(status)
}

/// The items a stream yields before it ends, and the error it ends with.
/// At most 1000 results are read: a stream that would go on forever shows
/// as a thousand items without an error.
fn read(items: Items<'_, u32>) -> (Vec<u32>, Option<Error>) {
    let results: Vec<Result<u32, Error>> = futures::executor::block_on(items.take(1000).collect());
    let mut read = Vec::new();
    let mut error = None;
    for result in results {
        match result {
            Ok(item) => {
                assert!(error.is_none(), "an item after the error");
                read.push(item);
            }
            Err(err) => {
                assert!(error.is_none(), "a second error: {err}");
                error = Some(err);
            }
        }
    }
    (read, error)
}

fn asked(list: &FakeList) -> Vec<(u32, u32)> {
    list.asked.lock().unwrap().clone()
}

#[test]
fn a_next_link_continues_and_its_absence_stops() {
    let list = list(|limit, offset| {
        Ok(match offset {
            0 => page(0..limit, Some(true), None),
            _ => page(offset..offset + 5, Some(false), None),
        })
    });
    let (items, error) = read(list.clone().stream());
    assert_eq!(items, (0..25).collect::<Vec<_>>());
    assert!(error.is_none(), "{error:?}");
    assert_eq!(asked(&list), [(20, 0), (20, 20)]);
}

#[test]
fn without_links_a_full_page_continues_and_a_short_one_stops() {
    let list = list(|limit, offset| {
        Ok(match offset {
            0 => page(0..limit, None, None),
            _ => page(offset..offset + 3, None, None),
        })
    });
    let (items, error) = read(list.clone().stream());
    assert_eq!(items.len(), 23);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(asked(&list), [(20, 0), (20, 20)]);
}

#[test]
fn an_empty_page_stops_even_with_a_next_link() {
    let list = list(|_, _| Ok(page(0..0, Some(true), Some("No records found"))));
    let (items, error) = read(list.clone().stream());
    assert!(items.is_empty());
    assert!(error.is_none(), "{error:?}");
    assert_eq!(asked(&list).len(), 1);
}

#[test]
fn a_server_that_ignores_the_offset_ends_the_stream_as_page_repeated() {
    let list = list(|limit, _| Ok(page(0..limit, Some(true), Some("1 to 20 of 400"))));
    let (items, error) = read(list.clone().stream());
    assert_eq!(
        items,
        (0..20).collect::<Vec<_>>(),
        "the repeat is not yielded"
    );
    let error = error.expect("an error, not an endless stream");
    assert_eq!(error.refusal(), Some(&Refusal::PageRepeated { offset: 20 }));
    assert_eq!(error.operation(), Some("fakeList"));
    assert_eq!(asked(&list).len(), 2);
}

#[test]
fn a_next_link_past_the_stated_total_ends_the_stream_as_past_stated_total() {
    let list = list(|limit, offset| {
        let status = format!("{} to {} of 40", offset + 1, offset + limit);
        Ok(page(offset..offset + limit, Some(true), Some(&status)))
    });
    let (items, error) = read(list.clone().stream());
    assert_eq!(
        items,
        (0..40).collect::<Vec<_>>(),
        "the stated items come first"
    );
    assert_eq!(
        error.expect("an error").refusal(),
        Some(&Refusal::PastStatedTotal {
            offset: 40,
            total: 40
        })
    );
    assert_eq!(asked(&list), [(20, 0), (20, 20)]);
}

#[test]
fn without_links_the_stated_total_ends_the_stream_without_another_request() {
    let list = list(|limit, offset| {
        let status = format!("{} to {} of 40", offset + 1, offset + limit);
        Ok(page(offset..offset + limit, None, Some(&status)))
    });
    let (items, error) = read(list.clone().stream());
    assert_eq!(items.len(), 40);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(asked(&list), [(20, 0), (20, 20)]);
}

#[test]
fn a_list_that_goes_on_ends_at_the_page_cap() {
    let list = list(|limit, offset| Ok(page(offset..offset + limit, Some(true), None)));
    let (items, error) = read(list.clone().stream().max_pages(3));
    assert_eq!(items, (0..60).collect::<Vec<_>>());
    assert_eq!(
        error.expect("an error").refusal(),
        Some(&Refusal::PageCap { max_pages: 3 })
    );
    assert_eq!(asked(&list).len(), 3);
}

#[test]
fn a_page_cap_of_zero_asks_for_nothing() {
    let list = list(|limit, offset| Ok(page(offset..offset + limit, Some(true), None)));
    let (items, error) = read(list.clone().stream().max_pages(0));
    assert!(items.is_empty());
    assert_eq!(
        error.expect("an error").refusal(),
        Some(&Refusal::PageCap { max_pages: 0 })
    );
    assert!(asked(&list).is_empty());
}

#[test]
fn max_items_ends_the_stream_after_that_many_items_without_asking_further() {
    let list = list(|limit, offset| Ok(page(offset..offset + limit, Some(true), None)));
    let (items, error) = read(
        requested(list.clone(), Some(5), None)
            .stream()
            .max_items(12),
    );
    assert_eq!(items, (0..12).collect::<Vec<_>>());
    assert!(error.is_none(), "the end asked for is no error: {error:?}");
    assert_eq!(asked(&list), [(5, 0), (5, 5), (5, 10)]);
}

#[test]
fn max_items_on_a_page_boundary_asks_for_no_further_page() {
    let list = list(|limit, offset| Ok(page(offset..offset + limit, Some(true), None)));
    let (items, error) = read(
        requested(list.clone(), Some(5), None)
            .stream()
            .max_items(10),
    );
    assert_eq!(items.len(), 10);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(asked(&list), [(5, 0), (5, 5)]);
}

#[test]
fn max_items_of_zero_asks_for_nothing() {
    let list = list(|limit, offset| Ok(page(offset..offset + limit, Some(true), None)));
    let (items, error) = read(list.clone().stream().max_items(0));
    assert!(items.is_empty());
    assert!(error.is_none(), "{error:?}");
    assert!(asked(&list).is_empty());
}

#[test]
fn a_shorter_list_than_max_items_ends_as_the_list_does() {
    let list = list(|limit, offset| {
        Ok(match offset {
            0 => page(0..limit, Some(true), None),
            _ => page(offset..offset + 3, Some(false), None),
        })
    });
    let (items, error) = read(list.clone().stream().max_items(100));
    assert_eq!(items, (0..23).collect::<Vec<_>>());
    assert!(error.is_none(), "{error:?}");
}

#[test]
fn the_stream_starts_at_the_requests_own_offset_in_pages_of_its_limit() {
    let list = list(|limit, offset| {
        Ok(match offset {
            40 => page(offset..offset + limit, Some(true), None),
            _ => page(offset..offset + 2, Some(false), None),
        })
    });
    let (items, error) = read(requested(list.clone(), Some(5), Some(40)).stream());
    assert_eq!(items, (40..47).collect::<Vec<_>>());
    assert!(error.is_none(), "{error:?}");
    assert_eq!(asked(&list), [(5, 40), (5, 45)]);
}

#[test]
fn a_requested_limit_above_the_largest_page_is_an_error_naming_it() {
    let list = list(|limit, offset| Ok(page(offset..offset + limit, Some(false), None)));
    let (items, error) = read(requested(list.clone(), Some(50), None).stream());
    assert!(items.is_empty());
    let error = error.expect("an error, not a smaller page");
    assert!(error.is_invalid_request(), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("50") && text.contains("1 to 20"), "{text}");
    assert!(asked(&list).is_empty(), "nothing was asked for");
}

#[test]
fn stream_pages_of_refuses_sizes_the_api_does_not_serve() {
    for size in [0, MAX_PAGE_SIZE + 1] {
        let list = list(|limit, offset| Ok(page(offset..offset + limit, Some(false), None)));
        let (items, error) = read(list.clone().stream_pages_of(size));
        assert!(items.is_empty());
        let error = error.expect("an error, not a clamped size");
        assert!(error.is_invalid_request(), "{error:?}");
        assert!(error.to_string().contains(&size.to_string()), "{error}");
        assert!(asked(&list).is_empty());
    }
}

#[test]
fn stream_pages_of_with_another_limit_on_the_request_is_an_error() {
    let list = list(|limit, offset| Ok(page(offset..offset + limit, Some(false), None)));
    let (_, error) = read(requested(list.clone(), Some(5), None).stream_pages_of(10));
    let error = error.expect("an error: which size was meant?");
    assert!(error.is_invalid_request(), "{error:?}");
    assert!(asked(&list).is_empty());
    // The same size twice is no conflict.
    let (items, error) = read(requested(list.clone(), Some(5), None).stream_pages_of(5));
    assert_eq!(items.len(), 5);
    assert!(error.is_none(), "{error:?}");
}

#[test]
fn a_setter_that_refused_its_value_is_the_streams_error() {
    let list = FakeList {
        requested: Err("offset must be a whole number of 0 or more".to_string()),
        ..list(|limit, offset| Ok(page(offset..offset + limit, Some(false), None)))
    };
    let (items, error) = read(list.clone().stream());
    assert!(items.is_empty());
    let error = error.expect("the setter's error");
    assert!(error.is_invalid_request(), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("offset must be a whole number of 0 or more"),
        "{error}"
    );
    assert!(asked(&list).is_empty());
}

#[test]
fn a_failing_page_yields_its_error_and_ends_the_stream() {
    let list = list(|limit, offset| match offset {
        0 => Ok(page(0..limit, Some(true), None)),
        _ => Err(Error::protocol(Some("fakeList"), None, "boom")),
    });
    let (items, error) = read(list.clone().stream());
    assert_eq!(items.len(), 20);
    assert!(
        error
            .expect("the page's error")
            .to_string()
            .contains("boom")
    );
    assert_eq!(asked(&list).len(), 2);
}

#[test]
fn a_paging_summary_states_the_total() {
    assert_eq!(stated_total("1 to 20 of 45"), Some(45));
    assert_eq!(stated_total("41 to 45 of 45"), Some(45));
    assert_eq!(stated_total("No records found"), None);
    assert_eq!(stated_total("1 to 20 of many"), None);
    assert_eq!(stated_total(""), None);
}
