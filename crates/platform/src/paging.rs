//! Keyset paging, the same for every list RPC. [`PageRequest::parse`] validates `page_size`
//! (0 means the default 50; above 500 or negative is `INVALID_ARGUMENT`) and decodes `page_token`,
//! an opaque base64url of the last row's sort key plus a fingerprint of the request's filters, so
//! a token is refused when reused with other filters. Pages continue after the last key rather than
//! at an offset, so rows inserted meanwhile never shift or repeat a page.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::status::Violations;

/// Page size when the request says 0.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u64 = 500;

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted on this page.
    pub size: u64,
    /// Sort key of the last row of the previous page; `None` for the first page.
    pub after: Option<String>,
    filters: String,
}

impl PageRequest {
    /// Validates `page_size` and `page_token` for a request whose filters are described by
    /// `filters` (any stable text built from the filter fields). Bad values are added to
    /// `violations` and a first-page request is returned in their place.
    pub fn parse(
        page_size: i32,
        page_token: &str,
        filters: &str,
        violations: &mut Violations,
    ) -> PageRequest {
        let filters = fingerprint(filters);
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                violations.add("page_size", "must not be negative");
                DEFAULT_PAGE_SIZE
            }
            n if n as u64 > MAX_PAGE_SIZE => {
                violations.add("page_size", format!("must be at most {MAX_PAGE_SIZE}"));
                DEFAULT_PAGE_SIZE
            }
            n => n as u64,
        };
        let after = if page_token.is_empty() {
            None
        } else {
            match decode(page_token) {
                Some((token_filters, key)) if token_filters == filters => Some(key),
                Some(_) => {
                    violations.add("page_token", "was issued for other filters");
                    None
                }
                None => {
                    violations.add("page_token", "is not a token this service issued");
                    None
                }
            }
        };
        PageRequest {
            size,
            after,
            filters,
        }
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }

    /// Trims `rows` (fetched with [`fetch_limit`](Self::fetch_limit)) to the page and returns the
    /// next page token (empty on the last page), built from `key` of the page's last row.
    pub fn finish<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> String) -> String {
        if rows.len() as u64 <= self.size {
            return String::new();
        }
        rows.truncate(self.size as usize);
        rows.last()
            .map(|last| encode(&self.filters, &key(last)))
            .unwrap_or_default()
    }
}

fn fingerprint(filters: &str) -> String {
    let digest = Sha256::digest(filters.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn encode(filters: &str, key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{filters}\n{key}"))
}

fn decode(token: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (filters, key) = text.split_once('\n')?;
    Some((filters.to_owned(), key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_default_and_are_bounded() {
        let mut v = Violations::new();
        assert_eq!(PageRequest::parse(0, "", "f", &mut v).size, 50);
        assert_eq!(PageRequest::parse(500, "", "f", &mut v).size, 500);
        assert!(v.is_empty());
        PageRequest::parse(501, "", "f", &mut v);
        PageRequest::parse(-1, "", "f", &mut v);
        let fields: Vec<&str> = v.fields().iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["page_size", "page_size"]);
    }

    #[test]
    fn tokens_continue_after_the_last_key_and_are_bound_to_their_filters() {
        let mut v = Violations::new();
        let first = PageRequest::parse(2, "", "root=HQ", &mut v);
        let mut rows = vec!["a", "b", "c"];
        let token = first.finish(&mut rows, |r| (*r).to_owned());
        assert_eq!(rows, ["a", "b"]);
        assert!(!token.is_empty());
        let second = PageRequest::parse(2, &token, "root=HQ", &mut v);
        assert_eq!(second.after.as_deref(), Some("b"));
        let mut last = vec!["c"];
        assert_eq!(second.finish(&mut last, |r| (*r).to_owned()), "");
        assert!(v.is_empty());
        PageRequest::parse(2, &token, "root=SH", &mut v);
        PageRequest::parse(2, "garbage!", "root=HQ", &mut v);
        let fields: Vec<&str> = v.fields().iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["page_token", "page_token"]);
    }
}
