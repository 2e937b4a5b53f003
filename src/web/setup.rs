//! (to be written)

use super::{Req, Resp, WebCtx};

pub fn handle(_ctx: &WebCtx, _req: &Req) -> Option<Resp> {
    None
}
