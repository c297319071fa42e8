//! The query parameters shared by listings of stories: filters and the page number.

use actix_web::HttpRequest;
use serde::Deserialize;

use crate::domain::{HowMet, LengthBucket, TagName};
use crate::error::AppError;
use crate::models::story::StoryFilter;
use crate::models::{PAGE_SIZE, page_count};
use crate::views::encode;

#[derive(Deserialize, Default)]
struct RawQuery {
    length: Option<String>,
    how_met: Option<String>,
    tag: Option<String>,
    page: Option<String>,
}

/// A listing request: which stories, which page.
pub struct ListingQuery {
    pub filter: StoryFilter,
    pub page: i64,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ListingQuery {
    /// Parses the query string; a value we cannot use is a 400 with a message saying which.
    pub fn parse(req: &HttpRequest) -> Result<Self, AppError> {
        let raw: RawQuery = serde_urlencoded::from_str(req.query_string())
            .map_err(|_| AppError::bad_request("URLの検索条件を読み取れませんでした。"))?;
        let bad_filter = |e: crate::domain::Invalid| AppError::bad_request(e.0);
        let filter = StoryFilter {
            length: present(&raw.length)
                .map(LengthBucket::parse)
                .transpose()
                .map_err(bad_filter)?,
            how_met: present(&raw.how_met)
                .map(HowMet::parse)
                .transpose()
                .map_err(bad_filter)?,
            tag: present(&raw.tag)
                .map(TagName::parse)
                .transpose()
                .map_err(bad_filter)?,
        };
        let page = match present(&raw.page) {
            None => 1,
            Some(p) => p
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or_else(|| AppError::bad_request("ページ番号が正しくありません。"))?,
        };
        Ok(ListingQuery { filter, page })
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * PAGE_SIZE
    }

    /// Fails with 404 for a page past the end, as for any page that does not exist.
    pub fn check_page(&self, total: i64) -> Result<i64, AppError> {
        let pages = page_count(total);
        if self.page > pages {
            Err(AppError::NotFound)
        } else {
            Ok(pages)
        }
    }

    /// The filters as a query string, without the page, for links that keep them.
    pub fn filter_query(&self, include_tag: bool) -> String {
        let mut params = Vec::new();
        if let Some(l) = self.filter.length {
            params.push(format!("length={}", l.as_str()));
        }
        if let Some(h) = self.filter.how_met {
            params.push(format!("how_met={}", h.as_str()));
        }
        if let Some(t) = self.filter.tag.as_ref().filter(|_| include_tag) {
            params.push(format!("tag={}", encode(t.as_ref())));
        }
        params.join("&")
    }
}
