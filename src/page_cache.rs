//! Rendered public pages, kept per node and keyed on the content version: the newest content
//! event in the outbox (every change the public can see writes one, in its transaction; mail
//! rows change no page) and the newest row the search
//! index has applied. Any publication, withdrawal or edit changes the version, so a cached page is
//! never older than the database it came from; pages that differ per visitor or depend on the
//! clock (forms, feeds with their cooling-off, the sitemap, transparency) are not cached.
//!
//! The newest outbox id is held in memory so that a cached page costs no query. It is refreshed
//! after every write request this node answers (before the response leaves, so the writer's next
//! page is already new) and by a watcher every `WATCH` for writes made by other nodes, the
//! scheduler or the command line. Outbox ids become visible in order (see `Outbox::publish`), so
//! the newest id alone says whether anything changed.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::web::{self, Bytes};

use crate::db::DbPool;
use crate::models::outbox::Outbox;

/// How much the cache holds, counting each page with room for its compressed copy. Search pages
/// are as many as queries; beyond this, pages of older versions go first, then any.
const BUDGET: usize = 32 * 1024 * 1024;
/// How often a node looks for content changed elsewhere.
pub const WATCH: Duration = Duration::from_millis(100);

pub type Version = (i64, i64);

pub struct Page {
    version: Version,
    /// For pages that also depend on the clock.
    expires: Option<Instant>,
    headers: HeaderMap,
    body: Bytes,
    /// Compressed on the first request that accepts it, once per version.
    gzip: OnceLock<Option<Bytes>>,
}

impl Page {
    pub fn new(
        version: Version,
        expires: Option<Instant>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        Page {
            version,
            expires,
            headers,
            body,
            gzip: OnceLock::new(),
        }
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    fn cost(&self, key: &str) -> usize {
        key.len() + self.body.len() + self.body.len() / 3 + 512
    }

    pub fn response(&self, accepts_gzip: bool) -> HttpResponse {
        let gzip = if accepts_gzip {
            self.gzip.get_or_init(|| gzip(&self.body)).clone()
        } else {
            None
        };
        let mut res = HttpResponse::with_body(StatusCode::OK, BoxBody::new(Bytes::new()));
        *res.headers_mut() = self.headers.clone();
        let body = match gzip {
            Some(compressed) => {
                res.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                compressed
            }
            None => self.body.clone(),
        };
        res.set_body(BoxBody::new(body))
    }
}

fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

/// Whether the client takes gzip (a plain `gzip` or `*` without `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

#[derive(Default)]
struct Pages {
    map: HashMap<String, Arc<Page>>,
    bytes: usize,
}

pub struct PageCache {
    pages: RwLock<Pages>,
    newest: AtomicI64,
}

impl PageCache {
    pub fn new(newest: i64) -> Self {
        PageCache {
            pages: RwLock::default(),
            newest: AtomicI64::new(newest),
        }
    }

    /// The content version a page is cached under: the newest outbox event this node has seen,
    /// and the newest one its search index has applied. An index that applied an event the
    /// watcher has not seen yet proves it committed, so pages rendered then already show it:
    /// counting it as seen keeps the watcher's catching up from emptying the cache a second time
    /// (a page cached a moment before would miss, and a search page count against the limit).
    pub fn version(&self, search_applied: Option<i64>) -> Version {
        let applied = search_applied.unwrap_or(-1);
        (self.newest.load(Ordering::Acquire).max(applied), applied)
    }

    pub fn get(&self, key: &str, version: Version) -> Option<Arc<Page>> {
        let pages = self.pages.read().unwrap_or_else(|p| p.into_inner());
        pages
            .map
            .get(key)
            .filter(|p| p.version == version && p.expires.is_none_or(|e| Instant::now() < e))
            .cloned()
    }

    pub fn put(&self, key: String, page: Page) {
        let mut pages = self.pages.write().unwrap_or_else(|p| p.into_inner());
        let version = page.version;
        pages.bytes += page.cost(&key);
        if let Some(old) = pages.map.insert(key.clone(), Arc::new(page)) {
            pages.bytes -= old.cost(&key);
        }
        if pages.bytes > BUDGET {
            pages.map.retain(|_, p| p.version == version);
            pages.bytes = pages.map.iter().map(|(k, p)| p.cost(k)).sum();
        }
        while pages.bytes > BUDGET {
            let Some(k) = pages.map.keys().find(|k| **k != key).cloned() else {
                break;
            };
            if let Some(p) = pages.map.remove(&k) {
                pages.bytes -= p.cost(&k);
            }
        }
    }

    /// Reads the newest outbox id; a failure keeps the version known so far.
    pub async fn refresh(&self, pool: DbPool) {
        let newest = web::block(move || -> anyhow::Result<i64> {
            let mut conn = pool.get()?;
            Ok(Outbox::max_content_id(&mut conn)?)
        })
        .await;
        match newest {
            Ok(Ok(id)) => {
                self.newest.fetch_max(id, Ordering::AcqRel);
            }
            Ok(Err(e)) => {
                tracing::warn!(error = format!("{e:#}"), "content version unavailable")
            }
            Err(e) => tracing::warn!(error = %e, "content version unavailable"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BUDGET, Page, PageCache, accepts_gzip};
    use actix_web::http::header::{ACCEPT_ENCODING, HeaderMap, HeaderValue};
    use actix_web::web::Bytes;
    use std::sync::OnceLock;

    fn page(version: (i64, i64), size: usize) -> Page {
        Page {
            version,
            expires: None,
            headers: HeaderMap::new(),
            body: Bytes::from(vec![b'x'; size]),
            gzip: OnceLock::new(),
        }
    }

    #[test]
    fn the_cache_stays_within_its_budget_and_drops_old_versions_first() {
        let cache = PageCache::new(0);
        for i in 0..100 {
            cache.put(format!("/search?q={i}"), page((1, 1), 1 << 20));
            assert!(cache.pages.read().unwrap().bytes <= BUDGET);
        }
        assert!(cache.get("/search?q=99", (1, 1)).is_some());
        let held = cache.pages.read().unwrap().map.len();
        assert!(held >= 20, "{held} pages of 1 MiB kept");

        cache.put("/".to_owned(), page((2, 1), 1000));
        for i in 0..100 {
            cache.put(format!("/stories?page={i}"), page((2, 1), 1 << 19));
        }
        let pages = cache.pages.read().unwrap();
        assert!(pages.bytes <= BUDGET);
        assert!(pages.map.values().all(|p| p.version == (2, 1)));
        let recounted: usize = pages.map.iter().map(|(k, p)| p.cost(k)).sum();
        assert_eq!(recounted, pages.bytes);
    }

    #[test]
    fn gzip_only_when_the_client_takes_it() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_static(v));
            accepts_gzip(&h)
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("br, deflate"));
        assert!(!with("gzip;q=0"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
