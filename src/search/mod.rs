//! Japanese full-text search: the analyzer, the index, snippets, and the indexer that keeps the
//! index in step with the database through the outbox.

pub mod analyzer;
mod exclusion;
pub mod facets;
pub mod index;
pub mod indexer;
mod phrase;
pub mod query;
mod segments;
pub mod snippet;
pub mod suggest;
pub mod synonym_cache;

pub use index::{Hit, Kind, SearchIndex, SearchRequest, SearchResults};
