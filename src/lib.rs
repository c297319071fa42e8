//! Engawa: guides and anonymous, moderated stories, served as plain HTML.

pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod import;
pub mod markdown;
pub mod models;
pub mod routes;
pub mod startup;
pub mod views;
