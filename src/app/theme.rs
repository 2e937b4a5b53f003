//! The TUI's styles by meaning. Tabs and widgets ask the theme for "accent", "warn", "muted", … and
//! never name a colour; `Theme::plain()` (chosen when NO_COLOR is set) has the same attributes (bold,
//! reverse, dim) and no colour at all, so every screen stays readable on a monochrome terminal.

use crate::domain::agents::gateway::GatewayState;
use crate::domain::budget::Level;
use crate::domain::watch::agent_check::CheckState;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Focus and keys: focused borders, key names, the current step, a value the user chose.
    pub accent: Style,
    /// Something is fine or done: running, ready, a passing model, a chosen item.
    pub ok: Style,
    /// Needs attention: a note, an available upgrade, a warning line.
    pub warn: Style,
    /// Failed or refused: errors, a stopped gateway, the budget at its limit.
    pub danger: Style,
    /// Secondary text: hints, empty values, separators.
    pub muted: Style,
    /// Supporting text: descriptions and reasons beside a bold label.
    pub subtle: Style,
    /// The characters a fuzzy search matched.
    pub matched: Style,
    /// The selected row of a list or table.
    pub selected: Style,
    /// The "nxr" badge at the left of the tab bar.
    pub brand: Style,
}

impl Theme {
    /// The colour theme.
    pub const fn colour() -> Theme {
        Theme {
            accent: Style::new().fg(Color::Cyan),
            ok: Style::new().fg(Color::Green),
            warn: Style::new().fg(Color::Yellow),
            danger: Style::new().fg(Color::Red),
            muted: Style::new().fg(Color::DarkGray),
            subtle: Style::new().fg(Color::Gray),
            matched: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            brand: Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        }
    }

    /// No colour, attributes only (NO_COLOR).
    pub const fn plain() -> Theme {
        Theme {
            accent: Style::new(),
            ok: Style::new(),
            warn: Style::new(),
            danger: Style::new(),
            muted: Style::new(),
            subtle: Style::new(),
            matched: Style::new().add_modifier(Modifier::BOLD),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            brand: Style::new().add_modifier(Modifier::BOLD),
        }
    }

    /// The plain theme when NO_COLOR holds a non-empty value (no-color.org), else the colour one.
    pub fn for_no_color(value: Option<&std::ffi::OsStr>) -> Theme {
        if value.is_some_and(|v| !v.is_empty()) {
            Theme::plain()
        } else {
            Theme::colour()
        }
    }

    /// The theme the environment asks for.
    pub fn from_env() -> Theme {
        Theme::for_no_color(std::env::var_os("NO_COLOR").as_deref())
    }

    /// A budget level: ok below 70 %, warn from 70 %, danger from 90 %.
    pub fn level(&self, level: Level) -> Style {
        match level {
            Level::Ok => self.ok,
            Level::Warn => self.warn,
            Level::High | Level::Exhausted => self.danger,
        }
    }

    /// An agent's check state, the same on every tab.
    pub fn check(&self, state: CheckState) -> Style {
        match state {
            CheckState::Ready => self.ok,
            CheckState::NeedsKey => self.warn,
            CheckState::Broken => self.danger,
        }
    }

    /// The gateway's state.
    pub fn gateway(&self, state: GatewayState) -> Style {
        match state {
            GatewayState::Running => self.ok,
            GatewayState::Stopped => self.danger,
            GatewayState::NeverStarted => self.muted,
        }
    }
}

impl Default for Theme {
    fn default() -> Theme {
        Theme::colour()
    }
}
