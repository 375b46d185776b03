//! The web UI: server-rendered pages for people with only a browser.
//!
//! Templates are maud (`html!`): checked at compile time, every value escaped
//! unless it passes through `trusted` (the one audited door). Pages work with
//! JavaScript off; `enhance.js` only adds (a character counter, confirmations,
//! the live home timeline over `/home/live`). Sessions and
//! CSRF are in `session`; the page shell and its headers in `layout`.

pub mod assets;
pub mod auth;
pub mod embed;
pub mod instance_admin;
pub mod layout;
pub mod lists;
pub mod moderation;
pub mod parts;
pub mod people;
pub mod rules;
pub mod session;
pub mod settings;
pub mod timeline;
mod trusted;
