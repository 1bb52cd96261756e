//! Paging of list calls, the same for every service: a page size chosen within bounds, and a
//! next-page token only when a page came back full. What a token holds is each service's own.

use sentinel_contract::common::v1::{PageRequest, PageResponse};

/// Entries in a page when the client asks for no particular size.
pub const DEFAULT_SIZE: u32 = 100;
/// Entries in a page at most, whatever the client asks for.
pub const MAX_SIZE: u32 = 1_000;

/// A client's page request, bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub size: u32,
    /// The token of the previous page's answer; empty for the first page.
    pub token: String,
}

impl Page {
    pub fn of(request: Option<PageRequest>) -> Page {
        let request = request.unwrap_or_default();
        Page {
            size: match request.page_size {
                0 => DEFAULT_SIZE,
                n => n.min(MAX_SIZE),
            },
            token: request.page_token,
        }
    }

    /// The answer's page: the token of the last of `entries` when the page is full (there
    /// may be more), none otherwise.
    pub fn next<T>(&self, entries: &[T], token: impl FnOnce(&T) -> String) -> PageResponse {
        let next_page_token = match entries.last() {
            Some(last) if entries.len() == self.size as usize => token(last),
            _ => String::new(),
        };
        PageResponse { next_page_token }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_bounded_and_full_pages_point_further() {
        let ask = |page_size| {
            Page::of(Some(PageRequest {
                page_size,
                page_token: String::new(),
            }))
        };
        assert_eq!(Page::of(None).size, DEFAULT_SIZE);
        assert_eq!(ask(0).size, DEFAULT_SIZE);
        assert_eq!(ask(7).size, 7);
        assert_eq!(ask(50_000).size, MAX_SIZE);
        let page = ask(2);
        assert_eq!(page.next(&[1, 2], |n| n.to_string()).next_page_token, "2");
        assert_eq!(page.next(&[1], |n| n.to_string()).next_page_token, "");
        assert_eq!(page.next::<u32>(&[], |n| n.to_string()).next_page_token, "");
    }
}
