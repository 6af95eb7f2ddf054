//! The site as an ActivityPub actor (issue 21).

pub mod keys;
pub mod signature;
