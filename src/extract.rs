//! Reading web pages (to be written): charset, title, OpenGraph, JSON-LD, readable text.

use crate::model::Post;
use crate::platforms::Response;
use url::Url;

/// A normalised post for any web page.
pub fn page_post(url: &Url, _resp: &Response) -> Post {
    let id = crate::platforms::web::platform_id(url);
    Post::new("web", &id, url.as_str())
}
