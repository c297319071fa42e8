//! The integration suite: the real server on port 0, asserted on as a reader sees it.
//! Every test runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

mod attacks;
mod cache;
mod cli;
mod crash;
mod csrf;
mod docs;
mod editorial;
mod erasure;
mod feeds;
mod helpers;
mod least_data;
mod limits;
mod mail;
mod moderation;
mod nodes;
mod operations;
mod pages;
mod pii_corpus;
mod privacy;
mod process;
mod safe_methods;
mod sanitizing;
mod schema;
mod search;
mod security;
mod smtp;
mod spam;
mod staff;
mod submission;
mod subscriptions;
mod transitions;
mod visibility;
mod wordpress;
mod xss;
mod xss_forms;
