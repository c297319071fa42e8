//! Engawa: guides and anonymous, moderated stories, served as plain HTML.

pub mod client;
pub mod conditional;
pub mod config;
pub mod csrf;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod feeds;
pub mod import;
pub mod mail;
pub mod markdown;
pub mod metrics;
pub mod models;
pub mod page_cache;
pub mod passwords;
pub mod pii;
pub mod rate_limit;
pub mod routes;
pub mod scheduler;
pub mod search;
pub mod secrets;
pub mod staff;
pub mod startup;
pub mod views;
