//! Page layout and the dashboard. (to be written)

use super::{Req, Resp, WebCtx};
use maud::html;

pub fn handle(_ctx: &WebCtx, _req: &Req) -> Option<Resp> {
    None
}

pub fn not_found(req: &Req) -> Resp {
    Resp::html(
        404,
        html! { h1 { "Not found" } p { "Nothing lives at " code { (req.path) } "." } },
    )
}
