//! Sample content for `engawa serve --demo`, imported through the same path as `engawa import`.

pub mod synthetic;

use crate::db::DbConn;
use crate::import::{self, Imported};
use crate::models::guide::Guide;
use crate::models::story::Story;

const CONTENT: &str = include_str!("content.jsonl");

/// Imports the demo content when the database holds no guide and no story; otherwise does nothing.
pub fn seed_if_empty(conn: &mut DbConn) -> anyhow::Result<Option<Imported>> {
    crate::db::write_transaction(conn, |conn| {
        if Guide::count_all(conn)? > 0 || Story::count_all(conn)? > 0 {
            return Ok(None);
        }
        Ok(Some(import::import_str(conn, CONTENT)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_content_is_valid() {
        let items = import::parse(CONTENT).unwrap_or_else(|errors| {
            panic!("demo content has bad lines: {errors:?}");
        });
        let guides = items
            .iter()
            .filter(|(_, i)| matches!(i, import::Item::Guide(_)))
            .count();
        assert!(guides >= 3);
        assert!(items.len() - guides >= 12);
    }
}
