//! Key commands. Each tab lists its commands once ([`Binding`]); the key handler, the footer hints and
//! the `?` help overlay are all built from those lists, so they cannot drift apart.

use crate::app::action::Action;
use crate::app::state::{State, Tab};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Backspace,
    Space,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        Some(match e.code {
            KeyCode::Char(' ') => Key::Space,
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Home => Key::Home,
            KeyCode::End => Key::End,
            KeyCode::Backspace => Key::Backspace,
            _ => return None,
        })
    }

    pub fn label(self) -> String {
        match self {
            Key::Char(c) => c.to_string(),
            Key::Enter => "Enter".into(),
            Key::Esc => "Esc".into(),
            Key::Tab => "Tab".into(),
            Key::BackTab => "S-Tab".into(),
            Key::Up => "↑".into(),
            Key::Down => "↓".into(),
            Key::Left => "←".into(),
            Key::Right => "→".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::Home => "Home".into(),
            Key::End => "End".into(),
            Key::Backspace => "Bksp".into(),
            Key::Space => "Space".into(),
        }
    }
}

/// One key command: the keys, what it does, the action it sends, and whether the footer shows it.
#[derive(Debug, Clone)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub desc: &'static str,
    pub action: Action,
    pub footer: bool,
}

impl Binding {
    pub fn new(keys: &[Key], desc: &'static str, action: Action) -> Binding {
        Binding {
            keys: keys.to_vec(),
            desc,
            action,
            footer: true,
        }
    }
    /// Listed in the help overlay only.
    pub fn help_only(mut self) -> Binding {
        self.footer = false;
        self
    }
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Commands that work on every tab (unless a text input has the keyboard).
pub fn global_bindings() -> Vec<Binding> {
    use Key::*;
    let mut v = vec![
        Binding::new(&[Char('?')], "help", Action::ToggleHelp),
        Binding::new(&[Char('q')], "quit", Action::Quit),
        Binding::new(&[Esc], "back / quit", Action::Back).help_only(),
        Binding::new(&[Tab], "next tab", Action::NextTab).help_only(),
        Binding::new(&[BackTab], "previous tab", Action::PrevTab).help_only(),
        Binding::new(&[Char('j'), Down], "down", Action::Down).help_only(),
        Binding::new(&[Char('k'), Up], "up", Action::Up).help_only(),
        Binding::new(&[PageDown], "page down", Action::PageDown).help_only(),
        Binding::new(&[PageUp], "page up", Action::PageUp).help_only(),
        Binding::new(&[Char('g'), Home], "first", Action::Top).help_only(),
        Binding::new(&[Char('G'), End], "last", Action::Bottom).help_only(),
        Binding::new(&[Char('h'), Left], "previous tab", Action::PrevTab).help_only(),
        Binding::new(&[Char('l'), Right], "next tab", Action::NextTab).help_only(),
    ];
    for (i, t) in crate::app::state::Tab::ALL.iter().enumerate() {
        let digit = char::from(b'1' + i as u8);
        v.push(Binding::new(&[Char(digit)], t.title(), Action::GoTab(*t)).help_only());
    }
    v
}

/// The current tab's commands (they depend on the tab's mode).
pub fn tab_bindings(state: &State) -> Vec<Binding> {
    match state.tab {
        Tab::Dashboard => crate::tabs::dashboard::commands(state),
        Tab::Models => crate::tabs::models::commands(state),
        Tab::Agents => crate::tabs::agents::commands(state),
        Tab::Budget => crate::tabs::budget::commands(state),
        Tab::Create => crate::tabs::create::commands(state),
        Tab::Notifications => crate::tabs::notifications::commands(state),
    }
}

/// Keys a text input passes on as commands; everything else is typed.
fn text_input_action(key: Key) -> Option<Action> {
    Some(match key {
        Key::Esc => Action::Back,
        Key::Enter => Action::Confirm,
        Key::Backspace => Action::Backspace,
        Key::Up => Action::Up,
        Key::Down => Action::Down,
        Key::PageUp => Action::PageUp,
        Key::PageDown => Action::PageDown,
        Key::Space => Action::InsertChar(' '),
        Key::Char(c) => Action::InsertChar(c),
        _ => return None,
    })
}

/// Turns a key press into an action for this state. Key releases and repeats-as-release are ignored.
pub fn action_for_key(state: &State, event: &KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    if event.modifiers.contains(KeyModifiers::CONTROL) {
        return match event.code {
            KeyCode::Char('c') => Some(Action::Quit),
            _ => None,
        };
    }
    let key = Key::from_event(event)?;
    if state.show_help {
        return matches!(key, Key::Esc | Key::Char('?') | Key::Char('q') | Key::Enter)
            .then_some(Action::ToggleHelp);
    }
    if state.text_input_active() {
        return text_input_action(key);
    }
    tab_bindings(state)
        .into_iter()
        .chain(global_bindings())
        .find(|b| b.keys.contains(&key))
        .map(|b| b.action)
}
