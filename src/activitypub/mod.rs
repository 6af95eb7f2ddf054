//! The site as an ActivityPub actor (issue 21).
