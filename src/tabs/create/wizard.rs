//! Tab 5's own state: the create wizard's step, category, recommended pick, chosen model, skills and
//! name, and the errors each step shows.

use crate::app::state::AppData;
use crate::domain::base::roles::Role;
use crate::domain::scoring::Pick;
use crate::widgets::model_picker::{ModelFilters, ModelPicker};
use crate::widgets::skill_selector::SkillSelector;
use ratatui_textarea::TextArea;

/// A wizard category: a role, or a custom role with a category template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Role(Role),
    Template(&'static str),
}

impl Category {
    pub fn all() -> Vec<Category> {
        let mut v: Vec<Category> = Role::ALL.iter().map(|r| Category::Role(*r)).collect();
        v.extend(
            crate::domain::agents::skills::CATEGORIES
                .iter()
                .map(|c| Category::Template(c)),
        );
        v
    }
    pub fn role(self) -> Role {
        match self {
            Category::Role(r) => r,
            Category::Template(_) => Role::Custom,
        }
    }
    pub fn template(self) -> Option<&'static str> {
        match self {
            Category::Role(_) => None,
            Category::Template(t) => Some(t),
        }
    }
    pub fn label(self) -> String {
        match self {
            Category::Role(r) => r.title().to_string(),
            Category::Template(t) => format!("Custom · {t} template"),
        }
    }
    pub fn summary(self) -> &'static str {
        match self {
            Category::Role(Role::Pm) => "plans, breaks work down, reports status",
            Category::Role(Role::Engineer) => "writes, tests and reviews code",
            Category::Role(Role::Hermes) => "the always-on Hermes agent: memory, search, cron",
            Category::Role(Role::Creative) => "writing, ideas, tone",
            Category::Role(Role::Research) => "long-context reading and synthesis",
            Category::Role(Role::Custom) => "your own mix of skills",
            Category::Template(t) => crate::domain::agents::skills::category(t)
                .map(|c| c.summary)
                .unwrap_or(""),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WizardStep {
    Category,
    Model,
    Skills,
    Name,
    Confirm,
}

impl WizardStep {
    pub const ALL: [WizardStep; 5] = [
        WizardStep::Category,
        WizardStep::Model,
        WizardStep::Skills,
        WizardStep::Name,
        WizardStep::Confirm,
    ];
    pub fn title(self) -> &'static str {
        match self {
            WizardStep::Category => "Category",
            WizardStep::Model => "Model",
            WizardStep::Skills => "Skills",
            WizardStep::Name => "Name",
            WizardStep::Confirm => "Confirm",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Wizard {
    pub step: WizardStep,
    pub categories: Vec<Category>,
    pub category_index: usize,
    /// The scorer's recommendation for the chosen category.
    pub pick: Option<Pick>,
    /// The model the agent will get (the pick, or what the user chose in the picker).
    pub model: Option<String>,
    pub picking_model: bool,
    pub picker: ModelPicker,
    pub skills: SkillSelector,
    pub name: TextArea<'static>,
    pub name_error: Option<String>,
    /// Why the model under the picker cursor (or the chosen model) cannot be used for the role.
    pub model_error: Option<String>,
    /// Why the domain refused to create the agent (shown on the Confirm step).
    pub create_error: Option<String>,
    /// Waiting for the domain to create the agent.
    pub submitting: bool,
    /// Team mode: the host the agent runs on (`None` = this one).
    pub host: Option<String>,
}

impl Wizard {
    pub fn new(data: &AppData) -> Wizard {
        Wizard {
            step: WizardStep::Category,
            categories: Category::all(),
            category_index: 0,
            pick: None,
            model: None,
            picking_model: false,
            picker: ModelPicker::new(
                &data.models,
                ModelFilters {
                    free_only: true,
                    ..Default::default()
                },
            ),
            skills: SkillSelector::new(Vec::new()),
            name: new_name_area(),
            name_error: None,
            model_error: None,
            create_error: None,
            submitting: false,
            host: None,
        }
    }

    pub fn category(&self) -> Category {
        self.categories
            .get(self.category_index)
            .copied()
            .unwrap_or(Category::Role(Role::Custom))
    }

    /// True when typed characters go to the name field or the model search.
    pub fn text_input_active(&self) -> bool {
        self.picking_model || (self.step == WizardStep::Name && !self.submitting)
    }

    pub fn name_text(&self) -> String {
        self.name.lines().join("").trim().to_string()
    }
}

pub fn new_name_area() -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_placeholder_text("e.g. ada");
    t.set_cursor_line_style(ratatui::style::Style::default());
    t
}
