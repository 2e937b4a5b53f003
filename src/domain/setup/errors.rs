//! The hints of any error the domain returns, found along its chain of causes: each domain error type
//! that carries hints is listed once here, so a surface needs only the error it was given.

use crate::domain::agents::AgentError;
use crate::domain::agents::gateway_control::GatewayError;
use crate::domain::base::hint::{Hint, Hinted};
use crate::domain::budget::BudgetError;
use crate::domain::budget::queue::QueueError;
use crate::domain::catalog::openrouter::OpenRouterError;
use crate::domain::onboarding::OnboardingError;
use crate::domain::paperclip::client::PaperclipError;
use crate::domain::paperclip::sync::SyncError;
use crate::domain::scoring::rescore::ScoringError;
use crate::domain::setup::service::ServiceError;
use crate::domain::setup::settings::SettingError;
use crate::domain::store::StoreError;
use crate::domain::upgrade::ApplyError;
use crate::domain::upgrade::UpgradeError;
use crate::domain::upgrade::recommend::RecommendError;
use crate::domain::view::model_switch::SwitchError;
use std::error::Error;

/// Every hint of `e` and of its causes, first seen first, without repeats.
pub fn hints_of(e: &(dyn Error + 'static)) -> Vec<Hint> {
    let mut out: Vec<Hint> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        for h in own_hints(err) {
            if !out.contains(&h) {
                out.push(h);
            }
        }
        next = err.source();
    }
    out
}

/// The hints of one error (not of its causes), when it is a domain error type that has some.
fn own_hints(e: &(dyn Error + 'static)) -> Vec<Hint> {
    macro_rules! first_of {
        ($($t:ty),* $(,)?) => {
            $(if let Some(x) = e.downcast_ref::<$t>() {
                return x.hints();
            })*
        };
    }
    first_of!(
        AgentError,
        ApplyError,
        BudgetError,
        GatewayError,
        OnboardingError,
        OpenRouterError,
        PaperclipError,
        QueueError,
        RecommendError,
        ScoringError,
        ServiceError,
        SettingError,
        StoreError,
        SwitchError,
        SyncError,
        UpgradeError,
    );
    Vec::new()
}
