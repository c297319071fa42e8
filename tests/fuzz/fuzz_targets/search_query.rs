#![no_main]
//! The search words: any input gives tokens without panicking, and every word finds itself: each
//! of its query tokens is among the tokens the same text gets in a document, at the same
//! position (otherwise a story could not be found by a word it contains).

use engawa::search::analyzer::{document_tokens, query_tokens};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for word in text.split_whitespace().take(20) {
        let indexed: Vec<(usize, String)> = document_tokens(word)
            .into_iter()
            .map(|t| (t.position, t.text))
            .collect();
        for token in query_tokens(word) {
            assert!(
                indexed.contains(&token),
                "{word:?}: {token:?} not in {indexed:?}"
            );
        }
    }
});
